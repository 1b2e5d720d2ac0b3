// fuse-matmul-residual: local:FusedMatMul with no activation whose only reader adds a value of the same shape (a
// transformer's residual connection: x + attention output, x + MLP output) takes that value as a fourth input Z:
// Y = A·B + bias + Z. ocellus's GEMM adds Z as it writes each tile, so the sum costs no pass of its own. Shaped
// pass (after fuse-matmul-add and fuse-matmul-activation; Z must match exactly, not broadcast).

import type { Node } from '../ir/graph.js';
import { GraphIndex } from '../ir/graph-index.js';
import { residualAdd } from '../ir/match.js';
import type { Pass } from './types.js';

export const fuseMatMulResidual: Pass = {
  name: 'fuse-matmul-residual',
  run(g, ctx) {
    const idx = new GraphIndex(g, ctx.infos);
    let count = 0;
    for (const mm of g.nodes) {
      if (!idx.has(mm)) continue;
      if (mm.opType !== 'FusedMatMul' || mm.domain !== 'local' || mm.inputs.length > 3) continue;
      const act = mm.attrs['activation']?.value;
      if (act !== undefined && act !== '' && act !== 'linear') continue;
      const m = residualAdd(idx, mm.outputs[0]!);
      if (!m) continue;
      const [a, b, bias] = mm.inputs;
      idx.replace([mm, m.add], {
        ...mm, name: `${mm.name}/residual`, inputs: [a!, b!, bias ?? '', m.z], outputs: [m.add.outputs[0]!],
      } satisfies Node);
      count++;
    }
    idx.commit();
    return count;
  },
};
