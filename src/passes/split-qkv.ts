// split-qkv: the packed q/k/v projection as Swin (and timm ViTs) export it —
//   x [B, T, S·H·D] → Reshape [B, T, S, H, D] → Transpose [2, 0, 3, 1, 4] → Gather(axis 0, i) for each of q, k, v
// — moves a 5-D tensor through a general transpose (tfjs-wasm's slowest kind: ~100 ms for Swin-T's first stage at
// one thread). Each Gather i becomes Slice(x, last axis, i·H·D … (i+1)·H·D) → Reshape [B, T, H, D] → Transpose
// [0, 2, 1, 3] (composed with a Transpose that is the Gather's only reader, as K's [0, 1, 3, 2]): contiguous copies
// and the 4-D head layout fuse-attention knows. Shaped pass (the Reshape target and indices are folded constants).

import { intAttr, samePerm } from '../ir/attrs.js';
import type { ConstTensor, Node } from '../ir/graph.js';
import { GraphIndex } from '../ir/graph-index.js';
import { transposeNode } from '../ir/transpose.js';
import type { Pass } from './types.js';

const PACKED_PERM = [2, 0, 3, 1, 4];
const HEADS_PERM = [0, 2, 1, 3];

const int64 = (values: number[]): ConstTensor => ({ dtype: 'int64', dims: [values.length], data: BigInt64Array.from(values, v => BigInt(v)) });

interface Match { nodes: Node[]; x: string; b: number; t: number; h: number; d: number; gathers: { node: Node; i: number; perm?: Node }[] }

function match(idx: GraphIndex, r: Node): Match | undefined {
  const x = r.inputs[0]!;
  const xs = idx.shape(x), ys = idx.shape(r.outputs[0]);
  if (!xs || !ys || xs.length !== 3 || ys.length !== 5) return undefined;
  const [b, t, s, h, d] = ys as [number, number, number, number, number];
  if (xs[0] !== b || xs[1] !== t || xs[2] !== s * h * d || idx.isOutput(r.outputs[0]!)) return undefined;
  const tr = idx.onlyReader(r.outputs[0]!, 'Transpose');
  if (!tr || !samePerm(tr, PACKED_PERM) || idx.isOutput(tr.outputs[0]!)) return undefined;
  const readers = idx.readers(tr.outputs[0]!);
  const gathers: Match['gathers'] = [];
  for (const g of readers) {
    if (g.opType !== 'Gather' || g.domain !== '' || g.inputs[0] !== tr.outputs[0] || intAttr(g, 'axis', 0) !== 0) return undefined;
    const ic = idx.constant(g.inputs[1]);
    if (!ic || ic.dims.length !== 0) return undefined;
    let i = Number((ic.data as ArrayLike<number | bigint>)[0]);
    if (i < 0) i += s;
    if (!(i >= 0 && i < s)) return undefined;
    const out = g.outputs[0]!;
    const next = idx.isOutput(out) ? undefined : idx.onlyReader(out, 'Transpose');
    gathers.push({ node: g, i, perm: next && (next.domain === '' ? next : undefined) });
  }
  return gathers.length ? { nodes: [r, tr], x, b, t, h, d, gathers } : undefined;
}

export const splitQkv: Pass = {
  name: 'split-qkv',
  run(g, ctx) {
    const idx = new GraphIndex(g, ctx.infos);
    let count = 0;
    for (const r of g.nodes) {
      if (!idx.has(r) || r.opType !== 'Reshape' || r.domain !== '') continue;
      const m = match(idx, r);
      if (!m) continue;
      const hd = m.h * m.d;
      const axes = idx.fresh(`${r.name}_split_axes`), shape = idx.fresh(`${r.name}_split_heads`);
      g.initializers.set(axes, int64([-1]));
      g.initializers.set(shape, int64([m.b, m.t, m.h, m.d]));
      for (const { node, i, perm } of m.gathers) {
        const base = node.name || `${r.name}_${i}`;
        const starts = idx.fresh(`${base}_starts`), ends = idx.fresh(`${base}_ends`);
        g.initializers.set(starts, int64([i * hd]));
        g.initializers.set(ends, int64([(i + 1) * hd]));
        const sliced = idx.fresh(`${base}_slice`), heads = idx.fresh(`${base}_heads`);
        const p = perm?.attrs['perm']?.type === 'ints' ? (perm.attrs['perm'].value as number[]) : undefined;
        const composed = p && p.length === 4 ? p.map(k => HEADS_PERM[k]!) : undefined;
        const last = composed ? perm! : node;
        idx.insertAfter(last, [
          { name: idx.fresh(`${base}_slice`), opType: 'Slice', domain: '', inputs: [m.x, starts, ends, axes], outputs: [sliced], attrs: {} },
          { name: idx.fresh(`${base}_reshape`), opType: 'Reshape', domain: '', inputs: [sliced, shape], outputs: [heads], attrs: {} },
          transposeNode(idx.fresh(`${base}_transpose`), heads, last.outputs[0]!, composed ?? HEADS_PERM),
        ]);
        idx.remove(node);
        if (composed) idx.remove(perm!);
      }
      for (const n of m.nodes) idx.remove(n);
      count++;
    }
    if (count) idx.removeDead();
    idx.commit();
    return count;
  },
};
