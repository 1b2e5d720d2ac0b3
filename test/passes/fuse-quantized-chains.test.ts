// fuse-quantized-chains: onnxruntime-style dynamic-quantization chains built by hand (MatMul with bias and a
// DynamicQuantizeLinear shared by two products; Conv with per-channel weights, NCHW-shaped scale and bias, and a
// Relu), run with passes on and off: the fused local ops must give the same values bit for bit, the chains must be
// gone from the plan, and what does not match (a weight that is not constant) must be left alone.

import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/index.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import type { ConstTensor, Model } from '../../src/ir/graph.js';
import { expectClose, randomTensor, rng, runOcellus } from '../helpers/cnn-reference.js';

const EXACT = { rtol: 0, atol: 0 };

function int8s(dims: number[], seed: number, signed: boolean): ConstTensor {
  const r = rng(seed), n = dims.reduce((a, b) => a * b, 1);
  return signed
    ? { dtype: 'int8', dims, data: Int8Array.from({ length: n }, () => Math.floor(r() * 255) - 127) }
    : { dtype: 'uint8', dims, data: Uint8Array.from({ length: n }, () => Math.floor(r() * 256)) };
}
const floats = (dims: number[], values: number[]): ConstTensor => ({ dtype: 'float32', dims, data: Float32Array.from(values) });

/** DynamicQuantizeLinear(x) once; returns its outputs. */
function dql(b: GraphBuilder, x: string): [string, string, string] {
  return b.node('DynamicQuantizeLinear', [x], {}, { outputs: [`${x}_q`, `${x}_s`, `${x}_z`] }) as [string, string, string];
}

/** opType(x_q, W, x_zp, w_zp) → Cast → Mul(·, Mul(x_scale, w_scale)) [→ Add bias]: onnxruntime's dynamic chain. */
function chain(b: GraphBuilder, [xq, xs, xz]: string[], opType: string, w: string, wz: string, ws: string, bias: string | undefined,
  attrs: Record<string, number[]> = {}): string {
  const acc = b.op(opType, [xq!, w, xz!, wz], attrs);
  const f = b.op('Cast', [acc], { to: 1 });
  const y = b.op('Mul', [f, b.op('Mul', [xs!, ws])]);
  return bias ? b.op('Add', [y, bias]) : y;
}

async function compareOnOff(model: Model, feeds: Record<string, Tensor>): Promise<string[]> {
  const off = await runOcellus(model, feeds, false);
  const on = await runOcellus(model, feeds, true);
  for (const name of Object.keys(off.outputs)) expectClose(on.outputs[name], off.outputs[name], EXACT, name);
  return on.ops;
}

describe('fuse-quantized-chains', () => {
  it('MatMul chains (int8 per-tensor with bias, uint8 per-column without) sharing one DynamicQuantizeLinear', async () => {
    const b = new GraphBuilder();
    b.input('x', 'float32', [2, 5, 40]);
    const q = dql(b, 'x');
    b.init('w1', int8s([40, 12], 1, true)); b.init('w1z', { dtype: 'int8', dims: [], data: Int8Array.of(0) });
    b.init('w1s', floats([], [0.004])); b.init('b1', floats([12], Array.from({ length: 12 }, (_, i) => i / 10 - 0.5)));
    b.init('w2', int8s([40, 7], 2, false)); b.init('w2z', int8s([7], 3, false));
    b.init('w2s', floats([7], [0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.007]));
    b.output(b.op('Relu', [chain(b, q, 'MatMulInteger', 'w1', 'w1z', 'w1s', 'b1')], {}, 'y1'));
    b.output(chain(b, q, 'MatMulInteger', 'w2', 'w2z', 'w2s', undefined));
    const ops = await compareOnOff(b.model(14), { x: randomTensor([2, 5, 40], 4, -3, 5) });
    expect(ops.filter(o => o === 'local:DynQuantMatMul')).toHaveLength(2);
    expect(ops).not.toContain('DynamicQuantizeLinear');
    expect(ops).not.toContain('MatMulInteger');
  });

  it('Conv chains: per-channel uint8 weights, [M,1,1] scale, [1,M,1,1] bias, Relu; NHWC end to end', async () => {
    const b = new GraphBuilder();
    b.input('x', 'float32', [1, 3, 12, 10]);
    const m = 6;
    b.init('w', int8s([m, 3, 3, 3], 5, false)); b.init('wz', int8s([m], 6, false));
    b.init('ws', floats([m, 1, 1], [0.01, 0.02, 0.015, 0.005, 0.03, 0.01]));
    b.init('bias', floats([1, m, 1, 1], [0.1, -0.2, 0.3, 0, 0.05, -0.5]));
    const h = b.op('Relu', [chain(b, dql(b, 'x'), 'ConvInteger', 'w', 'wz', 'ws', 'bias', { pads: [1, 1, 1, 1], strides: [2, 1] })]);
    b.init('w2', int8s([4, m, 1, 1], 7, false)); b.init('w2z', { dtype: 'uint8', dims: [], data: Uint8Array.of(120) });
    b.init('w2s', floats([], [0.02]));
    b.output(chain(b, dql(b, h), 'ConvInteger', 'w2', 'w2z', 'w2s', undefined), 'float32');
    const ops = await compareOnOff(b.model(13), { x: randomTensor([1, 3, 12, 10], 8, -1, 2) });
    expect(ops.filter(o => o === 'local:NhwcDynQuantConv')).toHaveLength(2);
    expect(ops.filter(o => o === 'Transpose')).toHaveLength(2);   // once in, once out: the Relu joined the first conv
    expect(ops).not.toContain('Relu');
  });

  it('leaves a Conv chain whose [M] scale broadcasts along the width, not the channels (M = width here)', async () => {
    const b = new GraphBuilder();
    b.input('x', 'float32', [1, 3, 6, 4]);
    b.init('w', int8s([4, 3, 3, 3], 11, false)); b.init('wz', { dtype: 'uint8', dims: [], data: Uint8Array.of(128) });
    b.init('ws', floats([4], [0.01, 0.02, 0.03, 0.04]));
    b.output(chain(b, dql(b, 'x'), 'ConvInteger', 'w', 'wz', 'ws', undefined, { pads: [1, 1, 1, 1] }), 'float32');
    const ops = await compareOnOff(b.model(13), { x: randomTensor([1, 3, 6, 4], 12) });
    expect(ops).toContain('ConvInteger');
    expect(ops).not.toContain('local:NhwcDynQuantConv');
  });

  it('leaves a chain whose weight is not a constant, and keeps a DynamicQuantizeLinear another node still reads', async () => {
    const b = new GraphBuilder();
    b.input('x', 'float32', [3, 8]);
    b.input('w', 'int8', [8, 4]);
    const q = dql(b, 'x');
    b.init('wz', { dtype: 'int8', dims: [], data: Int8Array.of(0) });
    b.init('ws', floats([], [0.01]));
    b.output(chain(b, q, 'MatMulInteger', 'w', 'wz', 'ws', undefined));
    b.output(q[0]!, 'uint8');
    const feeds = { x: randomTensor([3, 8], 9), w: new Tensor('int8', int8s([8, 4], 10, true).data, [8, 4]) };
    const ops = await compareOnOff(b.model(14), feeds);
    expect(ops).toContain('MatMulInteger');
    expect(ops).toContain('DynamicQuantizeLinear');
  });
});
