// Quantized operators: the official node tests, then what they miss — exactness where a float32 accumulation
// drifts (long rows, wide convolutions, kernels over 258 taps), per-channel / per-row zero points and scales, int8
// variants, saturation and ties — against onnxruntime-node and plain-JS integer references; and the promise behind
// OpDef.hostInputs: constant 8-bit weights are never uploaded as int32 tensors.

import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { GraphBuilder, type AttrInput } from '../../src/ir/builder.js';
import type { DType } from '../../src/ir/dtype.js';
import type { ConstTensor, Model } from '../../src/ir/graph.js';
import { expectClose, rng, runOcellus, runOrt } from '../helpers/cnn-reference.js';
import { nodeSuite } from '../helpers/node-suite.js';
import { spec } from './specs/quant.js';

nodeSuite(spec);

const EXACT = { rtol: 0, atol: 0 };

/** Seeded integers in [lo, hi] as the typed array of `dtype`. */
function ints(dtype: 'uint8' | 'int8' | 'int32', n: number, lo: number, hi: number, seed: number): Uint8Array | Int8Array | Int32Array {
  const r = rng(seed);
  const values = Array.from({ length: n }, () => lo + Math.floor(r() * (hi - lo + 1)));
  return dtype === 'uint8' ? Uint8Array.from(values) : dtype === 'int8' ? Int8Array.from(values) : Int32Array.from(values);
}

const numel = (d: readonly number[]) => d.reduce((a, b) => a * b, 1);
const konst = (dtype: DType, dims: number[], data: ConstTensor['data']): ConstTensor => ({ dtype, dims, data });

interface In { name: string; dtype: DType; dims: number[]; data: ConstTensor['data']; init?: boolean }

/** One-node model; inputs marked `init` become initializers, the others graph inputs fed with their data. */
function oneNode(opType: string, ins: (In | undefined)[], attrs: Record<string, AttrInput> = {}, opset = 13, out: DType = outType(opType, ins)): { model: Model; feeds: Record<string, Tensor> } {
  const b = new GraphBuilder();
  const feeds: Record<string, Tensor> = {};
  for (const i of ins) {
    if (!i) continue;
    if (i.init) b.init(i.name, konst(i.dtype, i.dims, i.data));
    else { b.input(i.name, i.dtype, i.dims); feeds[i.name] = new Tensor(i.dtype, i.data, i.dims); }
  }
  b.node(opType, ins.map(i => i?.name ?? ''), attrs, { outputs: ['y'] });
  b.output('y', out);
  return { model: b.model(opset), feeds };
}

/** The output type the spec gives: int32 for the integer products, the zero point's type for QLinear*, QuantizeLinear. */
function outType(opType: string, ins: (In | undefined)[]): DType {
  if (opType === 'MatMulInteger' || opType === 'ConvInteger') return 'int32';
  if (opType === 'DequantizeLinear') return 'float32';
  const zp = opType === 'QuantizeLinear' ? ins[2] : opType === 'QLinearMatMul' || opType === 'QLinearConv' ? ins[7] : undefined;
  return zp?.dtype ?? 'uint8';
}

/** Runs the model through ocellus with passes off and on, and checks both against `want`. */
async function expectOcellus(model: Model, feeds: Record<string, Tensor>, want: Tensor, what: string): Promise<void> {
  for (const optimize of [false, true]) {
    const { outputs } = await runOcellus(model, feeds, optimize);
    expect(outputs.y!.type, what).toBe(want.type);
    expectClose(outputs.y, want, EXACT, `${what} (passes ${optimize ? 'on' : 'off'})`);
  }
}

/** Exact integer A·B for A [m, k], B [k, n] (JS doubles hold these sums exactly). */
function refMatMul(a: ArrayLike<number>, az: number, b: ArrayLike<number>, bz: ArrayLike<number>, m: number, k: number, n: number): Int32Array {
  const y = new Int32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += (a[i * k + t]! - az) * (b[t * n + j]! - bz[bz.length === 1 ? 0 : j]!);
      y[i * n + j] = s;
    }
  }
  return y;
}

/** The same sum accumulated in float32, left to right: what a plain float product would give. */
function float32MatMul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float32Array {
  const y = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s = Math.fround(s + a[i * k + t]! * b[t * n + j]!);
      y[i * n + j] = s;
    }
  }
  return y;
}

describe('MatMulInteger is exact (int32 accumulation), where float32 accumulation drifts', () => {
  const [m, k, n] = [3, 4096, 4];
  const a = ints('uint8', m * k, 200, 255, 1), b = ints('int8', k * n, 100, 127, 2);
  const exact = refMatMul(a, 0, b, [0], m, k, n);

  it('the test data breaks a float32 accumulation (so the exactness check below can fail)', () => {
    const f = float32MatMul(a, b, m, k, n);
    expect(Array.from(f).some((v, i) => v !== exact[i])).toBe(true);
    expect(Math.max(...exact)).toBeGreaterThan(2 ** 24);
  });

  for (const constant of [true, false]) {
    it(`K = ${k}, values near 255 × 127, B ${constant ? 'a constant (host int8)' : 'a graph input'}`, async () => {
      const { model, feeds } = oneNode('MatMulInteger', [
        { name: 'a', dtype: 'uint8', dims: [m, k], data: a }, { name: 'b', dtype: 'int8', dims: [k, n], data: b, init: constant },
      ], {}, 10);
      await expectOcellus(model, feeds, new Tensor('int32', exact, [m, n]), 'MatMulInteger');
    });
  }

  it('per-column b_zero_point, scalar a_zero_point, batched A (vs onnxruntime and the JS reference)', async () => {
    const [bt, mm, kk, nn] = [2, 5, 700, 6];
    const aa = ints('uint8', bt * mm * kk, 0, 255, 3), bb = ints('uint8', kk * nn, 0, 255, 4), bz = ints('uint8', nn, 0, 255, 5);
    const { model, feeds } = oneNode('MatMulInteger', [
      { name: 'a', dtype: 'uint8', dims: [bt, mm, kk], data: aa }, { name: 'b', dtype: 'uint8', dims: [kk, nn], data: bb, init: true },
      { name: 'az', dtype: 'uint8', dims: [], data: Uint8Array.of(131) }, { name: 'bz', dtype: 'uint8', dims: [nn], data: bz, init: true },
    ], {}, 10);
    const want = await runOrt(model, feeds);
    expect([...want.y!.data as Int32Array]).toEqual([...refMatMul(aa, 131, bb, bz, bt * mm, kk, nn)]);
    await expectOcellus(model, feeds, want.y!, 'MatMulInteger per-column zp');
  });
});

/** Exact 2-D NCHW convolution, stride 1, symmetric padding p, of (x − xz) with (w − wz[o]). */
function refConv(x: ArrayLike<number>, xz: number, w: ArrayLike<number>, wz: ArrayLike<number>,
  [c, h, wd]: number[], [mo, kh, kw]: number[], p: number): Int32Array {
  const oh = h + 2 * p - kh + 1, ow = wd + 2 * p - kw + 1, y = new Int32Array(mo * oh * ow);
  for (let o = 0; o < mo; o++) {
    const z = wz[wz.length === 1 ? 0 : o]!;
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        let s = 0;
        for (let ci = 0; ci < c; ci++) {
          for (let u = 0; u < kh; u++) {
            for (let v = 0; v < kw; v++) {
              const r = i + u - p, q = j + v - p;
              if (r < 0 || q < 0 || r >= h || q >= wd) continue;   // padding holds the zero point: contributes 0
              s += (x[(ci * h + r) * wd + q]! - xz) * (w[((o * c + ci) * kh + u) * kw + v]! - z);
            }
          }
        }
        y[(o * oh + i) * ow + j] = s;
      }
    }
  }
  return y;
}

describe('ConvInteger is exact', () => {
  it('3×3 over 512 channels at full 8-bit range (K = 4608, sums ≈ 3·10^8), per-channel w_zero_point', async () => {
    const [c, h, w, mo] = [512, 4, 4, 3];
    const x = ints('uint8', c * h * w, 200, 255, 6), wt = ints('uint8', mo * c * 9, 0, 255, 7), wz = Uint8Array.of(0, 255, 17);
    const want = refConv(x, 0, wt, wz, [c, h, w], [mo, 3, 3], 1);
    expect(Math.max(...want.map(Math.abs))).toBeGreaterThan(2 ** 24);
    const { model, feeds } = oneNode('ConvInteger', [
      { name: 'x', dtype: 'uint8', dims: [1, c, h, w], data: x }, { name: 'w', dtype: 'uint8', dims: [mo, c, 3, 3], data: wt, init: true },
      { name: 'xz', dtype: 'uint8', dims: [], data: Uint8Array.of(0) }, { name: 'wz', dtype: 'uint8', dims: [mo], data: wz, init: true },
    ], { pads: [1, 1, 1, 1] }, 10);
    await expectOcellus(model, feeds, new Tensor('int32', want, [1, mo, h, w]), 'ConvInteger 512 channels');
  });

  it('a 17×17 kernel (289 taps: one channel alone exceeds 2^24, so x is split into base-16 digits)', async () => {
    const [h, w] = [20, 19];
    const x = ints('uint8', h * w, 0, 255, 8), wt = ints('uint8', 2 * 17 * 17, 0, 255, 9);
    const want = refConv(x, 255, wt, [0], [1, h, w], [2, 17, 17], 0);
    const { model, feeds } = oneNode('ConvInteger', [
      { name: 'x', dtype: 'uint8', dims: [1, 1, h, w], data: x }, { name: 'w', dtype: 'uint8', dims: [2, 1, 17, 17], data: wt },
      { name: 'xz', dtype: 'uint8', dims: [], data: Uint8Array.of(255) },
    ], {}, 10);
    await expectOcellus(model, feeds, new Tensor('int32', want, [1, 2, h - 16, w - 16]), 'ConvInteger 17×17');
  });

  it('more output channels than positions (the im2col path), chunked along C·kh·kw, strided and dilated', async () => {
    const cases: [number[], number[], Record<string, AttrInput>][] = [
      [[1, 64, 3, 3], [80, 64, 3, 3], { pads: [1, 1, 1, 1] }],
      [[2, 40, 7, 6], [90, 40, 3, 2], { strides: [2, 2], dilations: [1, 2], pads: [1, 0, 2, 1] }],
    ];
    for (const [[n, c, h, w], wd, attrs] of cases) {
      const x = ints('uint8', n * c * h * w, 0, 255, 21), wt = ints('uint8', numel(wd), 0, 255, 22);
      const { model, feeds } = oneNode('ConvInteger', [
        { name: 'x', dtype: 'uint8', dims: [n, c, h, w], data: x }, { name: 'w', dtype: 'uint8', dims: wd, data: wt, init: true },
        { name: 'xz', dtype: 'uint8', dims: [], data: Uint8Array.of(0) }, { name: 'wz', dtype: 'uint8', dims: [], data: Uint8Array.of(255), init: true },
      ], attrs, 10);
      const want = (await runOrt(model, feeds)).y!;
      if (!attrs.strides) expect([...want.data as Int32Array]).toEqual([...refConv(x, 0, wt, [255], [c, h, w], [wd[0]!, 3, 3], 1)]);
      await expectOcellus(model, feeds, want, `ConvInteger ${JSON.stringify(wd)} ${JSON.stringify(attrs)}`);
    }
  });

  it('strides, asymmetric pads, groups and a 1-D conv (vs onnxruntime)', async () => {
    const cases: [number[], number[], Record<string, AttrInput>][] = [
      [[2, 4, 9, 7], [6, 4, 3, 2], { strides: [2, 1], pads: [1, 0, 2, 1] }],
      [[1, 6, 8, 8], [6, 2, 3, 3], { group: 3, pads: [1, 1, 1, 1] }],
      [[1, 4, 8, 8], [8, 1, 3, 3], { group: 4, dilations: [2, 2] }],
      [[2, 3, 11], [5, 3, 4], { strides: [2], pads: [2, 1] }],
    ];
    for (const [xd, wd, attrs] of cases) {
      const { model, feeds } = oneNode('ConvInteger', [
        { name: 'x', dtype: 'uint8', dims: xd, data: ints('uint8', numel(xd), 0, 255, 10) },
        { name: 'w', dtype: 'uint8', dims: wd, data: ints('uint8', numel(wd), 0, 255, 11), init: true },
        { name: 'xz', dtype: 'uint8', dims: [], data: Uint8Array.of(100) },
        { name: 'wz', dtype: 'uint8', dims: [], data: Uint8Array.of(128), init: true },
      ], attrs, 10);
      await expectOcellus(model, feeds, (await runOrt(model, feeds)).y!, `ConvInteger ${JSON.stringify(xd)} ${JSON.stringify(attrs)}`);
    }
  });
});

describe('QLinearMatMul / QLinearConv beyond the node tests (vs onnxruntime)', () => {
  it('QLinearMatMul int8 × int8 with per-column b scale and zero point, K = 1000', async () => {
    const [m, k, n] = [4, 1000, 5];
    const { model, feeds } = oneNode('QLinearMatMul', [
      { name: 'a', dtype: 'int8', dims: [m, k], data: ints('int8', m * k, -128, 127, 12) },
      { name: 'as', dtype: 'float32', dims: [], data: Float32Array.of(0.02) },
      { name: 'az', dtype: 'int8', dims: [], data: Int8Array.of(-3) },
      { name: 'b', dtype: 'int8', dims: [k, n], data: ints('int8', k * n, -127, 127, 13), init: true },
      { name: 'bs', dtype: 'float32', dims: [n], data: Float32Array.of(0.001, 0.002, 0.0005, 0.003, 0.0011), init: true },
      { name: 'bz', dtype: 'int8', dims: [n], data: Int8Array.of(0, 1, -2, 3, 0), init: true },
      { name: 'ys', dtype: 'float32', dims: [], data: Float32Array.of(0.05) },
      { name: 'yz', dtype: 'int8', dims: [], data: Int8Array.of(5) },
    ], {}, 10);
    await expectOcellus(model, feeds, (await runOrt(model, feeds)).y!, 'QLinearMatMul int8');
  });

  it('QLinearConv uint8 with per-channel weights (scale and zero point) and an int32 bias', async () => {
    const [c, mo] = [16, 4];
    const { model, feeds } = oneNode('QLinearConv', [
      { name: 'x', dtype: 'uint8', dims: [1, c, 7, 6], data: ints('uint8', c * 42, 0, 255, 14) },
      { name: 'xs', dtype: 'float32', dims: [], data: Float32Array.of(0.01) },
      { name: 'xz', dtype: 'uint8', dims: [], data: Uint8Array.of(120) },
      { name: 'w', dtype: 'uint8', dims: [mo, c, 3, 3], data: ints('uint8', mo * c * 9, 0, 255, 15), init: true },
      { name: 'ws', dtype: 'float32', dims: [mo], data: Float32Array.of(0.003, 0.001, 0.002, 0.004), init: true },
      { name: 'wz', dtype: 'uint8', dims: [mo], data: Uint8Array.of(128, 120, 130, 127), init: true },
      { name: 'ys', dtype: 'float32', dims: [], data: Float32Array.of(0.2) },
      { name: 'yz', dtype: 'uint8', dims: [], data: Uint8Array.of(128) },
      { name: 'b', dtype: 'int32', dims: [mo], data: Int32Array.of(1000, -2000, 0, 77), init: true },
    ], { pads: [1, 1, 1, 1], strides: [2, 1] }, 10);
    await expectOcellus(model, feeds, (await runOrt(model, feeds)).y!, 'QLinearConv per-channel');
  });
});

describe('QuantizeLinear / DequantizeLinear / DynamicQuantizeLinear beyond the node tests', () => {
  /** The spec's rounding: nearest, ties to even. */
  const roundEven = (v: number) => (Math.abs(v % 1) === 0.5 ? 2 * Math.round(v / 2) : Math.round(v));

  it('QuantizeLinear ties round to even and saturate to int8 (vs the spec formula)', async () => {
    const x = Float32Array.of(0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.49, 1e6, -1e6, 254.5);
    const { model, feeds } = oneNode('QuantizeLinear', [
      { name: 'x', dtype: 'float32', dims: [x.length], data: x }, { name: 's', dtype: 'float32', dims: [], data: Float32Array.of(1) },
      { name: 'z', dtype: 'int8', dims: [], data: Int8Array.of(1) },
    ], {}, 10);
    const want = Int8Array.from(x, v => Math.min(127, Math.max(-128, roundEven(v) + 1)));
    await expectOcellus(model, feeds, new Tensor('int8', want, [x.length]), 'QuantizeLinear int8');
  });

  it('per-axis QuantizeLinear / DequantizeLinear (int8, axis −1) round-trip against onnxruntime', async () => {
    const x = Float32Array.from(ints('int32', 2 * 3 * 4, -300, 300, 16), v => v / 37);
    const s = Float32Array.of(0.01, 0.05, 0.1, 1), z = Int8Array.of(0, -10, 20, 127);
    const q = oneNode('QuantizeLinear', [
      { name: 'x', dtype: 'float32', dims: [2, 3, 4], data: x }, { name: 's', dtype: 'float32', dims: [4], data: s, init: true },
      { name: 'z', dtype: 'int8', dims: [4], data: z, init: true },
    ], { axis: -1 });
    const qWant = (await runOrt(q.model, q.feeds)).y!;
    await expectOcellus(q.model, q.feeds, qWant, 'QuantizeLinear per-axis');
    const d = oneNode('DequantizeLinear', [
      { name: 'x', dtype: 'int8', dims: [2, 3, 4], data: qWant.data }, { name: 's', dtype: 'float32', dims: [4], data: s, init: true },
      { name: 'z', dtype: 'int8', dims: [4], data: z, init: true },
    ], { axis: -1 });
    await expectOcellus(d.model, d.feeds, (await runOrt(d.model, d.feeds)).y!, 'DequantizeLinear per-axis');
  });

  it('DequantizeLinear of int32 beyond 2^24 subtracts the zero point in integers first', async () => {
    const x = Int32Array.of(2 ** 24 + 1, -(2 ** 30) - 3, 7);
    const { model, feeds } = oneNode('DequantizeLinear', [
      { name: 'x', dtype: 'int32', dims: [3], data: x }, { name: 's', dtype: 'float32', dims: [], data: Float32Array.of(0.5) },
      { name: 'z', dtype: 'int32', dims: [], data: Int32Array.of(1) },
    ], {}, 10);
    await expectOcellus(model, feeds, new Tensor('float32', Float32Array.from(x, v => Math.fround((v - 1)) * 0.5), [3]), 'DequantizeLinear int32');
  });

  it('DynamicQuantizeLinear matches onnxruntime on wide, one-sided and all-zero inputs', async () => {
    const inputs = [
      Float32Array.from(ints('int32', 1000, -5000, 9000, 17), v => v / 997),
      Float32Array.from(ints('int32', 300, 10, 9000, 18), v => v / 13),
      new Float32Array(8),   // all zeros: onnxruntime's scale 1, zero point 0
    ];
    for (const x of inputs) {
      const b = new GraphBuilder();
      b.input('x', 'float32', [x.length]);
      b.node('DynamicQuantizeLinear', ['x'], {}, { outputs: ['y', 'ys', 'yz'] });
      for (const o of ['y', 'ys', 'yz']) b.output(o, o === 'ys' ? 'float32' : 'uint8');
      const model = b.model(11), feeds = { x: new Tensor('float32', x, [x.length]) };
      const want = await runOrt(model, feeds);
      for (const optimize of [false, true]) {
        const { outputs } = await runOcellus(model, feeds, optimize);
        for (const o of ['y', 'ys', 'yz']) expectClose(outputs[o], want[o], EXACT, `DynamicQuantizeLinear ${o}`);
      }
    }
  });
});

describe('constant 8-bit weights stay on the host (OpDef.hostInputs)', () => {
  it('a MatMulInteger weight is neither uploaded nor widened: the plan has no slot for it', async () => {
    const [k, n] = [1024, 1024];
    const { model, feeds } = oneNode('MatMulInteger', [
      { name: 'a', dtype: 'uint8', dims: [2, k], data: ints('uint8', 2 * k, 0, 255, 19) },
      { name: 'b', dtype: 'int8', dims: [k, n], data: ints('int8', k * n, -127, 127, 20), init: true },
    ], {}, 10);
    const bytesBefore = tf.memory().numBytes;
    const session = await InferenceSession.create(model);
    try {
      const plan = session.plan(feeds);
      expect(plan.constSlots.map(c => c.value.dims)).not.toContainEqual([k, n]);
      expect(plan.steps[0]!.ins[1]).toBe(-1);
      expect(tf.memory().numBytes - bytesBefore).toBeLessThan(k * n);   // an int32 upload would be 4·k·n bytes
      const y = (await session.run(feeds)).y!;
      expect(y.dims).toEqual([2, n]);
    } finally {
      await session.release();
    }
  });
});
