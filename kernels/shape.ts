// Shape manipulation: Identity, Constant, Reshape/Flatten/Squeeze/Unsqueeze, Transpose, Concat/Split, Shape/Size
// (folded from static types); the ops that pick, repeat or generate elements by index are in shape-index.ts and join
// this family's list. Shape-like inputs (Reshape's shape, Slice's starts…) are `dataDependent`: known when planning,
// so `run` reads the plan's static output shape or `c.consts` instead of the tensor.

import * as tf from '@tensorflow/tfjs-core';
import { sizeOf } from '../src/ir/dtype.js';
import type { ConstTensor } from '../src/ir/graph.js';
import { constTensor } from '../src/ir/tensor.js';
import { op, type InferView, type NodeView, type OpDef, type RunCtx, type ValueInfo } from './types.js';
import { INDEX_OPS } from './shape-index.js';
import { constToTensor, dims, normAxes, normAxis, reshapeTo, same } from './util.js';

// ---- Identity, Constant ----------------------------------------------------------------------------------------

const identity = op({
  opType: 'Identity', since: 1, elementwise: 'unary',
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

export const SHAPE_OPS: OpDef<any>[] = [
  dropout,
  identity, constant(1), constant(12),
  reshape(5), reshape(14), flatten, squeeze1, squeeze13, unsqueeze1, unsqueeze13,
  transpose, concat(1), concat(4), split2, split13, split18, shape(1), shape(15), size,
  ...INDEX_OPS,
];
