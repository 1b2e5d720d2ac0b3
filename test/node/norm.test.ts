// Normalisation: the official node tests, then what they miss (BatchNorm on rank 2/3/4 across opsets 7–15 incl.
// spatial=0, InstanceNorm on batch 2, LayerNorm's Mean/InvStdDev outputs) against onnxruntime-node, and the
// load-time rejections of training-mode BatchNorm.

import { describe, expect, it } from 'vitest';
import { InferenceSession } from '../../src/index.js';
import { GraphBuilder, type AttrInput } from '../../src/ir/builder.js';
import { checkAgainstOrt, randomConst, randomTensor } from '../helpers/cnn-reference.js';
import { nodeSuite } from '../helpers/node-suite.js';
import { spec } from './specs/norm.js';

nodeSuite(spec);

function batchNormModel(x: number[], opset: number, attrs: Record<string, AttrInput> = {}, outputs = ['y']) {
  const b = new GraphBuilder();
  b.input('x', 'float32', x);
  const p = attrs['spatial'] === 0 ? x.slice(1) : [x[1]!];
  const params = [
    b.init('scale', randomConst(p, 11, 0.5, 1.5)), b.init('bias', randomConst(p, 12)),
    b.init('mean', randomConst(p, 13)), b.init('var', randomConst(p, 14, 0.5, 2)),
  ];
  b.node('BatchNormalization', ['x', ...params], attrs, { outputs });
  b.output('y');
  return { model: b.model(opset), feeds: { x: randomTensor(x, 10, -2, 2) } };
}

describe('BatchNormalization vs onnxruntime-node', () => {
  for (const [x, opset, attrs] of [
    [[2, 3, 5, 4], 15, { epsilon: 1e-3 }],
    [[2, 3, 5, 4], 14, { training_mode: 0 }],
    [[2, 6], 9, {}],
    [[1, 4, 7], 7, {}],
    [[2, 3, 4, 4], 7, { spatial: 0 }],
  ] as [number[], number, Record<string, AttrInput>][]) {
    it(`rank ${x.length}, opset ${opset} ${JSON.stringify(attrs)}`, async () => {
      const { model, feeds } = batchNormModel(x, opset, attrs);
      await checkAgainstOrt(model, feeds);
    });
  }

  it('training_mode=1 is rejected at load, naming the node', async () => {
    const { model } = batchNormModel([1, 2, 3, 3], 15, { training_mode: 1 }, ['y', 'running_mean', 'running_var']);
    await expect(InferenceSession.create(model, { optimize: false })).rejects.toThrow(/BatchNormalization 'BatchNormalization_0'.*training_mode=1 is not supported/);
  });

  it('training statistics outputs are rejected at load', async () => {
    const { model } = batchNormModel([1, 2, 3, 3], 7, {}, ['y', 'mean_out']);
    await expect(InferenceSession.create(model, { optimize: false })).rejects.toThrow(/outputs 'mean_out' are training-mode statistics; only Y is supported/);
  });
});

describe('InstanceNormalization and LayerNormalization vs onnxruntime-node', () => {
  it('InstanceNormalization, batch 2', async () => {
    const b = new GraphBuilder();
    b.input('x', 'float32', [2, 3, 5, 6]);
    b.node('InstanceNormalization', ['x', b.init('s', randomConst([3], 21)), b.init('b', randomConst([3], 22))], { epsilon: 1e-3 }, { outputs: ['y'] });
    b.output('y');
    await checkAgainstOrt(b.model(6), { x: randomTensor([2, 3, 5, 6], 20) });
  });

  it('LayerNormalization axis 1 with Mean and InvStdDev outputs', async () => {
    const b = new GraphBuilder();
    b.input('x', 'float32', [2, 3, 4]);
    b.node('LayerNormalization', ['x', b.init('s', randomConst([3, 4], 31)), b.init('b', randomConst([3, 4], 32))], { axis: 1 },
      { outputs: ['y', 'mean', 'inv_std'] });
    b.output('y'); b.output('mean'); b.output('inv_std');
    await checkAgainstOrt(b.model(17), { x: randomTensor([2, 3, 4], 30) });
  });

  it('LayerNormalization stash_type other than float is rejected', async () => {
    const b = new GraphBuilder();
    b.input('x', 'float32', [2, 4]);
    b.node('LayerNormalization', ['x', b.init('s', randomConst([4], 31))], { stash_type: 0 }, { outputs: ['y'] });
    b.output('y');
    await expect(InferenceSession.create(b.model(17), { optimize: false })).rejects.toThrow(/attribute stash_type=0 is not supported/);
  });
});
