// Shape-family ops that pick, repeat or generate elements by index: Gather(Elements), Slice, Expand, Tile,
// ConstantOfShape, Range, Pad, NonZero, Depth↔Space (ONNX's NCHW layout), Trilu. Listed in shape.ts's SHAPE_OPS.
// Index-like inputs (Slice's starts, Pad's pads…) are `dataDependent`: each step's plan reads them once.

import * as tf from '@tensorflow/tfjs-core';
import { sizeOf } from '../src/ir/dtype.js';
import type { ConstTensor } from '../src/ir/graph.js';
import { constTensor, toNumbers } from '../src/ir/tensor.js';
import { op, type InferView, type NodeView, type OpDef, type RunCtx, type ValueInfo } from './types.js';
import { broadcastShapes, dims, hostNumbers, normAxes, normAxis, reshapeTo, same, tfDtype } from './util.js';

// ---- Gather, GatherElements --------------------------------------------------------------------------------

/** A Gather step's state: whether its indices are constants known to be non-negative (no wrapping needed). */
const planIndices = (_n: NodeView, _x: unknown, _a: unknown, c: RunCtx) => !!c.consts[1] && toNumbers(c.consts[1]).every(v => v >= 0);

/** Indices may be negative (count from the end): wrapped unless the constant indices are known non-negative. */
function wrapIndices(idx: tf.Tensor, dim: number, nonNegative: boolean): tf.Tensor {
  if (nonNegative) return idx;
  return tf.where(tf.less(idx, 0), tf.add(idx, tf.scalar(dim, 'int32')), idx);
}

function checkIndices(n: NodeView, k: ConstTensor | undefined, dim: number): void {
  if (!k) return;
  const bad = toNumbers(k).find(v => v < -dim || v >= dim);
  n.check(bad === undefined, () => `index ${bad} is out of range for an axis of size ${dim}`);
}

const gather = op({
  opType: 'Gather', since: 1,
  parse: (n: NodeView) => ({ axis: n.attrs.int('axis', 0) }),
  infer: (n: InferView, [x, i], { axis }) => {
    const s = same(x, n).shape;
    const k = normAxis(n, axis, s.length);
    checkIndices(n, n.constant(1), s[k]!);
    return [{ dtype: x!.dtype, shape: [...s.slice(0, k), ...same(i, n, 1).shape, ...s.slice(k + 1)] }];
  },
  plan: planIndices,
  run: ([x, i], { axis }, _c, nonNegative) => {
    const k = axis < 0 ? axis + x!.rank : axis;
    return [tf.gather(x!, wrapIndices(i!, x!.shape[k]!, nonNegative), k)];
  },
});

const gatherElements = op({
  opType: 'GatherElements', since: 11,
  parse: (n: NodeView) => ({ axis: n.attrs.int('axis', 0) }),
  infer: (n: InferView, [x, i], { axis }) => {
    const s = same(x, n).shape, t = same(i, n, 1).shape;
    const k = normAxis(n, axis, s.length);
    n.check(t.length === s.length && t.every((d, j) => j === k || d <= s[j]!),
      () => `indices ${dims(t)} must have the rank of data ${dims(s)} and no larger dims off axis ${k}`);
    checkIndices(n, n.constant(1), s[k]!);
    return [{ dtype: x!.dtype, shape: t }];
  },
  plan: planIndices,
  run: ([x, i], { axis }, _c, nonNegative) => {
    // Full coordinates for gatherND: the index itself on `axis`, the element's own position elsewhere.
    const k = axis < 0 ? axis + x!.rank : axis;
    const shape = i!.shape;
    const coords = shape.map((d, j) => (j === k
      ? wrapIndices(i!, x!.shape[k]!, nonNegative)
      : tf.broadcastTo(tf.reshape(tf.range(0, d, 1, 'int32'), shape.map((v, m) => (m === j ? v : 1))), shape)));
    return [tf.gatherND(x!, tf.stack(coords, -1))];
  },
});

// ---- Slice -----------------------------------------------------------------------------------------------------

interface SliceAxis { start: number; step: number; count: number }

/** Per-axis start/step/count after ONNX's clamping (huge ends such as INT64_MAX mean "to the end"). */
function sliceAxes(n: NodeView, s: readonly number[], starts: number[], ends: number[], axes?: number[], steps?: number[]): SliceAxis[] {
  const ax = axes ?? starts.map((_, i) => i);
  n.check(ends.length === starts.length && ax.length === starts.length && (!steps || steps.length === starts.length),
    () => `starts, ends, axes and steps must have the same length (${starts.length}, ${ends.length}, ${ax.length}, ${steps?.length ?? '-'})`);
  const out: SliceAxis[] = s.map(d => ({ start: 0, step: 1, count: d }));
  normAxes(n, ax, s.length).forEach((a, i) => {
    const d = s[a]!, step = steps?.[i] ?? 1;
    n.check(step !== 0, () => `step on axis ${a} is 0`);
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + d : v, lo), hi);
    const start = step > 0 ? clamp(starts[i]!, 0, d) : clamp(starts[i]!, 0, d - 1);
    const end = step > 0 ? clamp(ends[i]!, 0, d) : clamp(ends[i]!, -1, d - 1);
    out[a] = { start, step, count: Math.max(0, Math.ceil((end - start) / step)) };
  });
  return out;
}

function sliceRun(x: tf.Tensor, axes: SliceAxis[]): tf.Tensor {
  // Unit steps: one contiguous slice; other steps: gather the chosen positions along that axis.
  let y = tf.slice(x, axes.map(a => (a.step === 1 ? a.start : 0)), axes.map((a, i) => (a.step === 1 ? a.count : x.shape[i]!)));
  axes.forEach((a, i) => {
    if (a.step !== 1) y = tf.gather(y, tf.tensor1d(Array.from({ length: a.count }, (_, j) => a.start + j * a.step), 'int32'), i);
  });
  return y;
}

const sliceInfo = (x: ValueInfo, axes: SliceAxis[]): ValueInfo => ({ dtype: x.dtype, shape: axes.map(a => a.count) });

const slice1 = op({
  opType: 'Slice', since: 1,
  parse: (n: NodeView) => ({ starts: n.attrs.ints('starts'), ends: n.attrs.ints('ends'), axes: n.attrs.optInts('axes') }),
  infer: (n: InferView, [x], a) => [sliceInfo(same(x, n), sliceAxes(n, x!.shape, a.starts, a.ends, a.axes))],
  plan: (n, _x, a, c) => sliceAxes(n, c.inputs[0]!.shape, a.starts, a.ends, a.axes),
  run: ([x], _a, _c, axes) => [sliceRun(x!, axes)],
});

const slice10 = op({
  opType: 'Slice', since: 10, dataDependent: [1, 2, 3, 4],
  parse: () => ({}),
  infer: (n: InferView, [x]) => [sliceInfo(same(x, n), sliceAxes(n, x!.shape, n.ints(1, 'starts'), n.ints(2, 'ends'),
    n.has(3) ? n.ints(3, 'axes') : undefined, n.has(4) ? n.ints(4, 'steps') : undefined))],
  plan: (n, _x, _a, c) => {
    const v = (i: number) => (c.consts[i] ? toNumbers(c.consts[i]!) : undefined);
    return sliceAxes(n, c.inputs[0]!.shape, v(1)!, v(2)!, v(3), v(4));
  },
  run: ([x], _a, _c, axes) => [sliceRun(x!, axes)],
});

// ---- Expand, Tile, ConstantOfShape, Range ----------------------------------------------------------------------

const expand = op({
  opType: 'Expand', since: 8, dataDependent: [1],
  parse: () => ({}),
  infer: (n: InferView, [x]) => {
    const s = same(x, n).shape, target = n.ints(1, 'shape');
    const out = broadcastShapes(s, target);
    if (!out) n.fail(`input ${dims(s)} does not broadcast to shape ${dims(target)}`);
    return [{ dtype: x!.dtype, shape: out }];
  },
  run: ([x], _a, c) => [tf.broadcastTo(x!, c.outputs[0]!.shape)],
});

const tile = op({
  opType: 'Tile', since: 6, dataDependent: [1],
  parse: () => ({}),
  infer: (n: InferView, [x]) => {
    const s = same(x, n).shape, reps = n.ints(1, 'repeats');
    n.check(reps.length === s.length && reps.every(r => r >= 0), () => `repeats ${dims(reps)} must be ${s.length} non-negative counts for input ${dims(s)}`);
    return [{ dtype: x!.dtype, shape: s.map((d, i) => d * reps[i]!) }];
  },
  plan: (_n, _x, _a, c) => toNumbers(c.consts[1]!),
  run: ([x], _a, _c, reps) => [tf.tile(x!, reps)],
});

const constantOfShape = op({
  opType: 'ConstantOfShape', since: 9, dataDependent: [0],
  parse: (n: NodeView) => {
    const v = n.attrs.tensor('value', constTensor('float32', [1], [0]));
    n.check(v.data.length === 1, () => `value must hold one element, got dims ${dims(v.dims)}`);
    n.check(v.dtype !== 'string', () => 'string values are not supported');
    return { dtype: v.dtype, value: Number(v.data[0]) };
  },
  infer: (n: InferView, _x, a) => {
    const s = n.ints(0, 'shape');
    n.check(s.every(d => d >= 0), () => `shape ${dims(s)} has a negative dim`);
    return [{ dtype: a.dtype, shape: s }];
  },
  run: (_x, a, c) => [tf.fill(c.outputs[0]!.shape, a.value, tfDtype(a.dtype))],
});

const range = op({
  opType: 'Range', since: 11, dataDependent: [0, 1, 2],
  parse: () => ({}),
  infer: (n: InferView, xs) => {
    const [start, limit, delta] = [0, 1, 2].map(i => {
      const v = n.ints(i, ['start', 'limit', 'delta'][i]!);
      n.check(v.length === 1, () => `input ${i} must be a scalar, got ${v.length} values`);
      return v[0]!;
    }) as [number, number, number];
    n.check(delta !== 0, () => 'delta is 0');
    return [{ dtype: same(xs[0], n).dtype, shape: [Math.max(Math.ceil((limit - start) / delta), 0)] }];
  },
  // start + i·delta (as the spec writes it), not a running sum.
  run: ([start, , delta], _a, c) => [tf.add(start!, tf.mul(tf.range(0, c.outputs[0]!.shape[0]!, 1, start!.dtype as 'int32'), delta!))],
});

// ---- Pad ------------------------------------------------------------------------------------------------------

type PadMode = 'constant' | 'reflect' | 'edge';

function padMode(n: NodeView): PadMode {
  const mode = n.attrs.string('mode', 'constant');
  if (mode !== 'constant' && mode !== 'reflect' && mode !== 'edge') n.fail(`mode '${mode}' is not supported (constant, reflect, edge)`);
  return mode;
}

/** Per-axis [before, after] (negative = crop) from ONNX's [x1_begin, x2_begin…, x1_end, x2_end…] over `axes`. */
function padPairs(n: NodeView, s: readonly number[], pads: number[], axes?: number[]): [number, number][] {
  const ax = axes ? normAxes(n, axes, s.length) : s.map((_, i) => i);
  n.check(pads.length === 2 * ax.length, () => `pads has ${pads.length} values, expected ${2 * ax.length} for ${ax.length} axes`);
  const out = s.map((): [number, number] => [0, 0]);
  ax.forEach((a, i) => { out[a] = [pads[i]!, pads[i + ax.length]!]; });
  return out;
}

function padInfer(n: NodeView, x: ValueInfo | undefined, pairs: [number, number][], mode: PadMode): ValueInfo[] {
  const s = same(x, n).shape;
  const shape = s.map((d, i) => d + pairs[i]![0] + pairs[i]![1]);
  n.check(shape.every(d => d >= 0), () => `pads ${JSON.stringify(pairs)} crop more than the input ${dims(s)}`);
  n.check(mode === 'constant' || s.every((d, i) => d > 0 || (pairs[i]![0] <= 0 && pairs[i]![1] <= 0)),
    () => `mode '${mode}' cannot pad an empty axis of ${dims(s)}`);
  return [{ dtype: x!.dtype, shape }];
}

/** reflect / edge: gather, along each padded axis, the source position of every output position. */
function padByGather(x: tf.Tensor, pairs: [number, number][], mode: PadMode): tf.Tensor {
  let y = x;
  pairs.forEach(([b, e], axis) => {
    if (b === 0 && e === 0) return;
    const d = x.shape[axis]!, period = 2 * (d - 1);
    const src = (i: number) => {
      if (mode === 'edge' || d === 1) return Math.min(Math.max(i, 0), d - 1);
      const m = ((i % period) + period) % period;
      return m < d ? m : period - m;
    };
    y = tf.gather(y, tf.tensor1d(Array.from({ length: d + b + e }, (_, j) => src(j - b)), 'int32'), axis);
  });
  return y;
}

function padRun(x: tf.Tensor, pairs: [number, number][], mode: PadMode, value: number): tf.Tensor {
  if (mode !== 'constant') return padByGather(x, pairs, mode);
  const cropped = pairs.some(([b, e]) => b < 0 || e < 0)
    ? tf.slice(x, pairs.map(([b]) => Math.max(-b, 0)), pairs.map(([b, e], i) => x.shape[i]! - Math.max(-b, 0) - Math.max(-e, 0)))
    : x;
  return tf.pad(cropped, pairs.map(([b, e]) => [Math.max(b, 0), Math.max(e, 0)]), value);
}

const pad2 = op({
  opType: 'Pad', since: 2,
  parse: (n: NodeView) => ({ mode: padMode(n), pads: n.attrs.ints('pads'), value: n.attrs.float('value', 0) }),
  infer: (n: InferView, [x], a) => padInfer(n, x, padPairs(n, same(x, n).shape, a.pads), a.mode),
  plan: (n, _x, a, c) => padPairs(n, c.inputs[0]!.shape, a.pads),
  run: ([x], a, _c, pairs) => [padRun(x!, pairs, a.mode, a.value)],
});

/** Pad 11–17: pads and constant_value are inputs; 18 adds the axes input. */
const pad11 = (since: number) => op({
  opType: 'Pad', since, dataDependent: since >= 18 ? [1, 3] : [1],
  parse: (n: NodeView) => {
    if (since < 18) n.check(!n.has(3), () => `the axes input needs opset 18 (the model imports ${n.opset})`);
    return { mode: padMode(n) };
  },
  infer: (n: InferView, [x, , v], a) => {
    if (v) n.check(sizeOf(v.shape) === 1, () => `constant_value must be a scalar, got ${dims(v.shape)}`);
    return padInfer(n, x, padPairs(n, same(x, n).shape, n.ints(1, 'pads'), n.has(3) ? n.ints(3, 'axes') : undefined), a.mode);
  },
  plan: (n, _x, _a, c) => padPairs(n, c.inputs[0]!.shape, toNumbers(c.consts[1]!), c.consts[3] && toNumbers(c.consts[3])),
  run: (x, a, c, pairs) => {
    return [padRun(x[0]!, pairs, a.mode, x[2] ? hostNumbers(x, c.consts, 2)![0]! : 0)];
  },
});

// ---- NonZero, DepthToSpace, SpaceToDepth, Trilu ---------------------------------------------------------------

/** Output shape depends on the input's values: supported when they are known at plan time (folded). */
const nonZero = op({
  opType: 'NonZero', since: 9, dataDependent: [0],
  parse: () => ({}),
  infer: (n: InferView, [x]) => {
    const v = n.constant(0);
    if (!v) n.fail('its output shape depends on the values of its input, which is not constant when planning (ocellus plans static shapes)');
    return [{ dtype: 'int64', shape: [same(x, n).shape.length, toNumbers(v).filter(e => e !== 0).length] }];
  },
  run: ([x], _a, c) => {
    const s = x!.shape, v = x!.dataSync(), count = c.outputs[0]!.shape[1]!;
    const out = new Int32Array(s.length * count);
    for (let i = 0, j = 0; i < v.length; i++) {
      if (!v[i]) continue;
      for (let d = s.length - 1, r = i; d >= 0; d--) { out[d * count + j] = r % s[d]!; r = Math.floor(r / s[d]!); }
      j++;
    }
    return [tf.tensor2d(out, [s.length, count], 'int32')];
  },
});

function blockInfer(n: NodeView, x: ValueInfo | undefined, b: number, toSpace: boolean): ValueInfo[] {
  const s = same(x, n).shape;
  n.check(s.length === 4, () => `input must be NCHW (rank 4), got ${dims(s)}`);
  const [N, C, H, W] = s as [number, number, number, number];
  if (toSpace) {
    n.check(C % (b * b) === 0, () => `channels ${C} are not divisible by blocksize² = ${b * b}`);
    return [{ dtype: x!.dtype, shape: [N, C / (b * b), H * b, W * b] }];
  }
  n.check(H % b === 0 && W % b === 0, () => `spatial dims ${H}×${W} are not divisible by blocksize ${b}`);
  return [{ dtype: x!.dtype, shape: [N, C * b * b, H / b, W / b] }];
}

const depthToSpace = (since: number) => op({
  opType: 'DepthToSpace', since,
  parse: (n: NodeView) => {
    const mode = since >= 11 ? n.attrs.string('mode', 'DCR') : 'DCR';
    if (mode !== 'DCR' && mode !== 'CRD') n.fail(`mode '${mode}' is not DCR or CRD`);
    return { b: n.attrs.int('blocksize'), crd: mode === 'CRD' };
  },
  infer: (n: InferView, [x], a) => blockInfer(n, x, a.b, true),
  run: ([x], { b, crd }, c) => {
    const [N, C, H, W] = x!.shape as [number, number, number, number];
    const y = crd
      ? tf.transpose(tf.reshape(x!, [N, C / (b * b), b, b, H, W]), [0, 1, 4, 2, 5, 3])
      : tf.transpose(tf.reshape(x!, [N, b, b, C / (b * b), H, W]), [0, 3, 4, 1, 5, 2]);
    return reshapeTo(y, c);
  },
});

const spaceToDepth = op({
  opType: 'SpaceToDepth', since: 1,
  parse: (n: NodeView) => ({ b: n.attrs.int('blocksize') }),
  infer: (n: InferView, [x], a) => blockInfer(n, x, a.b, false),
  run: ([x], { b }, c) => {
    const [N, C, H, W] = x!.shape as [number, number, number, number];
    return reshapeTo(tf.transpose(tf.reshape(x!, [N, C, H / b, b, W / b, b]), [0, 3, 5, 1, 2, 4]), c);
  },
});

const trilu = op({
  opType: 'Trilu', since: 14,
  parse: (n: NodeView) => ({ upper: n.attrs.int('upper', 1) === 1 }),
  infer: (n: InferView, [x, k]) => {
    const s = same(x, n).shape;
    n.check(s.length >= 2, () => `input must have rank ≥ 2, got ${dims(s)}`);
    if (k) n.check(sizeOf(k.shape) === 1, () => `k must be a scalar, got ${dims(k.shape)}`);
    return [{ dtype: x!.dtype, shape: s }];
  },
  run: ([x, k], { upper }) => {
    // Keep element (i, j) when j - i ≥ k (upper) or j - i ≤ k (lower).
    const [M, N] = x!.shape.slice(-2) as [number, number];
    const diff = tf.sub(tf.reshape(tf.range(0, N, 1, 'int32'), [1, N]), tf.reshape(tf.range(0, M, 1, 'int32'), [M, 1]));
    const kk = k ? tf.reshape(k, []) : tf.scalar(0, 'int32');
    const keep = upper ? tf.greaterEqual(diff, kk) : tf.lessEqual(diff, kk);
    return [tf.where(tf.broadcastTo(keep, x!.shape), x!, tf.zerosLike(x!))];
  },
});

export const INDEX_OPS: OpDef<any>[] = [
  gather, gatherElements, slice1, slice10,
  expand, tile, constantOfShape, range, pad2, pad11(11), pad11(18),
  nonZero, depthToSpace(1), depthToSpace(11), spaceToDepth, trilu,
];
