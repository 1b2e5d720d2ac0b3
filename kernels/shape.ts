// Shape manipulation: Identity, Constant, Reshape/Flatten/Squeeze/Unsqueeze, Transpose, Concat/Split, Gather(Elements),
// Slice, Shape/Size (folded from static types), Expand/Tile/Pad, ConstantOfShape, Range, NonZero, Depth↔Space, Trilu.
// Shape-like inputs (Reshape's shape, Slice's starts…) are `dataDependent`: known when planning, so `run` reads the
// plan's static output shape or `c.consts` instead of the tensor. Depth↔Space follow ONNX's NCHW layout.

import * as tf from '@tensorflow/tfjs-core';
import { sizeOf } from '../src/ir/dtype.js';
import type { ConstTensor } from '../src/ir/graph.js';
import { constTensor, toNumbers } from '../src/ir/tensor.js';
import { op, type InferView, type NodeView, type OpDef, type RunCtx, type ValueInfo } from './types.js';
import { broadcastShapes, constToTensor, dims, hostNumbers, normAxis, same, tfDtype } from './util.js';

const reshapeTo = (x: tf.Tensor, c: RunCtx) => [tf.reshape(x, c.outputs[0]!.shape)];

/** Normalises a list of axes (negative allowed), failing on out-of-range or repeated ones. */
function normAxes(n: NodeView, axes: readonly number[], rank: number, what = 'axes'): number[] {
  const out = axes.map(a => normAxis(n, a, rank, what));
  n.check(new Set(out).size === out.length, () => `${what} ${dims(axes)} repeat an axis`);
  return out;
}

// ---- Identity, Constant ----------------------------------------------------------------------------------------

const identity = op({
  opType: 'Identity', since: 1,
  parse: () => ({}),
  infer: (n: InferView, [x]) => [same(x, n)],
  run: ([x]) => [x!],
});

/** Dropout in inference: output = input, mask (if asked for) all true. training_mode (12+) must be a constant false,
 *  or true with a constant ratio of 0 (torchvision's Swin exports F.dropout(p=0.0) so; the spec's output is then the
 *  input): random masks have no place in an inference engine. `is_test` (1–6) is accepted either way. */
const dropout = op({
  opType: 'Dropout', since: 1, dataDependent: [1, 2],
  parse: () => ({}),
  infer: (n: InferView, [x]) => {
    if (n.has(2)) {
      const t = n.constant(2), ratio = n.has(1) ? n.constant(1) : undefined;
      const zero = !!ratio && ratio.data.length === 1 && Number(ratio.data[0]) === 0;
      n.check(t && (!Number(t.data[0]) || zero), () => `training_mode must be a constant false, or true with a constant ratio of 0 (random dropout is training-only)`);
    }
    const v = same(x, n);
    return n.outputs[1] ? [v, { dtype: 'bool', shape: [...v.shape] }] : [v];
  },
  run: ([x], _a, c) => (c.outputs[1] ? [x!, tf.fill(c.outputs[1].shape, 1, 'bool')] : [x!]),
});

/** Constant 1–11 hold `value`; 12 adds value_float(s)/value_int(s)/value_string(s). sparse_value is rejected. */
function constantValue(n: NodeView, since: number): ConstTensor {
  const set = n.attrs.names().filter(k => k.startsWith('value') || k === 'sparse_value');
  if (set.includes('sparse_value')) n.fail('sparse_value (a SparseTensorProto) is not supported: ocellus holds dense tensors only');
  n.check(set.length === 1, () => `needs exactly one value attribute, got ${set.length ? set.join(', ') : 'none'}`);
  const name = set[0]!;
  if (name === 'value') return n.attrs.tensor('value');
  n.check(since >= 12, () => `attribute ${name} needs opset 12 (the model imports ${n.opset})`);
  switch (name) {
    case 'value_float': return constTensor('float32', [], [n.attrs.float(name)]);
    case 'value_floats': { const v = n.attrs.floats(name); return constTensor('float32', [v.length], v); }
    case 'value_int': return constTensor('int64', [], [n.attrs.int(name)]);
    case 'value_ints': { const v = n.attrs.ints(name); return constTensor('int64', [v.length], v); }
    case 'value_string': return constTensor('string', [], [n.attrs.string(name)]);
    case 'value_strings': { const v = n.attrs.strings(name); return constTensor('string', [v.length], v); }
    default: return n.fail(`unknown attribute ${name}`);
  }
}

const constant = (since: number) => op({
  opType: 'Constant', since,
  parse: (n: NodeView) => ({ value: constantValue(n, since) }),
  infer: (_n: InferView, _x, { value }) => [{ dtype: value.dtype, shape: [...value.dims] }],
  fold: (_n, _x, { value }) => [value],
  run: (_x, { value }) => [constToTensor(value)],
});

// ---- Reshape, Flatten, Squeeze, Unsqueeze: all a reshape to the planned output shape -------------------------

/** ONNX Reshape: 0 copies the input dim (unless allowzero), one -1 is inferred from the element count. */
function reshapeShape(n: NodeView, input: readonly number[], shape: readonly number[], allowZero: boolean): number[] {
  const out = shape.map((d, i) => (d === 0 && !allowZero ? input[i] ?? n.fail(`shape ${dims(shape)}: 0 at axis ${i} but the input has rank ${input.length}`) : d));
  const unknown = out.filter(d => d === -1).length;
  n.check(unknown <= 1 && out.every(d => d >= -1), () => `shape ${dims(shape)} may hold one -1 and no other negative value`);
  n.check(!(allowZero && unknown && out.includes(0)), () => `shape ${dims(shape)} mixes -1 and 0 with allowzero=1`);
  const total = sizeOf(input);
  const known = sizeOf(out.filter(d => d !== -1));
  if (unknown) {
    n.check(known > 0 && total % known === 0, () => `cannot reshape ${dims(input)} (${total} elements) to ${dims(shape)}`);
    out[out.indexOf(-1)] = total / known;
  }
  n.check(sizeOf(out) === total, () => `cannot reshape ${dims(input)} (${total} elements) to ${dims(shape)} (${sizeOf(out)} elements)`);
  return out;
}

const reshape = (since: number) => op({
  opType: 'Reshape', since, dataDependent: [1],
  parse: (n: NodeView) => ({ allowZero: since >= 14 && n.attrs.int('allowzero', 0) === 1 }),
  infer: (n: InferView, [x], a) => [{ dtype: same(x, n).dtype, shape: reshapeShape(n, x!.shape, n.ints(1, 'shape'), a.allowZero) }],
  run: ([x], _a, c) => reshapeTo(x!, c),
});

const flatten = op({
  opType: 'Flatten', since: 1,
  parse: (n: NodeView) => ({ axis: n.attrs.int('axis', 1) }),
  infer: (n: InferView, [x], { axis }) => {
    const s = same(x, n).shape;
    const k = axis < 0 ? axis + s.length : axis;
    n.check(k >= 0 && k <= s.length, () => `axis ${axis} is out of range for rank ${s.length} (expected ${-s.length} to ${s.length})`);
    return [{ dtype: x!.dtype, shape: [sizeOf(s.slice(0, k)), sizeOf(s.slice(k))] }];
  },
  run: ([x], _a, c) => reshapeTo(x!, c),
});

function squeezeShape(n: NodeView, s: readonly number[], axes: readonly number[] | undefined): number[] {
  if (!axes) return s.filter(d => d !== 1);
  const drop = normAxes(n, axes, s.length);
  for (const a of drop) n.check(s[a] === 1, () => `cannot squeeze axis ${a} of shape ${dims(s)}: its size is ${s[a]}, not 1`);
  return s.filter((_, i) => !drop.includes(i));
}

function unsqueezeShape(n: NodeView, s: readonly number[], axes: readonly number[]): number[] {
  const rank = s.length + axes.length;
  const at = normAxes(n, axes, rank);
  const rest = [...s];
  return Array.from({ length: rank }, (_, i) => (at.includes(i) ? 1 : rest.shift()!));
}

const squeeze1 = op({
  opType: 'Squeeze', since: 1,
  parse: (n: NodeView) => ({ axes: n.attrs.optInts('axes') }),
  infer: (n: InferView, [x], { axes }) => [{ dtype: same(x, n).dtype, shape: squeezeShape(n, x!.shape, axes) }],
  run: ([x], _a, c) => reshapeTo(x!, c),
});

const squeeze13 = op({
  opType: 'Squeeze', since: 13, dataDependent: [1],
  parse: () => ({}),
  infer: (n: InferView, [x]) => [{ dtype: same(x, n).dtype, shape: squeezeShape(n, x!.shape, n.has(1) ? n.ints(1, 'axes') : undefined) }],
  run: ([x], _a, c) => reshapeTo(x!, c),
});

const unsqueeze1 = op({
  opType: 'Unsqueeze', since: 1,
  parse: (n: NodeView) => ({ axes: n.attrs.ints('axes') }),
  infer: (n: InferView, [x], { axes }) => [{ dtype: same(x, n).dtype, shape: unsqueezeShape(n, x!.shape, axes) }],
  run: ([x], _a, c) => reshapeTo(x!, c),
});

const unsqueeze13 = op({
  opType: 'Unsqueeze', since: 13, dataDependent: [1],
  parse: () => ({}),
  infer: (n: InferView, [x]) => [{ dtype: same(x, n).dtype, shape: unsqueezeShape(n, x!.shape, n.ints(1, 'axes')) }],
  run: ([x], _a, c) => reshapeTo(x!, c),
});

// ---- Transpose, Concat, Split --------------------------------------------------------------------------------

const transpose = op({
  opType: 'Transpose', since: 1,
  parse: (n: NodeView) => ({ perm: n.attrs.optInts('perm') }),
  infer: (n: InferView, [x], { perm }) => {
    const s = same(x, n).shape;
    const p = perm ?? s.map((_, i) => s.length - 1 - i);
    n.check(p.length === s.length && [...p].sort((a, b) => a - b).every((v, i) => v === i),
      () => `perm ${dims(p)} is not a permutation of the ${s.length} axes of ${dims(s)}`);
    return [{ dtype: x!.dtype, shape: p.map(i => s[i]!) }];
  },
  run: ([x], { perm }) => [tf.transpose(x!, perm)],
});

/** Concat 1 defaults axis to 1; from 4 it is required; 11 allows negative axes (accepted for every version). */
const concat = (since: number) => op({
  opType: 'Concat', since,
  parse: (n: NodeView) => ({ axis: since < 4 ? n.attrs.int('axis', 1) : n.attrs.int('axis') }),
  infer: (n: InferView, xs, { axis }) => {
    const first = same(xs[0], n);
    const k = normAxis(n, axis, first.shape.length);
    const shape = [...first.shape];
    shape[k] = 0;
    xs.forEach((v, i) => {
      const s = same(v, n, i).shape;
      n.check(s.length === shape.length && s.every((d, j) => j === k || d === shape[j]),
        () => `input ${i} has shape ${dims(s)} but must match ${dims(first.shape)} except on axis ${k}`);
      shape[k]! += s[k]!;
    });
    return [{ dtype: first.dtype, shape }];
  },
  run: (xs, { axis }) => [xs.length === 1 ? xs[0]! : tf.concat(xs as tf.Tensor[], axis)],
});

/** Split sizes: explicit, or `parts` near-equal chunks (Split 18 allows a smaller last chunk). */
function splitSizes(n: NodeView, dim: number, split: number[] | undefined, parts: number, unevenLast: boolean): number[] {
  if (split) {
    n.check(split.length === n.outputs.length, () => `split has ${split.length} sizes but the node has ${n.outputs.length} outputs`);
    n.check(split.every(v => v >= 0) && split.reduce((s, v) => s + v, 0) === dim, () => `split ${dims(split)} does not add up to the axis size ${dim}`);
    return split;
  }
  n.check(parts === n.outputs.length, () => `num_outputs=${parts} but the node has ${n.outputs.length} outputs`);
  const chunk = unevenLast ? Math.ceil(dim / parts) : dim / parts;
  n.check(Number.isInteger(chunk) && (unevenLast ? chunk * (parts - 1) < dim || dim === 0 : true),
    () => `axis size ${dim} cannot be split into ${parts} ${unevenLast ? 'non-empty ' : 'equal '}parts`);
  return Array.from({ length: parts }, (_, i) => Math.min(chunk, dim - chunk * i));
}

function splitInfer(n: NodeView, x: ValueInfo | undefined, axis: number, sizes: (dim: number) => number[]): ValueInfo[] {
  const s = same(x, n).shape;
  const k = normAxis(n, axis, s.length);
  return sizes(s[k]!).map(d => ({ dtype: x!.dtype, shape: s.map((v, i) => (i === k ? d : v)) }));
}

const splitRun = (x: tf.Tensor, axis: number, c: RunCtx) => {
  const k = axis < 0 ? axis + x.rank : axis;
  return tf.split(x, c.outputs.map(o => o.shape[k]!), k);
};

const split2 = op({
  opType: 'Split', since: 2,
  parse: (n: NodeView) => ({ axis: n.attrs.int('axis', 0), split: n.attrs.optInts('split') }),
  infer: (n: InferView, [x], a) => splitInfer(n, x, a.axis, d => splitSizes(n, d, a.split, n.outputs.length, false)),
  run: ([x], { axis }, c) => splitRun(x!, axis, c),
});

const split13 = op({
  opType: 'Split', since: 13, dataDependent: [1],
  parse: (n: NodeView) => ({ axis: n.attrs.int('axis', 0) }),
  infer: (n: InferView, [x], a) => splitInfer(n, x, a.axis, d => splitSizes(n, d, n.has(1) ? n.ints(1, 'split') : undefined, n.outputs.length, false)),
  run: ([x], { axis }, c) => splitRun(x!, axis, c),
});

const split18 = op({
  opType: 'Split', since: 18, dataDependent: [1],
  parse: (n: NodeView) => {
    const parts = n.attrs.has('num_outputs') ? n.attrs.int('num_outputs') : undefined;
    n.check(!(parts !== undefined && n.has(1)), () => 'give either the split input or num_outputs, not both');
    return { axis: n.attrs.int('axis', 0), parts };
  },
  infer: (n: InferView, [x], a) => splitInfer(n, x, a.axis,
    d => splitSizes(n, d, n.has(1) ? n.ints(1, 'split') : undefined, a.parts ?? n.outputs.length, a.parts !== undefined)),
  run: ([x], { axis }, c) => splitRun(x!, axis, c),
});

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

// ---- Shape, Size (folded from the static type) ----------------------------------------------------------------

function shapeRange(s: readonly number[], start: number, end: number | undefined): number[] {
  const r = s.length;
  const norm = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
  return s.slice(norm(start), end === undefined ? r : norm(end));
}

const shape = (since: number) => op({
  opType: 'Shape', since,
  parse: (n: NodeView) => (since >= 15 ? { start: n.attrs.int('start', 0), end: n.attrs.has('end') ? n.attrs.int('end') : undefined } : { start: 0, end: undefined }),
  infer: (n: InferView, [x], a) => [{ dtype: 'int64', shape: [shapeRange(same(x, n).shape, a.start, a.end).length] }],
  fold: (_n, [x], a) => { const v = shapeRange(x!.shape, a.start, a.end); return [constTensor('int64', [v.length], v)]; },
  run: (_x, a, c) => [tf.tensor1d(shapeRange(c.inputs[0]!.shape, a.start, a.end), 'int32')],
});

const size = op({
  opType: 'Size', since: 1,
  parse: () => ({}),
  infer: (n: InferView, [x]) => (same(x, n), [{ dtype: 'int64', shape: [] }]),
  fold: (_n, [x]) => [constTensor('int64', [], [sizeOf(x!.shape)])],
  run: (_x, _a, c) => [tf.scalar(sizeOf(c.inputs[0]!.shape), 'int32')],
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

export const SHAPE_OPS: OpDef<any>[] = [
  dropout,
  identity, constant(1), constant(12),
  reshape(5), reshape(14), flatten, squeeze1, squeeze13, unsqueeze1, unsqueeze13,
  transpose, concat(1), concat(4), split2, split13, split18,
  gather, gatherElements, slice1, slice10, shape(1), shape(15), size,
  expand, tile, constantOfShape, range, pad2, pad11(11), pad11(18),
  nonZero, depthToSpace(1), depthToSpace(11), spaceToDepth, trilu,
];
