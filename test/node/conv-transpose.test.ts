// ConvTranspose: the official node tests, then what they miss — groups (grouped and depthwise), asymmetric and
// negative-total pads, output_padding with dilations, SAME_LOWER, output_shape with SAME_UPPER, bias, batch 2, 1-D
// and 3-D with all of these, constant and fed weights — against onnxruntime-node; rejections name the node.

import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { GraphBuilder, type AttrInput } from '../../src/ir/builder.js';
import { checkAgainstOrt, expectClose, randomConst, randomTensor, rng, runOcellus, runOrt } from '../helpers/cnn-reference.js';
import { nodeSuite } from '../helpers/node-suite.js';
import { spec } from './specs/conv-transpose.js';

nodeSuite(spec);

/** x [N, C, …] fed; W [C, M/group, k…] and B [M] constants unless `fedWeights`. */
function convTModel(x: number[], w: number[], attrs: Record<string, AttrInput>, opts: { bias?: boolean; fedWeights?: boolean } = {}) {
  const b = new GraphBuilder();
  b.input('x', 'float32', x);
  const feeds = { x: randomTensor(x, 1) } as Record<string, ReturnType<typeof randomTensor>>;
  if (opts.fedWeights) { b.input('w', 'float32', w); feeds['w'] = randomTensor(w, 2); } else b.init('w', randomConst(w, 2));
  const m = w[1]! * Number(attrs['group'] ?? 1);
  if (opts.bias) b.init('b', randomConst([m], 3));
  b.node('ConvTranspose', opts.bias ? ['x', 'w', 'b'] : ['x', 'w'], attrs, { name: 'deconv', outputs: ['y'] });
  b.output('y');
  return { model: b.model(13), feeds };
}

const CASES: [string, number[], number[], Record<string, AttrInput>, boolean?][] = [
  ['2-D stride 2, kernel 4, pads 1 (the usual ×2 upsampler), bias, batch 2', [2, 6, 5, 7], [6, 4, 4, 4], { strides: [2, 2], pads: [1, 1, 1, 1] }, true],
  ['2-D groups 3', [1, 6, 5, 4], [6, 2, 3, 3], { group: 3, strides: [2, 1] }, true],
  ['2-D depthwise (group = C), channel multiplier 2', [2, 4, 5, 5], [4, 2, 3, 3], { group: 4, strides: [2, 2], pads: [1, 0, 0, 1] }, true],
  ['2-D depthwise bilinear-style ×2 (group = C, multiplier 1)', [1, 8, 6, 6], [8, 1, 4, 4], { group: 8, strides: [2, 2], pads: [1, 1, 1, 1] }],
  ['2-D dilations with strides and output_padding', [1, 3, 4, 5], [3, 2, 3, 2], { strides: [3, 2], dilations: [2, 3], output_padding: [1, 1] }, true],
  ['2-D pads larger than dilation·(k-1) (cropping)', [1, 2, 6, 6], [2, 3, 2, 2], { strides: [2, 2], pads: [2, 1, 3, 2] }],
  ['2-D dilations with pads beyond dilation·(k-1) (cropping the spread path)', [1, 2, 6, 6], [2, 3, 2, 2], { strides: [2, 2], dilations: [2, 1], pads: [3, 1, 2, 2] }, true],
  ['2-D every row from padding alone (the spread input cropped empty)', [2, 2, 1, 4], [2, 1, 1, 2], { strides: [2, 3], dilations: [1, 2], pads: [1, 1, 0, 2], output_padding: [1, 2] }, true],
  ['2-D SAME_LOWER', [1, 2, 5, 4], [2, 3, 3, 3], { strides: [2, 3], auto_pad: 'SAME_LOWER' }],
  ['2-D output_shape with SAME_UPPER', [1, 2, 4, 4], [2, 2, 3, 3], { strides: [2, 2], output_shape: [8, 9], auto_pad: 'SAME_UPPER' }],
  ['2-D VALID', [1, 2, 4, 3], [2, 3, 2, 3], { strides: [2, 2], auto_pad: 'VALID' }],
  ['1-D groups 2, stride 3, pads, bias', [2, 4, 7], [4, 3, 4], { group: 2, strides: [3], pads: [1, 2] }, true],
  ['3-D groups 2, strides, dilations, pads, output_padding, bias', [2, 4, 3, 4, 3], [4, 2, 2, 3, 2], { group: 2, strides: [2, 1, 2], dilations: [1, 2, 1], pads: [1, 0, 1, 0, 2, 0], output_padding: [1, 0, 1] }, true],
];

describe('ConvTranspose vs onnxruntime-node', () => {
  for (const [what, x, w, attrs, bias] of CASES) {
    it(what, async () => {
      const { model, feeds } = convTModel(x, w, attrs, { bias });
      await checkAgainstOrt(model, feeds, { rtol: 1e-4, atol: 1e-5 });
    });
  }

  // Stride 3 over a kernel of 2: SAME_UPPER's output in·stride = 9 exceeds the 8 cells the kernel reaches, a total
  // padding of -1. onnx's reference splits it by floor division (pads -1 / 0: one cell of zeros first); onnxruntime
  // clamps it at 0 and returns 8 cells. The reference's answer is onnxruntime's, one zero cell before on each axis.
  it('2-D SAME_UPPER, stride larger than the kernel (negative total pad): the reference\'s zero cell first', async () => {
    const { model, feeds } = convTModel([1, 2, 3, 3], [2, 2, 2, 2], { strides: [3, 3], auto_pad: 'SAME_UPPER' });
    const full = (await runOrt(convTModel([1, 2, 3, 3], [2, 2, 2, 2], { strides: [3, 3] }).model, feeds)).y!;
    expect([...full.dims]).toEqual([1, 2, 8, 8]);
    const want = new Float32Array(2 * 81);
    (full.data as Float32Array).forEach((v, i) => { want[Math.floor(i / 64) * 81 + (Math.floor(i / 8) % 8 + 1) * 9 + (i % 8) + 1] = v; });
    const got = (await runOcellus(model, feeds, true)).outputs['y'];
    expectClose(got, new Tensor('float32', want, [1, 2, 9, 9]), { rtol: 1e-5, atol: 1e-6 }, 'y');
  });

  it('weights fed at run time (no derived filter kept)', async () => {
    const { model, feeds } = convTModel([1, 4, 5, 5], [4, 3, 3, 3], { group: 2, strides: [2, 2], pads: [1, 1, 0, 0] }, { fedWeights: true });
    await checkAgainstOrt(model, feeds, { rtol: 1e-4, atol: 1e-5 });
  });

  it('the filters of constant weights (one per stride phase: 4 for stride 2) are derived once per session and released with it', async () => {
    const { model, feeds } = convTModel([1, 3, 4, 4], [3, 2, 3, 3], { strides: [2, 2] });
    const before = tf.memory().numTensors;
    const session = await InferenceSession.create(model);
    await session.run(feeds);
    const kept = tf.memory().numTensors;
    await session.run(feeds);
    expect(tf.memory().numTensors, 'a second run allocates nothing that outlives it').toBe(kept);
    expect(session.memory().derived).toBe(4);
    await session.release();
    expect(session.memory().derived).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('ConvTranspose: a seeded sweep of 40 random geometries vs onnxruntime-node', () => {
  // 1-D/2-D/3-D, groups, strides 1–3, dilations 1–2, explicit pads with output_padding or SAME_* (totals ≥ 0:
  // onnxruntime clamps negative ones), bias or not. Each case names itself when it fails.
  it('all equal', async () => {
    const r = rng(2026), ri = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
    for (let t = 0, done = 0; done < 40; t++) {
      const rank = [1, 2, 2, 2, 3][ri(0, 4)]!, group = [1, 1, 2, 3][ri(0, 3)]!, cg = ri(1, 3), mg = ri(1, 3);
      const sp = Array.from({ length: rank }, () => ri(1, 6)), k = sp.map(() => ri(1, 4));
      const s = sp.map(() => ri(1, 3)), d = sp.map(() => (r() < 0.25 ? 2 : 1)), op = s.map(v => ri(0, v - 1));
      const attrs: Record<string, AttrInput> = { strides: s, dilations: d, group };
      const same = r() < 0.4 ? (r() < 0.5 ? 'SAME_UPPER' : 'SAME_LOWER') : undefined;
      const full = (i: number, extra: number) => s[i]! * (sp[i]! - 1) + (k[i]! - 1) * d[i]! + 1 + extra;
      if (same) {
        if (sp.some((n, i) => full(i, 0) < n * s[i]!)) continue;
        attrs['auto_pad'] = same;
      } else {
        const pads = [...sp.map(() => ri(0, 2)), ...sp.map(() => ri(0, 2))];
        if (sp.some((_, i) => full(i, op[i]!) - pads[i]! - pads[i + rank]! < 1)) continue;
        Object.assign(attrs, { pads, output_padding: op });
      }
      done++;
      const { model, feeds } = convTModel([ri(1, 2), cg * group, ...sp], [cg * group, mg, ...k], attrs, { bias: r() < 0.5 });
      const want = (await runOrt(model, feeds)).y!;
      expectClose((await runOcellus(model, feeds, true)).outputs['y'], want, { rtol: 1e-4, atol: 1e-5 }, `case ${t} ${JSON.stringify(attrs)} k ${k}`);
    }
  });
});

describe('ConvTranspose rejections name the node and the problem', () => {
  const rejects = (m: ReturnType<typeof convTModel>, re: RegExp) => expect(InferenceSession.create(m.model)).rejects.toThrow(re);
  it('weight channels that do not match the input', () => rejects(convTModel([1, 3, 4, 4], [2, 2, 3, 3], {}), /ConvTranspose 'deconv' \(opset 13\): weight W has 2 input channels \(dim 0\) but X has 3/));
  it('output_padding not smaller than the stride', () => rejects(convTModel([1, 2, 4, 4], [2, 2, 3, 3], { strides: [2, 2], output_padding: [2, 0] }), /output_padding 2 on spatial dim 0 must be smaller than its stride 2/));
  it('pads of the wrong length', () => rejects(convTModel([1, 2, 4, 4], [2, 2, 3, 3], { pads: [1, 1] }), /pads has 2 values but the input has 2 spatial dims \(expected 4\)/));
});
