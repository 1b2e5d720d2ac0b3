// The quantized fused ops (local:NhwcDynQuantConv, local:DynQuantMatMul) on ocellus's int8 kernels: onnxruntime-style
// dynamic-quantization chains built by hand, run with passes on (fused, on the int8 kernels: counted) and off (the
// unfused ONNX operators on the exact float-chunk path, an independent computation): the same values bit for bit.
// Dense, 3×3 strided, grouped and depthwise convolutions; int8 and uint8 weights, per-tensor and per-channel.

import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/index.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import type { ConstTensor, Model } from '../../src/ir/graph.js';
import { int8Stats } from '../../kernels/wasm/int8.js';
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
