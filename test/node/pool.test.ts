// Pooling: the official node tests, then combinations they miss (ceil_mode with pads, count_include_pad with
// ceil_mode, dilations with strides, Indices with batch/channels/storage_order, 1-D with pads, global pools at batch 2),
// each against onnxruntime-node with passes off (NCHW) and on (local NHWC pools for 2-D), and load-time rejections.

import { describe, expect, it } from 'vitest';
import { InferenceSession } from '../../src/index.js';
import { GraphBuilder, type AttrInput } from '../../src/ir/builder.js';
import { checkAgainstOrt, randomTensor } from '../helpers/cnn-reference.js';
import { nodeSuite } from '../helpers/node-suite.js';
import { spec } from './specs/pool.js';

nodeSuite(spec);

function poolModel(opType: string, x: number[], attrs: Record<string, AttrInput>, outputs = 1) {
  const b = new GraphBuilder();
  b.input('x', 'float32', x);
  const outs = outputs === 2 ? ['y', 'indices'] : ['y'];
  b.node(opType, ['x'], attrs, { outputs: outs });
  b.output('y');
  if (outputs === 2) b.output('indices', 'int64');
  return { model: b.model(12), feeds: { x: randomTensor(x, 7) } };
}

const CASES: [string, string, number[], Record<string, AttrInput>][] = [
  ['MaxPool ceil_mode with asymmetric pads', 'MaxPool', [1, 2, 9, 8], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 0, 0, 1], ceil_mode: 1 }],
  ['MaxPool 3×3/2 pads 1 (ResNet stem), batch 2', 'MaxPool', [2, 4, 16, 16], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }],
  ['MaxPool dilations with strides and ceil_mode', 'MaxPool', [1, 2, 11, 10], { kernel_shape: [2, 3], strides: [2, 2], dilations: [2, 2], ceil_mode: 1 }],
  ['MaxPool SAME_LOWER stride 3', 'MaxPool', [1, 3, 10, 10], { kernel_shape: [4, 4], strides: [3, 3], auto_pad: 'SAME_LOWER' }],
  ['AveragePool count_include_pad with ceil_mode', 'AveragePool', [1, 2, 9, 8], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 0], ceil_mode: 1, count_include_pad: 1 }],
  ['AveragePool excluding pads with ceil_mode', 'AveragePool', [2, 3, 9, 8], { kernel_shape: [3, 2], strides: [2, 3], pads: [0, 1, 1, 1], ceil_mode: 1 }],
  ['AveragePool SAME_UPPER count_include_pad', 'AveragePool', [1, 2, 7, 7], { kernel_shape: [3, 3], strides: [2, 2], auto_pad: 'SAME_UPPER', count_include_pad: 1 }],
  ['AveragePool 1-D with pads', 'AveragePool', [2, 3, 12], { kernel_shape: [3], strides: [2], pads: [1, 2] }],
  ['MaxPool 1-D with pads and dilation', 'MaxPool', [2, 3, 12], { kernel_shape: [3], pads: [2, 1], dilations: [2] }],
  ['AveragePool 3-D with pads', 'AveragePool', [1, 2, 5, 6, 4], { kernel_shape: [2, 3, 2], strides: [2, 2, 1], pads: [1, 0, 1, 0, 1, 0], count_include_pad: 1 }],
  ['GlobalAveragePool, batch 2', 'GlobalAveragePool', [2, 5, 7, 6], {}],
  ['GlobalMaxPool, batch 2', 'GlobalMaxPool', [2, 5, 7, 6], {}],
  ['GlobalAveragePool 1-D', 'GlobalAveragePool', [2, 5, 9], {}],
];

describe('pooling vs onnxruntime-node', () => {
  for (const [what, opType, x, attrs] of CASES) {
    it(what, async () => {
      const { model, feeds } = poolModel(opType, x, attrs);
      const { optimized } = await checkAgainstOrt(model, feeds);
      if (x.length === 4) expect(optimized.ops).toContain(`local:Nhwc${opType}`);
    });
  }

  for (const [what, x, attrs] of [
    ['with pads, batch 2, 3 channels', [2, 3, 6, 7], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }],
    ['column-major (storage_order 1), ceil_mode', [1, 2, 7, 5], { kernel_shape: [2, 2], strides: [2, 2], storage_order: 1, ceil_mode: 1 }],
  ] as [string, number[], Record<string, AttrInput>][]) {
    it(`MaxPool Indices ${what}`, async () => {
      const { model, feeds } = poolModel('MaxPool', x, attrs, 2);
      const { optimized } = await checkAgainstOrt(model, feeds, { rtol: 0, atol: 0 });
      expect(optimized.ops, 'Indices keep the NCHW kernel').toEqual(['MaxPool']);
    });
  }
});

describe('pooling rejections name the node and the problem', () => {
  it('kernel_shape missing', async () => {
    const { model } = poolModel('MaxPool', [1, 1, 4, 4], {});
    await expect(InferenceSession.create(model, { optimize: false })).rejects.toThrow(/MaxPool 'MaxPool_0'.*required attribute 'kernel_shape' is missing/);
  });

  it('kernel_shape rank differs from the input', async () => {
    const { model } = poolModel('AveragePool', [1, 1, 4, 4], { kernel_shape: [2] });
    await expect(InferenceSession.create(model, { optimize: false })).rejects.toThrow(/kernel_shape has 1 dims but the input \[1, 1, 4, 4\] has 2 spatial dims/);
  });

  it('pads of the wrong length', async () => {
    const { model } = poolModel('AveragePool', [1, 1, 4, 4], { kernel_shape: [2, 2], pads: [1, 1] });
    await expect(InferenceSession.create(model, { optimize: false })).rejects.toThrow(/pads has 2 values but the input has 2 spatial dims \(expected 4\)/);
  });
});
