// Shape operators: the official node tests, then what they miss — plan-time folding of an exported
// Shape→Gather→Unsqueeze→Concat→Reshape chain, plans keyed on shape-deciding input values, opset-18 forms
// (Split num_outputs, Pad axes), integer data through strided Slice and Pad modes — against onnxruntime-node —
// and the explicit rejections.

import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import type { DType } from '../../src/ir/dtype.js';
import { GraphBuilder, type AttrInput } from '../../src/ir/builder.js';
import type { ConstTensor } from '../../src/ir/graph.js';
import { constTensor } from '../../src/ir/tensor.js';
import { checkAgainstOrt, randomData, randomTensor } from '../helpers/cnn-reference.js';
import { nodeSuite } from '../helpers/node-suite.js';
import { spec } from './specs/shape.js';

nodeSuite(spec);

const ints = (v: number[]) => constTensor('int64', [v.length], v);

function intTensor(dims: number[], seed: number, dtype: DType = 'int32'): Tensor {
  const n = dims.reduce((p, d) => p * d, 1);
  return new Tensor(dtype, Int32Array.from(randomData(n, seed, -50, 50), Math.round), dims);
}

/** One-node model over x (a graph input) plus constant inputs; `outputs` names y0, y1… */
function oneNode(opType: string, x: Tensor, consts: (ConstTensor | undefined)[], attrs: Record<string, AttrInput> = {}, opts: { opset?: number; outputs?: number; out?: DType } = {}) {
  const b = new GraphBuilder();
  b.input('x', x.type, [...x.dims]);
  const ins = ['x', ...consts.map((c, i) => (c ? b.init(`c${i}`, c) : ''))];
  const outs = Array.from({ length: opts.outputs ?? 1 }, (_, i) => `y${i}`);
  b.node(opType, ins, attrs, { outputs: outs });
  for (const o of outs) b.output(o, opts.out ?? x.type);
  return { model: b.model(opts.opset ?? 13), feeds: { x } };
}

describe('plan-time folding of shape arithmetic', () => {
  it('folds an exported Shape→Gather→Unsqueeze→Concat→Reshape chain into a single Reshape step', async () => {
    const b = new GraphBuilder();
    b.input('x', 'float32', [2, 3, 4, 5]);
    const shape = b.op('Shape', ['x']);
    const batch = b.op('Gather', [shape, b.init('zero', constTensor('int64', [], [0]))], { axis: 0 });
    const dim = b.op('Unsqueeze', [batch, b.init('axes', ints([0]))]);
    const rest = b.op('Constant', [], { value_ints: [-1] });
    const target = b.op('Concat', [dim, rest], { axis: 0 });
    b.node('Reshape', ['x', target], {}, { outputs: ['y'] });
    b.output('y');
    const x = randomTensor([2, 3, 4, 5], 1);
    const session = await InferenceSession.create(b.model(13), { optimize: false, checkShapes: true });
    expect(session.plan({ x }).steps.map(s => s.node.opType)).toEqual(['Reshape']);
    const { y } = await session.run({ x });
    expect([...y!.dims]).toEqual([2, 60]);
    expect(y!.data).toEqual(x.data);
    await session.release();
  });

  it('keys plans on the value of a shape fed as a graph input', async () => {
    const b = new GraphBuilder();
    b.input('x', 'float32', [2, 3, 4]);
    b.input('shape', 'int64', [null]);
    b.node('Reshape', ['x', 'shape'], {}, { outputs: ['y'] });
    b.output('y');
    const session = await InferenceSession.create(b.model(14), { checkShapes: true });
    const x = randomTensor([2, 3, 4], 2);
    for (const s of [[4, -1], [24], [0, 12], [4, -1]]) {
      const { y } = await session.run({ x, shape: new Tensor('int64', BigInt64Array.from(s.map(BigInt)), [s.length]) });
      const want = s.map((d, i) => (d === 0 ? x.dims[i]! : d === -1 ? 24 / s.filter(v => v > 0).reduce((p, v) => p * v, 1) : d));
      expect([...y!.dims], `shape ${JSON.stringify(s)}`).toEqual(want);
      expect(y!.data).toEqual(x.data);
    }
    await session.release();
  });

  it('NonZero: folded when its input is known when planning, rejected with the reason when not', async () => {
    const small = new Tensor('float32', Float32Array.from([0, 1, 0, 2, 3, 0]), [2, 3]);
    await checkAgainstOrt(oneNode('NonZero', small, [], {}, { out: 'int64' }).model, { x: small });
    const big = randomTensor([80, 80], 3);   // too large to plan per value
    await expect(InferenceSession.create(oneNode('NonZero', big, []).model).then(s => s.run({ x: big })))
      .rejects.toThrow(/NonZero .*output shape depends on the values of its input/);
  });
});

describe('shape operators beyond the node tests (vs onnxruntime)', () => {
  const f = randomTensor([3, 5, 6], 5);
  const i32 = intTensor([4, 7], 6);
  const cases: [string, ReturnType<typeof oneNode>][] = [
    ['Slice: int32 data, step 2 and a negative step, INT64_MAX end', oneNode('Slice', i32, [ints([3, 1]), constTensor('int64', [2], [-5n, 9223372036854775807n]), ints([1, 0]), ints([-2, 2])])],
    ['Slice 1: attribute form with default axes', oneNode('Slice', f, [], { starts: [1, -4], ends: [3, 100] }, { opset: 9 })],
    ['Slice: a start past the end gives an empty axis', oneNode('Slice', f, [ints([7]), ints([9]), ints([1])])],
    ['Gather: scalar index (class-token pick)', oneNode('Gather', f, [constTensor('int64', [], [-1])], { axis: 1 })],
    ['Gather: int32 data, 2-D indices with negatives', oneNode('Gather', i32, [constTensor('int64', [2, 2], [-1, 0, 2, -4])], { axis: 1 })],
    ['Split 18: num_outputs with a smaller last part', oneNode('Split', f, [], { axis: 1, num_outputs: 3 }, { opset: 18, outputs: 3 })],
    ['Split 2–11: split attribute', oneNode('Split', f, [], { axis: 1, split: [1, 4] }, { opset: 11, outputs: 2 })],
    ['Pad 18: axes input, reflect', oneNode('Pad', f, [ints([2, 3, 1, 4]), undefined, ints([1, -1])], { mode: 'reflect' }, { opset: 18 })],
    ['Pad: edge with cropping (negative pads)', oneNode('Pad', f, [ints([1, -2, 0, 2, 1, -3])], { mode: 'edge' })],
    ['Pad: constant value, int32 data, cropping', oneNode('Pad', i32, [ints([-1, 2, 1, -3]), constTensor('int32', [], [7])])],
    ['Pad 2–10: attribute form', oneNode('Pad', f, [], { pads: [0, 1, 2, 0, 0, 1], value: 1.5 }, { opset: 10 })],
    ['Squeeze 1 / Unsqueeze 11: attribute axes', oneNode('Unsqueeze', f, [], { axes: [-1, 0] }, { opset: 11 })],
    ['Squeeze 13 without axes drops every 1', oneNode('Squeeze', randomTensor([1, 3, 1, 2], 7), [])],
    ['Expand: int32, rank grows and a 1 stretches', oneNode('Expand', intTensor([4, 1], 8), [ints([2, 1, 3])])],
    ['Tile: int32', oneNode('Tile', i32, [ints([2, 3])])],
    ['Transpose: rank 5', oneNode('Transpose', randomTensor([2, 3, 1, 4, 2], 9), [], { perm: [4, 2, 0, 3, 1] })],
    ['Concat 11: negative axis, int32', oneNode('Concat', i32, [constTensor('int32', [4, 2], [1, 2, 3, 4, 5, 6, 7, 8])], { axis: -1 })],
    ['GatherElements: axis 1, int32', oneNode('GatherElements', i32, [constTensor('int64', [4, 2], [0, 6, -1, 3, 2, 2, -7, 5])], { axis: 1 })],
    ['Trilu: lower, batch, k = -1', oneNode('Trilu', randomTensor([2, 4, 3], 10), [constTensor('int64', [], [-1])], { upper: 0 }, { opset: 14 })],
    ['DepthToSpace 1 (DCR without the mode attribute)', oneNode('DepthToSpace', randomTensor([1, 8, 2, 3], 11), [], { blocksize: 2 }, { opset: 9 })],
  ];
  for (const [what, { model, feeds }] of cases) it(what, () => checkAgainstOrt(model, feeds, { rtol: 0, atol: 0 }).then(() => undefined));

  it('Constant 12: value_float(s) / value_int(s) fold to constants', async () => {
    const b = new GraphBuilder();
    b.node('Constant', [], { value_floats: [1.5, -2.25] }, { outputs: ['a'] });
    b.node('Constant', [], { value_int: 7 }, { outputs: ['b'] });
    b.output('a', 'float32');
    b.output('b', 'int64');
    const session = await InferenceSession.create(b.model(13));
    const out = await session.run({});
    expect(Array.from(out.a!.data as Float32Array)).toEqual([1.5, -2.25]);
    expect(out.b!.type).toBe('int64');
    expect(Array.from(out.b!.data as BigInt64Array, Number)).toEqual([7]);
    expect([...out.b!.dims]).toEqual([]);
    await session.release();
  });
});

describe('shape operators: explicit rejections', () => {
  const x = randomTensor([2, 6], 12);
  const rejects = async (m: ReturnType<typeof oneNode>, re: RegExp) => {
    await expect(InferenceSession.create(m.model).then(s => s.run(m.feeds))).rejects.toThrow(re);
  };

  it('Constant with sparse_value', async () => {
    const b = new GraphBuilder();
    b.node('Constant', [], { sparse_value: { type: 'tensor', value: constTensor('float32', [1], [1]) } }, { outputs: ['y'] });
    b.output('y');
    await expect(InferenceSession.create(b.model(13))).rejects.toThrow(/sparse_value .* not supported/);
  });

  it('Dropout with training_mode true (random masks) is refused when planning, naming the node', async () => {
    const b = new GraphBuilder();
    b.input('x', 'float32', [2, 3]);
    b.init('ratio', constTensor('float32', [], [0.5]));
    b.init('train', constTensor('bool', [], [1]));
    b.node('Dropout', ['x', 'ratio', 'train'], {}, { name: 'drop', outputs: ['y'] });
    b.output('y');
    await expect(InferenceSession.create(b.model(13))).rejects.toThrow("Dropout 'drop' (opset 13): training_mode must be a constant false");
  });

  it('Pad mode wrap, Reshape to a wrong element count, Squeeze of a non-1 axis, Split that does not divide', async () => {
    await rejects(oneNode('Pad', x, [ints([0, 1, 0, 1])], { mode: 'wrap' }), /mode 'wrap' is not supported/);
    await rejects(oneNode('Reshape', x, [ints([5, -1])]), /cannot reshape \[2, 6\] \(12 elements\) to \[5, -1\]/);
    await rejects(oneNode('Squeeze', x, [ints([1])]), /cannot squeeze axis 1 of shape \[2, 6\]: its size is 6/);
    await rejects(oneNode('Split', x, [], { axis: 1 }, { outputs: 4 }), /axis size 6 cannot be split into 4 equal parts/);
    await rejects(oneNode('Gather', x, [ints([2])], { axis: 0 }), /index 2 is out of range for an axis of size 2/);
  });
});
