// Conv: the official node tests (2-D, group 1), then what they miss — groups, depthwise, dilations with strides,
// auto_pad, 1-D, batch 2, fused activations — each checked against onnxruntime-node with passes off (NCHW Conv)
// and on (local:NhwcConv), and the load-time rejections.

import { describe, expect, it } from 'vitest';
import { InferenceSession } from '../../src/index.js';
import { GraphBuilder, type AttrInput } from '../../src/ir/builder.js';
import { checkAgainstOrt, randomConst, randomTensor } from '../helpers/cnn-reference.js';
import { nodeSuite } from '../helpers/node-suite.js';
import { spec } from './specs/conv.js';

nodeSuite(spec);

function convModel(x: number[], w: number[], attrs: Record<string, AttrInput>, opts: { bias?: boolean; then?: [string, Record<string, AttrInput>, string[]?] } = {}) {
  const b = new GraphBuilder();
  b.input('x', 'float32', x);
  b.init('w', randomConst(w, 2));
  const ins = ['x', 'w'];
  if (opts.bias !== false) ins.push(b.init('b', randomConst([w[0]!], 3)));
  let y = b.op('Conv', ins, attrs);
  if (opts.then) {
    const [opType, a, extra = []] = opts.then;
    y = b.op(opType, [y, ...extra], a);
  }
  b.graph.nodes.at(-1)!.outputs = ['y'];
  b.output('y');
  return { model: b.model(13), feeds: { x: randomTensor(x, 1) }, builder: b };
}

const CASES: [string, number[], number[], Record<string, AttrInput>][] = [
  ['group 2 (general grouped)', [1, 4, 9, 9], [6, 2, 3, 3], { group: 2, pads: [1, 1, 1, 1] }],
  ['depthwise, multiplier 1', [1, 3, 8, 8], [3, 1, 3, 3], { group: 3, pads: [1, 1, 1, 1], strides: [2, 2] }],
  ['depthwise, multiplier 2', [2, 3, 7, 7], [6, 1, 3, 3], { group: 3, pads: [0, 1, 2, 1] }],
  ['dilations 2', [1, 2, 10, 10], [4, 2, 3, 3], { dilations: [2, 2], pads: [2, 2, 2, 2] }],
  ['dilations with strides', [1, 2, 11, 11], [3, 2, 3, 3], { dilations: [2, 1], strides: [2, 3], pads: [1, 0, 2, 1] }],
  ['depthwise with dilations and strides', [1, 4, 12, 12], [4, 1, 3, 3], { group: 4, dilations: [2, 2], strides: [2, 2] }],
  ['SAME_UPPER, stride 2', [1, 3, 8, 7], [5, 3, 4, 3], { auto_pad: 'SAME_UPPER', strides: [2, 2] }],
  ['SAME_LOWER, stride 2', [1, 3, 8, 7], [5, 3, 4, 3], { auto_pad: 'SAME_LOWER', strides: [2, 2] }],
  ['VALID', [1, 3, 8, 7], [5, 3, 2, 3], { auto_pad: 'VALID', strides: [2, 1] }],
  ['1x1, batch 3', [3, 16, 5, 5], [8, 16, 1, 1], {}],
  ['kernel_shape given', [1, 3, 6, 6], [2, 3, 3, 3], { kernel_shape: [3, 3], strides: [2, 2] }],
];

describe('Conv vs onnxruntime-node', () => {
  for (const [what, x, w, attrs] of CASES) {
    it(what, async () => {
      const { model, feeds } = convModel(x, w, attrs);
      const { optimized } = await checkAgainstOrt(model, feeds);
      expect(optimized.ops).toContain('local:NhwcConv');
    });
  }

  it('without bias', async () => {
    const { model, feeds } = convModel([1, 4, 6, 6], [4, 2, 3, 3], { group: 2 }, { bias: false });
    await checkAgainstOrt(model, feeds);
  });

  it('1-D: pads, strides, dilations, group (NCHW Conv only: to-nhwc rewrites 2-D)', async () => {
    const { model, feeds } = convModel([2, 4, 20], [6, 2, 3], { group: 2, pads: [2, 1], strides: [2], dilations: [2] });
    const { optimized } = await checkAgainstOrt(model, feeds);
    expect(optimized.ops).toEqual(['Conv']);
  });

  for (const [act, attrs, extra] of [
    ['Relu', {}], ['Sigmoid', {}], ['LeakyRelu', { alpha: 0.2 }], ['Clip', {}, ['lo', 'hi']],
  ] as [string, Record<string, AttrInput>, string[]?][]) {
    it(`with a fused ${act}`, async () => {
      const { model, feeds, builder } = convModel([1, 3, 8, 8], [4, 3, 3, 3], { pads: [1, 1, 1, 1] }, { then: [act, attrs, extra] });
      if (extra) {
        builder.init('lo', { dtype: 'float32', dims: [], data: new Float32Array([0]) });
        builder.init('hi', { dtype: 'float32', dims: [], data: new Float32Array([6]) });
      }
      // Scaled input so Clip(0, 6) clips at both ends.
      feeds.x = randomTensor([1, 3, 8, 8], 1, -8, 8);
      const { optimized } = await checkAgainstOrt(model, feeds);
      expect(optimized.ops.filter(o => o === act), `${act} fused into the conv`).toEqual([]);
    });
  }
});

describe('Conv rejections name the node and the problem', () => {
  it('3-D convolution', async () => {
    const { model } = convModel([1, 2, 4, 4, 4], [2, 2, 2, 2, 2], {});
    await expect(InferenceSession.create(model, { optimize: false })).rejects.toThrow(/Conv 'Conv_0'.*3-D convolution \(input rank 5\) is not supported/);
  });

  it('channels × group mismatch', async () => {
    const { model } = convModel([1, 4, 4, 4], [2, 3, 3, 3], {});
    await expect(InferenceSession.create(model, { optimize: false })).rejects.toThrow(/weight in-channels×group = 3×1 = 3 but input has 4 channels/);
  });

  it('kernel larger than the padded input', async () => {
    const { model } = convModel([1, 1, 2, 2], [1, 1, 3, 3], {});
    await expect(InferenceSession.create(model, { optimize: false })).rejects.toThrow(/smaller than the kernel 3/);
  });

  it('unknown auto_pad', async () => {
    const { model } = convModel([1, 1, 4, 4], [1, 1, 3, 3], { auto_pad: 'SAME' });
    await expect(InferenceSession.create(model, { optimize: false })).rejects.toThrow(/auto_pad 'SAME' is not one of/);
  });
});
