// Scatter family: the official node tests, then what they miss — opset-18 max/min reductions, negative and partial
// (k < rank) ScatterND indices, integer data, indices fed at run time — against onnxruntime-node; Swin's pattern
// (ScatterND on constants) folded at load; and the rejections, naming the node.

import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import type { DType } from '../../src/ir/dtype.js';
import { GraphBuilder, type AttrInput } from '../../src/ir/builder.js';
import type { ConstTensor } from '../../src/ir/graph.js';
import { constTensor } from '../../src/ir/tensor.js';
import { checkAgainstOrt, randomData, randomTensor } from '../helpers/cnn-reference.js';
import { nodeSuite } from '../helpers/node-suite.js';
import { spec } from './specs/scatter.js';

nodeSuite(spec);

const int64 = (dims: number[], v: number[]) => constTensor('int64', dims, v);

function intTensor(dims: number[], seed: number): Tensor {
  const n = dims.reduce((p, d) => p * d, 1);
  return new Tensor('int32', Int32Array.from(randomData(n, seed, -20, 20), Math.round), dims);
}

/** One scatter node: data and updates are graph inputs; indices a constant, or a graph input when `fedIndices`. */
function scatterModel(opType: string, data: Tensor, indices: ConstTensor, updates: Tensor, attrs: Record<string, AttrInput>, opset: number, fedIndices = false) {
  const b = new GraphBuilder();
  b.input('data', data.type, [...data.dims]);
  b.input('updates', updates.type, [...updates.dims]);
  const feeds: Record<string, Tensor> = { data, updates };
  if (fedIndices) {
    b.input('indices', 'int64', indices.dims);
    feeds['indices'] = new Tensor('int64', indices.data as BigInt64Array, indices.dims);
  } else {
    b.init('indices', indices);
  }
  b.node(opType, ['data', 'indices', 'updates'], attrs, { name: 'scatter', outputs: ['y'] });
  b.output('y', data.type as DType);
  return { model: b.model(opset), feeds };
}

describe('scatter vs onnxruntime-node', () => {
  const exact = { rtol: 0, atol: 0 };

  for (const reduction of ['max', 'min', 'add', 'mul'] as const) {
    it(`ScatterND reduction ${reduction} with repeated indices (opset 18)`, async () => {
      const { model, feeds } = scatterModel('ScatterND', randomTensor([4, 3, 2], 1), int64([3, 1], [2, 0, 2]), randomTensor([3, 3, 2], 2), { reduction }, 18);
      await checkAgainstOrt(model, feeds, { rtol: 1e-6, atol: 1e-7 });
    });
  }

  it('ScatterND with k = 2 of rank 3, negative indices, fed at run time', async () => {
    const { model, feeds } = scatterModel('ScatterND', randomTensor([3, 4, 5], 3), int64([2, 2, 2], [0, -1, 2, 1, -3, 0, 1, -2]), randomTensor([2, 2, 5], 4), {}, 13, true);
    await checkAgainstOrt(model, feeds, exact);
  });

  it('ScatterND full-index (k = rank) on int32 data with reduction add', async () => {
    const { model, feeds } = scatterModel('ScatterND', intTensor([3, 4], 5), int64([4, 2], [0, 0, 2, 3, 0, 0, 1, 2]), intTensor([4], 6), { reduction: 'add' }, 16);
    await checkAgainstOrt(model, feeds, exact);
  });

  for (const [reduction, axis] of [['max', -1], ['min', 0], ['mul', 1]] as const) {
    it(`ScatterElements axis ${axis} reduction ${reduction}`, async () => {
      const idx = axis === 0 ? [0, 2, 2, 1, 0, 0] : [3, 0, 3, 1, -1, 2];
      const { model, feeds } = scatterModel('ScatterElements', randomTensor([3, 4], 7), int64([2, 3], idx), randomTensor([2, 3], 8), { axis, reduction }, 18);
      await checkAgainstOrt(model, feeds, { rtol: 1e-6, atol: 1e-7 });
    });
  }

  it('ScatterElements on a rank-3 tensor with a smaller indices box', async () => {
    const { model, feeds } = scatterModel('ScatterElements', randomTensor([2, 4, 3], 9), int64([1, 2, 2], [3, 0, 1, 2]), randomTensor([1, 2, 2], 10), { axis: 1 }, 13);
    await checkAgainstOrt(model, feeds, exact);
  });
});

describe('ScatterND on constants (Swin shifted-window masks)', () => {
  it('folds at load: the plan holds no ScatterND step, and the value is right', async () => {
    const b = new GraphBuilder();
    b.input('x', 'float32', [4, 4]);
    b.init('zeros', constTensor('float32', [4, 4], new Array(16).fill(0)));
    const mask = b.op('ScatterND', ['zeros', b.init('rows', int64([2, 1], [1, 3])), b.init('ones', constTensor('float32', [2, 4], new Array(8).fill(1)))]);
    b.node('Add', ['x', mask], {}, { outputs: ['y'] });
    b.output('y');
    const session = await InferenceSession.create(b.model(13), { checkShapes: true });
    const x = randomTensor([4, 4], 11);
    expect(session.plan({ x }).steps.map(s => s.node.opType)).not.toContain('ScatterND');
    const { y } = await session.run({ x });
    const want = Array.from(x.data as Float32Array, (v, i) => v + (Math.floor(i / 4) % 2 === 1 ? 1 : 0));
    expect(Array.from(y!.data as Float32Array)).toEqual(want.map(v => Math.fround(v)));
    await session.release();
  });
});

describe('scatter rejections name the node and the problem', () => {
  const data = randomTensor([4, 3], 12), upd = randomTensor([1, 3], 13);

  it('a constant index out of range, when planning', async () => {
    const { model } = scatterModel('ScatterND', data, int64([1, 1], [4]), upd, {}, 13);
    await expect(InferenceSession.create(model)).rejects.toThrow(/ScatterND 'scatter' \(opset 13\): index 4 is out of range for data axis 0 of size 4 \(expected -4 to 3\)/);
  });

  it('an index fed out of range, when running', async () => {
    const { model, feeds } = scatterModel('ScatterND', data, int64([1, 1], [-5]), upd, {}, 13, true);
    const session = await InferenceSession.create(model);
    await expect(session.run(feeds)).rejects.toThrow(/'scatter'.*index -5 is out of range for data axis 0 of size 4/);
    await session.release();
  });

  it('reduction max before opset 18', async () => {
    const { model } = scatterModel('ScatterND', data, int64([1, 1], [0]), upd, { reduction: 'max' }, 16);
    await expect(InferenceSession.create(model)).rejects.toThrow(/reduction 'max' is not one of 'none', 'add', 'mul' at opset 16/);
  });

  it('updates of the wrong shape', async () => {
    const { model } = scatterModel('ScatterND', data, int64([1, 1], [0]), randomTensor([1, 2], 14), {}, 13);
    await expect(InferenceSession.create(model)).rejects.toThrow(/updates have shape \[1, 2\], expected \[1, 3\]/);
  });
});
