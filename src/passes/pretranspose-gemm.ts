// pretranspose-gemm: a Gemm whose B is a constant matrix with transB=1 (how PyTorch writes every Linear layer)
// gets B transposed once at load and transB=0, so the kernel takes tfjs-wasm's XNNPACK path (which only handles
// untransposed operands) instead of a naive loop on every run. transA with a constant A likewise.

import type { ConstTensor, Graph, Node } from '../ir/graph.js';
import { GraphIndex } from '../ir/graph-index.js';
import type { Pass } from './types.js';

function transpose2d(t: ConstTensor): ConstTensor {
  const [r, c] = t.dims as [number, number];
  const src = t.data as Float32Array;
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = src[i * c + j]!;
  return { dtype: t.dtype, dims: [c, r], data: out };
}

/** Replaces input `i` of `n` by its transposed constant (shared when several Gemms read the same weight). */
function transposeInput(g: Graph, idx: GraphIndex, n: Node, i: number, done: Map<string, string>): void {
  const name = n.inputs[i]!;
  let t = done.get(name);
  if (!t) {
    t = idx.fresh(`${name}_transposed`);
    g.initializers.set(t, transpose2d(g.initializers.get(name)!));
    done.set(name, t);
  }
  idx.setInputs(n, n.inputs.map((v, k) => (k === i ? t : v)));
  if (!idx.readerCount(name) && !idx.isOutput(name)) g.initializers.delete(name);
}

function constMatrix(g: Graph, name: string | undefined): boolean {
  const t = name ? g.initializers.get(name) : undefined;
  return !!t && t.dims.length === 2 && t.data instanceof Float32Array;
}

export const pretransposeGemm: Pass = {
  name: 'pretranspose-gemm',
  run(g) {
    let changes = 0;
    const done = new Map<string, string>();
    const idx = new GraphIndex(g);
    for (const n of g.nodes) {
      if (n.domain !== '' || n.opType !== 'Gemm') continue;
      for (const [i, attr] of [[1, 'transB'], [0, 'transA']] as const) {
        const a = n.attrs[attr];
        if (a?.type !== 'int' || a.value !== 1 || !constMatrix(g, n.inputs[i])) continue;
        transposeInput(g, idx, n, i, done);
        n.attrs = { ...n.attrs, [attr]: { type: 'int', value: 0 } };
        changes++;
      }
    }
    return changes;
  },
};
