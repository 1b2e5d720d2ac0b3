// The quantized fused ops (local:NhwcDynQuantConv, local:DynQuantMatMul) on ocellus's int8 kernels: onnxruntime-style
// dynamic-quantization chains built by hand, run with passes on (fused, on the int8 kernels: counted) and off (the
// unfused ONNX operators on the exact float-chunk path, an independent computation): the same values bit for bit.
// Dense, 3×3 strided, grouped and depthwise convolutions; int8 and uint8 weights, per-tensor and per-channel. Then
// the standalone integer operators (MatMulInteger, ConvInteger) with constant weights: counted, against JS integers.

import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/index.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import type { ConstTensor, Model } from '../../src/ir/graph.js';
import { int8Stats, setInt8Kernels } from '../../kernels/wasm/int8.js';
import { expectClose, randomTensor, rng, runOcellus } from '../helpers/cnn-reference.js';

function int8s(dims: number[], seed: number, signed: boolean): ConstTensor {
  const r = rng(seed), n = dims.reduce((a, b) => a * b, 1);
  return signed
    ? { dtype: 'int8', dims, data: Int8Array.from({ length: n }, () => Math.floor(r() * 256) - 128) }
    : { dtype: 'uint8', dims, data: Uint8Array.from({ length: n }, () => Math.floor(r() * 256)) };
}
const floats = (dims: number[], values: number[]): ConstTensor => ({ dtype: 'float32', dims, data: Float32Array.from(values) });
const ramp = (n: number, a: number, b: number) => Array.from({ length: n }, (_, i) => a + (b * i) / n);

/** DynamicQuantizeLinear(x), once per x. */
const quantized = new Map<string, [string, string, string]>();
function dql(b: GraphBuilder, x: string): [string, string, string] {
  if (!quantized.has(x)) quantized.set(x, b.node('DynamicQuantizeLinear', [x], {}, { outputs: [`${x}_q`, `${x}_s`, `${x}_z`] }) as [string, string, string]);
  return quantized.get(x)!;
}

/** DynamicQuantizeLinear(x) → opType(x_q, W, x_zp, w_zp) → Cast → Mul(·, Mul(x_scale, w_scale)) [→ Add bias]. */
function chain(b: GraphBuilder, x: string, opType: string, w: string, wz: string, ws: string, bias: string | undefined, attrs: Record<string, number[] | number> = {}): string {
  const [xq, xs, xz] = dql(b, x);
  const acc = b.op(opType, [xq, w, xz, wz], attrs);
  const y = b.op('Mul', [b.op('Cast', [acc], { to: 1 }), b.op('Mul', [xs, ws])]);
  return bias ? b.op('Add', [y, bias]) : y;
}

/** Runs passes off, then on (counting the int8 kernels' products); the outputs must be equal. */
async function onOff(model: Model, feeds: Record<string, Tensor>): Promise<{ ops: string[]; products: number }> {
  const off = await runOcellus(model, feeds, false);
  const before = int8Stats.products;
  const on = await runOcellus(model, feeds, true);
  for (const name of Object.keys(off.outputs)) expectClose(on.outputs[name], off.outputs[name], { rtol: 0, atol: 0 }, name);
  return { ops: on.ops, products: int8Stats.products - before };
}

describe('quantized fused ops on the int8 kernels', () => {
  it('MatMul chains: int8 per-tensor with a bias and a Relu, uint8 per-column, sharing one DynamicQuantizeLinear; batch dims', async () => {
    quantized.clear();
    const b = new GraphBuilder();
    b.input('x', 'float32', [2, 5, 41]);
    b.init('w1', int8s([41, 13], 1, true)); b.init('w1z', { dtype: 'int8', dims: [], data: Int8Array.of(3) });
    b.init('w1s', floats([], [0.004])); b.init('b1', floats([13], ramp(13, -0.5, 1)));
    b.init('w2', int8s([41, 7], 2, false)); b.init('w2z', int8s([7], 3, false)); b.init('w2s', floats([7], ramp(7, 0.001, 0.01)));
    b.output(b.op('Relu', [chain(b, 'x', 'MatMulInteger', 'w1', 'w1z', 'w1s', 'b1')], {}, 'y1'));
    b.output(chain(b, 'x', 'MatMulInteger', 'w2', 'w2z', 'w2s', undefined), 'y2');
    const { ops, products } = await onOff(b.model(14), { x: randomTensor([2, 5, 41], 4, -3, 5) });
    expect(ops.filter(o => o === 'local:DynQuantMatMul')).toHaveLength(2);
    expect(products).toBeGreaterThanOrEqual(2);
  });

  it('Conv chains: 3×3 stride 2 with per-channel uint8 weights, a grouped 3×3 (int8) and a depthwise 3×3, with Relus', async () => {
    quantized.clear();
    const b = new GraphBuilder();
    b.input('x', 'float32', [1, 4, 13, 11]);
    const m = 8;
    b.init('w', int8s([m, 4, 3, 3], 5, false)); b.init('wz', int8s([m], 6, false)); b.init('ws', floats([m, 1, 1], ramp(m, 0.005, 0.03)));
    b.init('bias', floats([1, m, 1, 1], ramp(m, -0.3, 0.6)));
    const h1 = b.op('Relu', [chain(b, 'x', 'ConvInteger', 'w', 'wz', 'ws', 'bias', { pads: [1, 1, 1, 1], strides: [2, 2] })]);
    b.init('wg', int8s([m, 2, 3, 3], 7, true)); b.init('wgz', { dtype: 'int8', dims: [], data: Int8Array.of(-5) }); b.init('wgs', floats([], [0.02]));
    const h2 = b.op('Relu', [chain(b, h1, 'ConvInteger', 'wg', 'wgz', 'wgs', undefined, { pads: [1, 1, 1, 1], group: 4 })]);
    b.init('wd', int8s([m, 1, 3, 3], 8, false)); b.init('wdz', int8s([m], 9, false)); b.init('wds', floats([m, 1, 1], ramp(m, 0.01, 0.02)));
    b.init('bd', floats([1, m, 1, 1], ramp(m, 0.2, -0.4)));
    b.output(chain(b, h2, 'ConvInteger', 'wd', 'wdz', 'wds', 'bd', { pads: [1, 0, 1, 2], group: m }), 'y');
    const { ops, products } = await onOff(b.model(13), { x: randomTensor([1, 4, 13, 11], 10, -1, 2) });
    expect(ops.filter(o => o === 'local:NhwcDynQuantConv')).toHaveLength(3);
    expect(products).toBeGreaterThanOrEqual(1 + 4 + 1);   // dense, one product per group, the direct depthwise kernel
  });
});

describe('standalone integer operators on the int8 kernels', () => {
  it('MatMulInteger (int8 A fed, uint8 B per-column zero points) and ConvInteger (uint8 x, strided, padded, grouped)', async () => {
    const r = rng(31);
    const [M, K, N] = [3, 37, 5];
    const a = Int8Array.from({ length: M * K }, () => Math.floor(r() * 256) - 128);
    const bw = int8s([K, N], 32, false), bz = int8s([N], 33, false);
    const [C, H, W, O, G] = [4, 7, 6, 6, 2];
    const x = Uint8Array.from({ length: C * H * W }, () => Math.floor(r() * 256));
    const cw = int8s([O, C / G, 3, 3], 34, true), cz = int8s([O], 35, true);
    const b = new GraphBuilder();
    b.input('a', 'int8', [M, K]); b.input('x', 'uint8', [1, C, H, W]);
    b.init('b', bw); b.init('bz', bz); b.init('az', { dtype: 'int8', dims: [], data: Int8Array.of(-7) });
    b.init('w', cw); b.init('wz', cz); b.init('xz', { dtype: 'uint8', dims: [], data: Uint8Array.of(140) });
    const y1 = b.output(b.op('MatMulInteger', ['a', 'b', 'az', 'bz']), 'int32');
    const y2 = b.output(b.op('ConvInteger', ['x', 'w', 'xz', 'wz'], { pads: [1, 0, 1, 1], strides: [2, 1], group: G }), 'int32');
    const before = int8Stats.products;
    const { outputs } = await runOcellus(b.model(13), { a: new Tensor('int8', a, [M, K]), x: new Tensor('uint8', x, [1, C, H, W]) }, false);
    expect(int8Stats.products - before).toBe(1 + G);
    const bd = bw.data as Uint8Array, bzd = bz.data as Uint8Array;
    const want1 = Array.from({ length: M * N }, (_, i) => {
      let s = 0;
      for (let k = 0; k < K; k++) s += (a[Math.floor(i / N) * K + k]! + 7) * (bd[k * N + (i % N)]! - bzd[i % N]!);
      return s;
    });
    expect(Array.from(outputs[y1]!.data as Int32Array)).toEqual(want1);
    const OH = Math.floor((H + 2 - 3) / 2) + 1, OW = W + 1 - 3 + 1, wd = cw.data as Int8Array, wzd = cz.data as Int8Array;
    const want2: number[] = [];
    for (let o = 0; o < O; o++) for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) {
      const g = Math.floor(o / (O / G));
      let s = 0;
      for (let ci = 0; ci < C / G; ci++) for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) {
        const iy = oy * 2 - 1 + ky, ix = ox + kx;
        const xv = iy >= 0 && iy < H && ix >= 0 && ix < W ? x[((g * (C / G) + ci) * H + iy) * W + ix]! : 140;
        s += (xv - 140) * (wd[((o * (C / G) + ci) * 3 + ky) * 3 + kx]! - wzd[o]!);
      }
      want2.push(s);
    }
    expect(outputs[y2]!.dims).toEqual([1, O, OH, OW]);
    expect(Array.from(outputs[y2]!.data as Int32Array)).toEqual(want2);
  });
});

it('setInt8Kernels(false) leaves the quantized ops on the float-chunk path (nothing counted), with the same bits', async () => {
  quantized.clear();
  const b = new GraphBuilder();
  b.input('x', 'float32', [3, 29]);
  b.init('w', int8s([29, 6], 41, true)); b.init('wz', { dtype: 'int8', dims: [], data: Int8Array.of(0) }); b.init('ws', floats([], [0.01]));
  b.output(chain(b, 'x', 'MatMulInteger', 'w', 'wz', 'ws', undefined), 'float32');
  const feeds = { x: randomTensor([3, 29], 42, -2, 2) };
  const on = await onOff(b.model(14), feeds);
  expect(on.products).toBeGreaterThan(0);
  setInt8Kernels(false);
  try {
    const off = await onOff(b.model(14), feeds);
    expect(off.products).toBe(0);
  } finally {
    setInt8Kernels(undefined);
  }
});
