// fuse-attention: scaled dot-product attention as the torch exports write it, matched from its Softmax outwards,
// becomes one local:Attention(q, k, v). Two head layouts (every shape checked against the plan's types):
//   'bnc' (HF ViT):  x [B,N,C] → Reshape [B,N,H,D] → Transpose [0,2,1,3] (K: [0,2,3,1]) … → Transpose [0,2,1,3] → Reshape [B,N,C]
//   'nbc' (torch nn.MultiheadAttention): x [N,B,C] → Reshape [N,B·H,D] → Transpose [1,0,2] (K: [1,2,0]) … → Transpose [1,0,2]
// with a scalar Div/Mul on the scores or on Q. Shaped pass: head count and size come from the folded Reshape targets.

import type { Node } from '../ir/graph.js';
import { intAttr, samePerm, scalarOf } from '../ir/attrs.js';
import { GraphIndex } from '../ir/graph-index.js';
import { isFloatInfo, sameShape } from '../ir/match.js';
import type { Pass } from './types.js';

type Layout = 'bnc' | 'nbc';
const PERMS: Record<Layout, { qv: number[]; k: number[]; out: number[] }> = {
  bnc: { qv: [0, 2, 1, 3], k: [0, 2, 3, 1], out: [0, 2, 1, 3] },
  nbc: { qv: [1, 0, 2], k: [1, 2, 0], out: [1, 0, 2] },
};

export const fuseAttention: Pass = {
  name: 'fuse-attention',
  run(g, ctx) {
    const idx = new GraphIndex(g, ctx.infos);
    const opset = ctx.opsets.get('') ?? 0;
    let count = 0;
    for (const sm of g.nodes) {
      if (!idx.has(sm)) continue;
      if (sm.opType !== 'Softmax' || sm.domain !== '') continue;
      const m = matchAttention(idx, sm, opset);
      if (!m) continue;
      const output = m.rename ? idx.fresh(`${m.output}/attention`) : m.output;
      idx.replace(m.nodes, {
        name: `${sm.name}/Attention`, opType: 'Attention', domain: 'local', inputs: m.inputs, outputs: [output],
        attrs: {
          heads: { type: 'int', value: m.heads }, scale: { type: 'float', value: m.scale },
          layout: { type: 'string', value: m.layout },
        },
      });
      if (m.rename) idx.rewire(m.output, output);
      count++;
    }
    idx.commit();
    return count;
  },
};

interface Match {
  nodes: Node[]; inputs: string[]; output: string; heads: number; scale: number; layout: Layout;
  rename: boolean;   // 'nbc': the fused output ([N,B,C]) replaces the [N,B·H,D] value under a new name
}

/** A scalar Div/Mul applied to `value` (its only reader); returns the node and the factor it multiplies by. */
function scaling(idx: GraphIndex, value: string): { node: Node; factor: number } | undefined {
  const n = idx.onlyReader(value);
  if (!n || n.domain !== '' || (n.opType !== 'Div' && n.opType !== 'Mul') || n.inputs.length !== 2) return undefined;
  const constIdx = n.inputs[0] === value ? 1 : 0;
  if (n.inputs[1 - constIdx] !== value || (n.opType === 'Div' && constIdx !== 1)) return undefined;
  const c = scalarOf(idx.constant(n.inputs[constIdx]));
  if (c === undefined || !Number.isFinite(c) || c === 0) return undefined;
  return { node: n, factor: n.opType === 'Div' ? 1 / c : c };
}

/** The producer of `value` seen through an optional scalar scaling (Q side): the node and its factor. */
function unscaled(idx: GraphIndex, value: string): { value: string; node?: Node; factor: number } {
  const n = idx.producer(value);
  if (n && (n.opType === 'Div' || n.opType === 'Mul') && n.domain === '') {
    const src = n.inputs.find(i => !idx.constant(i));
    const s = src && scaling(idx, src);
    if (s && s.node === n) return { value: src!, node: n, factor: s.factor };
  }
  return { value, factor: 1 };
}

/** Reshape(x) → [scalar Div/Mul] → Transpose(perm) ending in `value`: the head split of one of q, k, v
 *  (a transpose-sinking pass may have moved Q's scaling between the two). */
function headSplit(idx: GraphIndex, value: string, perm: number[]): { x: string; nodes: Node[]; factor: number } | undefined {
  const t = idx.producer(value, 'Transpose');
  if (!t || !samePerm(t, perm)) return undefined;
  const s = unscaled(idx, t.inputs[0]!);
  const r = idx.producer(s.value, 'Reshape');
  if (!r) return undefined;
  return { x: r.inputs[0]!, nodes: [r, ...(s.node ? [s.node] : []), t], factor: s.factor };
}

/** Heads and head size implied by a split of x into `split` under `layout`, if the shapes fit that layout. */
function headsOf(x: readonly number[] | undefined, split: readonly number[] | undefined, layout: Layout): { heads: number; d: number } | undefined {
  if (!x || !split || x.length !== 3) return undefined;
  if (layout === 'bnc') {
    if (split.length !== 4 || split[0] !== x[0] || split[1] !== x[1] || split[2]! * split[3]! !== x[2]) return undefined;
    return { heads: split[2]!, d: split[3]! };
  }
  if (split.length !== 3 || split[0] !== x[0] || split[1]! % x[1]! !== 0) return undefined;
  const heads = split[1]! / x[1]!;
  return heads * split[2]! === x[2] ? { heads, d: split[2]! } : undefined;
}

function softmaxOverLast(sm: Node, rank: number, opset: number): boolean {
  const dflt = opset >= 13 ? -1 : 1;
  const axis = intAttr(sm, 'axis', dflt);
  return axis === -1 || axis === rank - 1;
}

function matchAttention(idx: GraphIndex, sm: Node, opset: number): Match | undefined {
  // scores → [scale] → Softmax → MatMul(·, V)
  const si = idx.info(sm.inputs[0]);
  if (!isFloatInfo(si) || !softmaxOverLast(sm, si.shape.length, opset)) return undefined;
  const pv = idx.onlyReader(sm.outputs[0]!, 'MatMul');
  if (!pv || pv.inputs[0] !== sm.outputs[0]) return undefined;
  const sScale = idx.producer(sm.inputs[0]) && unscaled(idx, sm.inputs[0]!);
  const qk = sScale && idx.producer(sScale.value, 'MatMul');
  if (!sScale || !qk) return undefined;
  for (const layout of ['bnc', 'nbc'] as const) {
    const m = matchLayout(idx, layout, { sm, pv, qk, sScale });
    if (m) return m;
  }
  return undefined;
}

function matchLayout(idx: GraphIndex, layout: Layout, p: { sm: Node; pv: Node; qk: Node; sScale: ReturnType<typeof unscaled> }): Match | undefined {
  const perms = PERMS[layout];
  const qScale = unscaled(idx, p.qk.inputs[0]!);
  const q = headSplit(idx, qScale.value, perms.qv);
  const k = headSplit(idx, p.qk.inputs[1]!, perms.k);
  const v = headSplit(idx, p.pv.inputs[1]!, perms.qv);
  if (v && v.factor !== 1) return undefined;   // a scaled V is not part of the pattern
  const back = idx.onlyReader(p.pv.outputs[0]!, 'Transpose');
  if (!q || !k || !v || !back || !samePerm(back, perms.out)) return undefined;
  // Every input has the same [.., .., C] shape, and each split gives the same heads × size.
  const xs = [q, k, v].map(s => idx.info(s.x));
  if (!xs.every(i => isFloatInfo(i) && sameShape(i.shape, xs[0]!.shape))) return undefined;
  const splits = [q, k, v].map(s => headsOf(idx.info(s.x)?.shape, idx.info(s.nodes[0]!.outputs[0])?.shape, layout));
  const hd = splits[0];
  if (!hd || !splits.every(s => s && s.heads === hd.heads && s.d === hd.d)) return undefined;
  const nodes = [...q.nodes, ...(qScale.node ? [qScale.node] : []), ...k.nodes, ...v.nodes, p.qk,
    ...(p.sScale.node ? [p.sScale.node] : []), p.sm, p.pv, back];
  let output = back.outputs[0]!;
  let rename = false;
  const x = xs[0]!.shape;
  if (layout === 'bnc') {
    // Transpose back to [B,N,H,D], then the Reshape merging heads into [B,N,C].
    const merge = idx.onlyReader(output, 'Reshape');
    if (!merge || !sameShape(idx.shape(merge.outputs[0]), x)) return undefined;
    nodes.push(merge);
    output = merge.outputs[0]!;
  } else {
    // [N,B·H,D] stays as it is only when its readers just reshape it to a constant target (same element order).
    const readers = idx.readers(output);
    const target = (r: Node) => idx.constant(r.inputs[1]);
    const ok = readers.length > 0 && readers.every(r => r.opType === 'Reshape' && r.domain === '' && r.inputs[0] === output
      && target(r) && !Array.from(target(r)!.data as ArrayLike<number | bigint>, Number).includes(0));
    if (!ok || !idx.internal(output, readers)) return undefined;
    rename = true;
  }
  // Everything but the last node must be read only inside the match ('nbc': the last one's readers are rewired).
  if (!nodes.slice(0, -1).every(n => n.outputs.every(o => !o || idx.internal(o, nodes)))) return undefined;
  return {
    nodes, inputs: [q.x, k.x, v.x], output, heads: hd.heads, layout, rename,
    scale: qScale.factor * q.factor * k.factor * p.sScale.factor,
  };
}
