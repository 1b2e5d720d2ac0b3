// Gemm / MatMul: the official node tests, then what they miss — numpy batch broadcasting, 1-D operands, the
// row-folding and per-slice paths, Gemm's materialised transposes and fused C — against onnxruntime-node, and
// local:FusedMatMul (no ORT equivalent) against a plain-TS reference.

import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { GraphBuilder, type AttrInput } from '../../src/ir/builder.js';
import type { ConstTensor } from '../../src/ir/graph.js';
import { expectClose, randomConst, randomTensor, runOcellus, runOrt } from '../helpers/cnn-reference.js';
import { nodeSuite } from '../helpers/node-suite.js';
import { spec } from './specs/gemm.js';

nodeSuite(spec);

const TOL = { rtol: 1e-4, atol: 1e-5 };

/** One-node model: inputs are graph inputs unless given as initializers. */
function oneNode(opType: string, ins: { name: string; dims: number[]; init?: ConstTensor }[], attrs: Record<string, AttrInput> = {},
  opts: { domain?: string; opset?: number } = {}) {
  const b = new GraphBuilder();
  const feeds: Record<string, Tensor> = {};
  ins.forEach(({ name, dims, init }, i) => {
    if (init) b.init(name, init);
    else { b.input(name, 'float32', dims); feeds[name] = randomTensor(dims, 11 + i); }
  });
  b.node(opType, ins.map(i => i.name), attrs, { outputs: ['y'], domain: opts.domain });
  b.output('y');
  return { model: b.model(opts.opset ?? 13), feeds };
}

async function againstOrt(opType: string, ins: { name: string; dims: number[]; init?: ConstTensor }[], attrs: Record<string, AttrInput> = {}) {
  const { model, feeds } = oneNode(opType, ins, attrs);
  const want = await runOrt(model, feeds);
  for (const optimize of [false, true]) {
    const got = await runOcellus(model, feeds, optimize);
    expectClose(got.outputs.y, want.y, TOL, `${opType} (passes ${optimize ? 'on' : 'off'})`);
  }
}

describe('MatMul beyond the node tests (vs onnxruntime)', () => {
  const cases: [string, number[], number[]][] = [
    ['N-D × matrix: batch folded into rows', [2, 3, 5, 8], [8, 6]],
    ['ViT-like projection', [2, 17, 32], [32, 48]],
    ['both batches broadcast', [2, 1, 3, 4], [5, 4, 2]],
    ['matrix × batched', [3, 4], [2, 4, 5]],
    ['batch of 1 × batched', [1, 3, 4], [6, 4, 5]],
    ['1-D × N-D', [4], [2, 4, 3]],
    ['N-D × 1-D', [2, 3, 4], [4]],
    ['1-D × 1-D', [7], [7]],
    ['attention-like, per-slice path', [1, 12, 64, 32], [1, 12, 32, 64]],
    ['attention-like, batched loop (20 slices)', [2, 10, 9, 8], [2, 10, 8, 9]],
    ['per-slice path, 100 slices', [100, 40, 41], [100, 41, 40]],
    ['per-slice path, both batches broadcast (48 slices)', [8, 1, 48, 40], [1, 6, 40, 48]],
  ];
  for (const [what, a, b] of cases) {
    it(`${what}: ${JSON.stringify(a)} × ${JSON.stringify(b)}`, () => againstOrt('MatMul', [{ name: 'a', dims: a }, { name: 'b', dims: b }]));
  }

  it('constant weight (the XNNPACK path a model uses)', () =>
    againstOrt('MatMul', [{ name: 'a', dims: [2, 5, 16] }, { name: 'w', dims: [16, 8], init: randomConst([16, 8], 3) }]));

  it('rejects mismatched inner dimensions, naming both shapes', async () => {
    const { model } = oneNode('MatMul', [{ name: 'a', dims: [2, 3] }, { name: 'b', dims: [4, 5] }]);
    await expect(InferenceSession.create(model)).rejects.toThrow(/inner dimensions differ: A \[2, 3\] has 3 columns, B \[4, 5\] has 4 rows/);
  });
});

describe('Gemm beyond the node tests (vs onnxruntime)', () => {
  it('transB with a constant B and rank-1 C (the classifier head; C fused when untransposed)', async () => {
    await againstOrt('Gemm', [{ name: 'x', dims: [2, 64] }, { name: 'w', dims: [10, 64], init: randomConst([10, 64], 4) },
      { name: 'c', dims: [10], init: randomConst([10], 5) }], { transB: 1 });
    await againstOrt('Gemm', [{ name: 'x', dims: [3, 16] }, { name: 'w', dims: [16, 10], init: randomConst([16, 10], 4) },
      { name: 'c', dims: [10], init: randomConst([10], 5) }]);
  });

  it('transB with ≥ 16 rows (B transposed first) and transA with ≥ 16 columns', async () => {
    await againstOrt('Gemm', [{ name: 'a', dims: [20, 8] }, { name: 'b', dims: [6, 8] }, { name: 'c', dims: [1, 6] }], { transB: 1, alpha: 0.5 });
    await againstOrt('Gemm', [{ name: 'a', dims: [8, 5] }, { name: 'b', dims: [8, 18] }, { name: 'c', dims: [5, 18] }], { transA: 1, beta: 1.5 });
    await againstOrt('Gemm', [{ name: 'a', dims: [8, 17] }, { name: 'b', dims: [19, 8] }], { transA: 1, transB: 1 });
  });

  it('rejects a missing C before opset 11', async () => {
    const { model } = oneNode('Gemm', [{ name: 'a', dims: [2, 3] }, { name: 'b', dims: [3, 4] }], {}, { opset: 9 });
    await expect(InferenceSession.create(model)).rejects.toThrow(/input C is required before opset 11/);
  });
});

// ---- local:FusedMatMul against a plain-TS reference -------------------------------------------------------------

/** erf by Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7). */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}

const ACT: Record<string, (v: number) => number> = {
  '': v => v,
  relu: v => Math.max(v, 0),
  gelu: v => 0.5 * v * (1 + erf(v / Math.SQRT2)),
};

/** act(A·B + bias) for A [..., M, K] and B [K, N] or [..., K, N] with the same batch; bias broadcasts numpy-style. */
function referenceFused(a: Tensor, b: Tensor, bias: Tensor | undefined, act: string): Float32Array {
  const [m, k] = a.dims.slice(-2) as [number, number], n = b.dims.at(-1)!;
  const batch = a.data.length / (m * k), bBatch = b.data.length / (k * n);
  const A = a.data as Float32Array, B = b.data as Float32Array, out = new Float32Array(batch * m * n);
  for (let p = 0; p < batch; p++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) s += A[p * m * k + i * k + q]! * B[(bBatch === 1 ? 0 : p * k * n) + q * n + j]!;
        const flat = p * m * n + i * n + j;
        // bias dims are right-aligned with the output; index it by the trailing coordinates it has.
        const bv = bias ? (bias.data as Float32Array)[bias.data.length === n ? j : bias.data.length === m * n ? i * n + j : flat]! : 0;
        out[flat] = ACT[act]!(s + bv);
      }
    }
  }
  return out;
}

describe('local:FusedMatMul (MatMul + bias + activation)', () => {
  const cases: { what: string; a: number[]; b: number[]; bias?: number[]; act: string; constB: boolean }[] = [
    { what: 'rank-1 bias fused, no activation', a: [2, 5, 8], b: [8, 6], bias: [6], act: '', constB: true },
    { what: 'rank-1 bias + relu fused', a: [7, 8], b: [8, 6], bias: [6], act: 'relu', constB: true },
    { what: 'rank-1 bias + gelu (ViT MLP)', a: [1, 9, 16], b: [16, 24], bias: [24], act: 'gelu', constB: true },
    { what: '[1, N] bias added after the product', a: [3, 8], b: [8, 6], bias: [1, 6], act: 'relu', constB: true },
    { what: '[M, N] bias', a: [2, 4, 8], b: [8, 5], bias: [4, 5], act: 'gelu', constB: false },
    { what: 'no bias, relu', a: [4, 8], b: [8, 3], act: 'relu', constB: false },
    { what: 'batched B, rank-1 bias + gelu', a: [3, 4, 8], b: [3, 8, 5], bias: [5], act: 'gelu', constB: false },
  ];
  for (const c of cases) {
    it(`${c.what}: ${JSON.stringify(c.a)} × ${JSON.stringify(c.b)}${c.bias ? ` + ${JSON.stringify(c.bias)}` : ''}`, async () => {
      const bT = randomTensor(c.b, 21), biasT = c.bias && randomTensor(c.bias, 22);
      const ins = [{ name: 'a', dims: c.a }, c.constB ? { name: 'b', dims: c.b, init: { dtype: 'float32', dims: c.b, data: bT.data } as ConstTensor } : { name: 'b', dims: c.b }];
      if (c.bias) ins.push({ name: 'bias', dims: c.bias, init: { dtype: 'float32', dims: c.bias, data: biasT!.data } as ConstTensor });
      const { model, feeds } = oneNode('FusedMatMul', ins, c.act ? { activation: c.act } : {}, { domain: 'local' });
      if (!c.constB) feeds.b = bT;
      const want = referenceFused(feeds.a!, bT, biasT, c.act);
      const got = await runOcellus(model, feeds, false);
      const outDims = [...c.a.slice(0, -1), c.b.at(-1)!];
      expectClose(got.outputs.y, new Tensor('float32', want, outDims), TOL, c.what);
    });
  }

  it('rejects an unknown activation and a bias that would grow the output', async () => {
    const bad = oneNode('FusedMatMul', [{ name: 'a', dims: [2, 3] }, { name: 'b', dims: [3, 4] }], { activation: 'tanh' }, { domain: 'local' });
    await expect(InferenceSession.create(bad.model)).rejects.toThrow(/activation 'tanh' is not supported/);
    const grow = oneNode('FusedMatMul', [{ name: 'a', dims: [2, 3] }, { name: 'b', dims: [3, 4] }, { name: 'c', dims: [3, 2, 4] }], {}, { domain: 'local' });
    await expect(InferenceSession.create(grow.model)).rejects.toThrow(/bias \[3, 2, 4\] does not broadcast to the product \[2, 4\]/);
  });
});
