// fuse-channel-shuffle: keeps ShuffleNet's block tails in NHWC. After to-nhwc a ShuffleNetV2 block ends in
//   Transpose(NCHW) ×2 → Concat(axis 1) → Reshape [N, g, C/g, H, W] → Transpose [0, 2, 1, 3, 4] → Reshape [N, C, H, W]
//   → Slice(channels) ×2 → Transpose(NHWC) → the next block's convs
// (the Reshape targets and Slice bounds come from shape subgraphs, so this is a shaped pass). Walking in graph order,
// a Concat over channels, a channel shuffle and a Slice whose data comes out of Transpose(NCHW) run on the NHWC value
// instead (Concat on axis 3; local:NhwcChannelShuffle, one copy; Slice with permuted axes), each followed by one
// Transpose(NCHW) for its readers; a Transpose(NHWC) reading such a Transpose(NCHW) reads the NHWC value. The
// Transposes nobody reads any more go, so the block runs in NHWC end to end.

import { intAttr, intsAttr, samePerm } from '../ir/attrs.js';
import type { Node } from '../ir/graph.js';
import { GraphIndex } from '../ir/graph-index.js';
import { transposeNode } from '../ir/transpose.js';
import { TO_NCHW, TO_NHWC } from './to-nhwc.js';
import type { Pass } from './types.js';

const SHUFFLE_PERM = [0, 2, 1, 3, 4];

/** The NHWC value behind `v` when v = Transpose(that, [0, 3, 1, 2]) is 4-D, else undefined. Only the NCHW side's
 *  shape is asked for: it keeps its name and type when this pass rewrites its producer, so one walk in graph order
 *  carries a whole chain of blocks (the NHWC values it creates have no type until the next inference). */
function nhwcOf(idx: GraphIndex, v: string | undefined): string | undefined {
  const t = idx.producer(v, 'Transpose');
  return t && samePerm(t, TO_NCHW) && idx.shape(v)?.length === 4 ? t.inputs[0] : undefined;
}

const same = (a: readonly number[] | undefined, b: readonly number[]) => !!a && a.length === b.length && a.every((d, i) => d === b[i]);

/** Concat over channels of 4-D values that are all Transpose(NCHW) outputs: the NHWC inputs, else undefined. */
function matchConcat(idx: GraphIndex, n: Node): string[] | undefined {
  const rank = idx.shape(n.outputs[0])?.length;
  if (rank !== 4 || n.inputs.length < 1) return undefined;
  const axis = intAttr(n, 'axis', 1);
  if (axis !== 1 && axis !== -3) return undefined;
  const xs = n.inputs.map(i => nhwcOf(idx, i));
  return xs.every(x => x) ? (xs as string[]) : undefined;
}

/** Reshape → Transpose [0, 2, 1, 3, 4] → Reshape back: the shuffle's nodes, NHWC input and group count. */
function matchShuffle(idx: GraphIndex, r1: Node): { nodes: Node[]; x: string; groups: number } | undefined {
  const x = nhwcOf(idx, r1.inputs[0]);
  const s = idx.shape(r1.inputs[0]), mid = idx.shape(r1.outputs[0]);
  if (!x || !s || !mid || mid.length !== 5) return undefined;
  const [n, c, h, w] = s as [number, number, number, number];
  const g = mid[1]!;
  if (!same(mid, [n, g, c / g, h, w]) || c % g !== 0) return undefined;
  const t = idx.onlyReader(r1.outputs[0]!, 'Transpose');
  if (!t || !same(intsAttr(t, 'perm'), SHUFFLE_PERM) || idx.isOutput(r1.outputs[0]!)) return undefined;
  const r2 = idx.onlyReader(t.outputs[0]!, 'Reshape');
  if (!r2 || idx.isOutput(t.outputs[0]!) || !same(idx.shape(r2.outputs[0]), s)) return undefined;
  return { nodes: [r1, t, r2], x, groups: g };
}

/** Slice (opset ≥ 10 form, constant axes) of a Transpose(NCHW) output: NHWC input and the axes in NHWC. */
function matchSlice(idx: GraphIndex, n: Node): { x: string; axes: number[] } | undefined {
  const x = nhwcOf(idx, n.inputs[0]);
  const axesConst = idx.constant(n.inputs[3]);
  if (!x || !axesConst || n.inputs.length < 4 || [1, 2, 4].some(i => n.inputs[i] && !idx.constant(n.inputs[i]))) return undefined;
  const axes = Array.from(axesConst.data as ArrayLike<number | bigint>, a => Number(a));
  if (axes.some(a => a < -4 || a > 3)) return undefined;
  return { x, axes: axes.map(a => TO_NCHW[a < 0 ? a + 4 : a]!) };
}

export const fuseChannelShuffle: Pass = {
  name: 'fuse-channel-shuffle',
  run(g, ctx) {
    const idx = new GraphIndex(g, ctx.infos).reserveNames();
    let count = 0;
    /** Puts `node` (writing a fresh NHWC value) and a Transpose(NCHW) to `out` in place of `old`. */
    const emit = (old: Node[], node: Node, out: string) => {
      const y = node.outputs[0]!;
      const last = old.at(-1)!;
      idx.insertAfter(last, [node, transposeNode(idx.fresh(`${node.name}_to_nchw`), y, out, TO_NCHW)]);
      for (const o of old) idx.remove(o);
      count++;
    };
    for (const n of g.nodes) {
      if (!idx.has(n) || n.domain !== '') continue;
      const name = n.name || n.opType;
      if (n.opType === 'Concat') {
        const xs = matchConcat(idx, n);
        if (!xs) continue;
        emit([n], { name: `${name}_nhwc`, opType: 'Concat', domain: '', inputs: xs, outputs: [idx.fresh(`${n.outputs[0]}_nhwc`)],
          attrs: { axis: { type: 'int', value: 3 } } }, n.outputs[0]!);
      } else if (n.opType === 'Reshape') {
        const m = matchShuffle(idx, n);
        if (!m) continue;
        const out = m.nodes[2]!.outputs[0]!;
        emit(m.nodes, { name: `${name}_shuffle_nhwc`, opType: 'NhwcChannelShuffle', domain: 'local', inputs: [m.x],
          outputs: [idx.fresh(`${out}_nhwc`)], attrs: { groups: { type: 'int', value: m.groups } } }, out);
      } else if (n.opType === 'Slice') {
        const m = matchSlice(idx, n);
        if (!m) continue;
        const axes = idx.fresh(`${n.inputs[3]}_nhwc`);
        g.initializers.set(axes, { dtype: 'int64', dims: [m.axes.length], data: BigInt64Array.from(m.axes, a => BigInt(a)) });
        emit([n], { name: `${name}_nhwc`, opType: 'Slice', domain: '', inputs: [m.x, n.inputs[1]!, n.inputs[2]!, axes, ...n.inputs.slice(4)],
          outputs: [idx.fresh(`${n.outputs[0]}_nhwc`)], attrs: {} }, n.outputs[0]!);
      } else if (n.opType === 'Transpose' && samePerm(n, TO_NHWC)) {
        const x = nhwcOf(idx, n.inputs[0]);
        if (!x || !idx.bypass(n.outputs[0]!, x)) continue;
        idx.remove(n);
        count++;
      }
    }
    if (count) idx.removeDead();
    idx.commit();
    return count;
  },
};
