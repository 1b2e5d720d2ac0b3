// fuse-matmul-activation: local:FusedMatMul with no activation whose only reader is an op whose definition's
// `activation` trait is relu or gelu (Relu, local:Gelu, Clip(0, ∞): kernels/types.ts, through ctx.facts) takes it
// as its `activation` (ViT's MLP: MatMul + bias + GELU). ocellus's GEMM applies it to each block of the product while
// the block is in cache; on tfjs the kernel applies it after the product. Shaped pass (after fuse-gelu and
// fuse-matmul-add, which make the two nodes).

import type { Node } from '../ir/graph.js';
import { GraphIndex } from '../ir/graph-index.js';
import type { Pass } from './types.js';

/** The activations the GEMM applies (kernels/gemm.ts). */
const GEMM_ACTIVATIONS: readonly string[] = ['relu', 'gelu'];

export const fuseMatMulActivation: Pass = {
  name: 'fuse-matmul-activation',
  run(g, ctx) {
    const idx = new GraphIndex(g, ctx.infos);
    let count = 0;
    for (const mm of g.nodes) {
      if (!idx.has(mm)) continue;
      if (mm.opType !== 'FusedMatMul' || mm.domain !== 'local') continue;
      const current = mm.attrs['activation']?.value;
      if (current !== undefined && current !== '' && current !== 'linear') continue;
      const reader = idx.onlyReader(mm.outputs[0]!);
      const kind = reader && ctx.facts.activation(reader, g.initializers)?.kind;
      const activation = kind && GEMM_ACTIVATIONS.includes(kind) ? kind : undefined;
      if (!reader || !activation || reader.inputs[0] !== mm.outputs[0]) continue;
      idx.replace([mm, reader], {
        ...mm, name: `${mm.name}/${activation}`, outputs: [reader.outputs[0]!],
        attrs: { ...mm.attrs, activation: { type: 'string', value: activation } },
      } satisfies Node);
      count++;
    }
    idx.commit();
    return count;
  },
};
