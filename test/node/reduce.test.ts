// Reductions and normalisers: the official node tests (ONNX 1.12: opset 13 only), then what they miss, each against
// onnxruntime-node — Softmax/LogSoftmax/Hardmax opset 11 (2-D coercion at `axis`) next to opset 13 (one axis), the
// opset-18 axes-as-input forms with noop_with_empty_axes, integer reductions, the ViT shapes — and plan-time rejections.

import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor, type DType } from '../../src/index.js';
import { GraphBuilder, type AttrInput } from '../../src/ir/builder.js';
import type { ConstTensor, Model } from '../../src/ir/graph.js';
import { againstOrt, randomTensor, runOcellus } from '../helpers/cnn-reference.js';
import { nodeSuite } from '../helpers/node-suite.js';
import { spec } from './specs/reduce.js';

nodeSuite(spec);

/** One node over graph input x (+ optional axes as an initializer, a graph input, or nothing). */
function oneNode(opType: string, x: Tensor, attrs: Record<string, AttrInput>, opset: number,
  axes?: { value: number[]; as: 'init' | 'input' }, outType: DType = x.type): { model: Model; feeds: Record<string, Tensor> } {
  const b = new GraphBuilder();
  const feeds: Record<string, Tensor> = { x };
  const ins = [b.input('x', x.type, [...x.dims])];
  if (axes) {
    const t = new Tensor('int64', axes.value, [axes.value.length]);
    if (axes.as === 'init') ins.push(b.init('axes', { dtype: 'int64', dims: [...t.dims], data: t.data } as ConstTensor));
    else { ins.push(b.input('axes', 'int64', [axes.value.length])); feeds.axes = t; }
  }
  b.node(opType, ins, attrs, { outputs: ['y'] });
  b.output('y', outType);
  return { model: b.model(opset), feeds };
}

describe('Softmax, LogSoftmax, Hardmax: opset 11 coerces to 2-D, opset 13 normalises one axis', () => {
  const x = randomTensor([2, 3, 4, 5], 1, -3, 3);
  for (const opType of ['Softmax', 'LogSoftmax', 'Hardmax']) {
    for (const axis of [undefined, 0, 1, 2, 3, -1, -3]) {
      const attrs: Record<string, AttrInput> = axis === undefined ? {} : { axis };
      it(`${opType}-11 axis ${axis ?? 'default (1)'}`, async () => {
        await againstOrt(oneNode(opType, x, attrs, 11).model, { x });
      });
      it(`${opType}-13 axis ${axis ?? 'default (-1)'}`, async () => {
        await againstOrt(oneNode(opType, x, attrs, 13).model, { x });
      });
    }
  }

  it('the two semantics differ away from the last axis', async () => {
    const at = async (opset: number) => (await runOcellus(oneNode('Softmax', x, { axis: 1 }, opset).model, { x }, true)).outputs.y!;
    const [old, now] = [await at(11), await at(13)];
    const sumOver = (t: Tensor, idx: (k: number) => number, n: number) => Array.from({ length: n }, (_, k) => (t.data as Float32Array)[idx(k)]!).reduce((p, v) => p + v, 0);
    // opset 11: the 3×4×5 block of batch 0 sums to 1; opset 13: the 3 values along axis 1 at (0, ·, 0, 0) do.
    expect(sumOver(old, k => k, 60)).toBeCloseTo(1, 5);
    expect(sumOver(now, k => k * 20, 3)).toBeCloseTo(1, 5);
  });

  it('Hardmax marks only the first of tied maxima (opset 11 and 13)', async () => {
    const t = new Tensor('float32', [1, 3, 3, 0, 2, 2, 2, 1], [2, 4]);
    for (const opset of [11, 13]) await againstOrt(oneNode('Hardmax', t, {}, opset).model, { x: t });
  });

  it('ViT attention shape: Softmax-13 over the last axis of [1, 3, 197, 197]', async () => {
    const s = randomTensor([1, 3, 197, 197], 2, -8, 8);
    await againstOrt(oneNode('Softmax', s, { axis: -1 }, 13).model, { x: s });
  });
});

describe('reductions vs onnxruntime-node', () => {
  const x = randomTensor([3, 4, 5], 3, 0.1, 2);
  const OPS = ['ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceSumSquare', 'ReduceLogSum', 'ReduceLogSumExp'];

  for (const opType of OPS) {
    it(`${opType}-18: constant axes input, absent axes, noop_with_empty_axes, runtime axes`, async () => {
      await againstOrt(oneNode(opType, x, { keepdims: 0 }, 18, { value: [0, -1], as: 'init' }).model, { x });
      await againstOrt(oneNode(opType, x, {}, 18).model, { x });
      await againstOrt(oneNode(opType, x, { noop_with_empty_axes: 1 }, 18).model, { x });
      await againstOrt(oneNode(opType, x, { noop_with_empty_axes: 1, keepdims: 0 }, 18, { value: [1], as: 'init' }).model, { x });
      const { model, feeds } = oneNode(opType, x, { keepdims: 1 }, 18, { value: [2], as: 'input' });
      await againstOrt(model, feeds);
      // noop keeps the elementwise part (x² for SumSquare, |x| for L1/L2): mixed signs show it.
      const mixed = randomTensor([3, 4, 5], 6, -2, 2);
      await againstOrt(oneNode(opType, mixed, { noop_with_empty_axes: 1 }, 18, { value: [], as: 'init' }).model, { x: mixed });
    });
    it(`${opType}-${opType === 'ReduceSum' ? 1 : 13}: axes attribute`, async () => {
      const opset = opType === 'ReduceSum' ? 11 : 13;
      await againstOrt(oneNode(opType, x, { axes: [1], keepdims: 0 }, opset).model, { x });
      await againstOrt(oneNode(opType, x, { axes: [-1, 0] }, opset).model, { x });
      await againstOrt(oneNode(opType, x, { keepdims: 0 }, opset).model, { x });
    });
  }

  it('ReduceSum-13 with a constant axes initializer', async () => {
    await againstOrt(oneNode('ReduceSum', x, { keepdims: 0 }, 13, { value: [1], as: 'init' }).model, { x });
  });

  it('integer ReduceSum, ReduceMax, ReduceMin, ReduceProd, ReduceMean stay integers', async () => {
    const xi = new Tensor('int32', Array.from({ length: 24 }, (_, i) => ((i * 7) % 11) - 4), [2, 3, 4]);
    for (const opType of ['ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceMean']) {
      await againstOrt(oneNode(opType, xi, { axes: [1] }, 11).model, { x: xi }, { rtol: 0, atol: 0 });
    }
  });

  it('ViT LayerNorm shape: ReduceMean-13 over the last axis of [1, 197, 768]', async () => {
    const v = randomTensor([1, 197, 768], 4);
    await againstOrt(oneNode('ReduceMean', v, { axes: [-1] }, 13).model, { x: v });
  });

  it('ArgMax/ArgMin on int32 with ties, select_last_index and keepdims=0', async () => {
    const t = new Tensor('int32', [1, 3, 3, 0, 2, 2, -1, -1, 5, 0, 5, 0], [2, 2, 3]);
    for (const opType of ['ArgMax', 'ArgMin']) {
      for (const attrs of [{ axis: -1 }, { axis: 2, select_last_index: 1 }, { axis: 0, keepdims: 0, select_last_index: 1 }, { axis: 1, keepdims: 0 }] as Record<string, AttrInput>[]) {
        await againstOrt(oneNode(opType, t, attrs, 13, undefined, 'int64').model, { x: t }, { rtol: 0, atol: 0 });
      }
    }
  });
});

describe('plan-time rejections name the node and the problem', () => {
  const x = randomTensor([2, 3, 4], 5);
  const CASES: [string, () => { model: Model }, RegExp][] = [
    ['axis out of range', () => oneNode('Softmax', x, { axis: 3 }, 13), /Softmax 'Softmax_0' \(opset 13\): axis 3 is out of range for rank 3 \(expected -3 to 2\)/],
    ['axes entry out of range', () => oneNode('ReduceMean', x, { axes: [0, -4] }, 13), /axes entry -4 is out of range for rank 3/],
    ['axes input entry out of range', () => oneNode('ReduceMax', x, {}, 18, { value: [3], as: 'init' }), /ReduceMax 'ReduceMax_0' \(opset 18\): axes entry 3 is out of range/],
    ['an axis named twice', () => oneNode('ReduceSum', x, { axes: [1, -2] }, 11), /axes \[1,-2\] name an axis twice/],
    ['integer Softmax', () => oneNode('Softmax', new Tensor('int32', [1, 2], [2]), {}, 13), /input 0 is int32 but Softmax takes float tensors/],
    ['ArgMax axis out of range', () => oneNode('ArgMax', x, { axis: -4 }, 13, undefined, 'int64'), /axis -4 is out of range for rank 3/],
  ];
  for (const [what, make, message] of CASES) {
    it(what, async () => {
      await expect(InferenceSession.create(make().model)).rejects.toThrow(message);
    });
  }
});
