// Node tests for kernels/attention.ts (none of its ops is an ONNX op, so the official suite lists nothing), then
// hand-written cases for local:LayerNorm, local:Gelu and local:Attention against plain-TypeScript references.

import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { GraphBuilder, type AttrInput } from '../../src/ir/builder.js';
import { nodeSuite } from '../helpers/node-suite.js';
import { rng } from '../helpers/random.js';
import { spec } from './specs/attention.js';

// The family holds only local-domain ops, so the official suite has nothing for it (an empty describe would fail).
if (spec.run.length || Object.keys(spec.skip ?? {}).length) nodeSuite(spec);

// ---- helpers ------------------------------------------------------------------------------------------------------

function random(dims: number[], seed: number, scale = 2): Tensor {
  const r = rng(seed);
  const n = dims.reduce((a, b) => a * b, 1);
  return new Tensor('float32', Float32Array.from({ length: n }, () => scale * (2 * r() - 1)), dims);
}

/** Runs one local-domain node on `inputs` (names in order; '' = omitted) and returns its output. */
async function runLocal(opType: string, inputs: (Tensor | undefined)[], attrs: Record<string, AttrInput> = {}): Promise<Tensor> {
  const b = new GraphBuilder();
  const names = inputs.map((t, i) => (t ? b.input(`in${i}`, 'float32', [...t.dims]) : ''));
  b.node(opType, names, attrs, { domain: 'local', outputs: ['y'] });
  b.output('y');
  const s = await InferenceSession.create(b.model(17), { optimize: false, checkShapes: true });
  try {
    const feeds = Object.fromEntries(inputs.flatMap((t, i) => (t ? [[`in${i}`, t]] : [])));
    await s.run(feeds);   // warm: the first run may allocate backend state
    const before = tf.memory().numTensors;
    const y = (await s.run(feeds))['y']!;
    expect(tf.memory().numTensors, 'tensors leaked').toBe(before);
    return y;
  } finally {
    await s.release();
  }
}

function expectClose(got: Tensor, want: Float64Array, dims: number[], atol: number, rtol = 0): void {
  expect([...got.dims]).toEqual(dims);
  const a = got.data as Float32Array;
  expect(a.length).toBe(want.length);
  let worst = 0, at = -1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - want[i]!) - rtol * Math.abs(want[i]!);
    if (d > worst) { worst = d; at = i; }
  }
  expect(worst, `element ${at}: ${a[at]} vs ${want[at]}`).toBeLessThanOrEqual(atol);
}

/** erf by its Maclaurin series (|x| < 3: terms stay below 1e4, so ~1e-12 absolute) and erfc's continued fraction beyond. */
function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = x, sum = x;
    for (let n = 1; n < 200; n++) {
      term *= -x * x / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = 0;
  for (let k = 60; k >= 1; k--) f = (k / 2) / (ax + f);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  return Math.sign(x) * (1 - erfc);
}

// ---- references ---------------------------------------------------------------------------------------------------

function refLayerNorm(x: Tensor, gamma: Tensor | undefined, beta: Tensor | undefined, inner: number, eps: number): Float64Array {
  const d = x.data as Float32Array, out = new Float64Array(d.length);
  for (let r = 0; r < d.length / inner; r++) {
    let mean = 0, v = 0;
    for (let i = 0; i < inner; i++) mean += d[r * inner + i]! / inner;
    for (let i = 0; i < inner; i++) v += (d[r * inner + i]! - mean) ** 2 / inner;
    for (let i = 0; i < inner; i++) {
      const g = gamma ? (gamma.data as Float32Array)[i % gamma.data.length]! : 1;
      const b = beta ? (beta.data as Float32Array)[i % beta.data.length]! : 0;
      out[r * inner + i] = ((d[r * inner + i]! - mean) / Math.sqrt(v + eps)) * g + b;
    }
  }
  return out;
}

/** softmax(scale·Q·Kᵀ)·V per batch and head; q/k/v as [B,N,C] ('bnc') or [N,B,C] ('nbc'). */
function refAttention(q: Tensor, k: Tensor, v: Tensor, heads: number, scale: number, seqFirst: boolean): { data: Float64Array; dims: number[] } {
  const [B, Nq, C] = seqFirst ? [q.dims[1]!, q.dims[0]!, q.dims[2]!] : (q.dims as [number, number, number]);
  const Nk = seqFirst ? k.dims[0]! : k.dims[1]!, Cv = v.dims[2]!;
  const D = C / heads, Dv = Cv / heads;
  // Offset of row (b, n) of q, k, v.
  const qRow = (b: number, n: number) => (seqFirst ? n * B + b : b * Nq + n) * C;
  const kRow = (b: number, n: number) => (seqFirst ? n * B + b : b * Nk + n) * C;
  const vRow = (b: number, n: number) => (seqFirst ? n * B + b : b * Nk + n) * Cv;
  const qd = q.data as Float32Array, kd = k.data as Float32Array, vd = v.data as Float32Array;
  const dims = seqFirst ? [Nq, B, Cv] : [B, Nq, Cv];
  const out = new Float64Array(B * Nq * Cv);
  const e = new Float64Array(Nk);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < Nq; i++) {
        const qo = qRow(b, i) + h * D;
        let m = -Infinity;
        for (let j = 0; j < Nk; j++) {
          const ko = kRow(b, j) + h * D;
          let dot = 0;
          for (let c = 0; c < D; c++) dot += qd[qo + c]! * kd[ko + c]!;
          e[j] = dot * scale;
          m = Math.max(m, e[j]!);
        }
        let z = 0;
        for (let j = 0; j < Nk; j++) { e[j] = Math.exp(e[j]! - m); z += e[j]!; }
        const oo = (seqFirst ? i * B + b : b * Nq + i) * Cv + h * Dv;
        for (let j = 0; j < Nk; j++) {
          const p = e[j]! / z, vo = vRow(b, j) + h * Dv;
          for (let c = 0; c < Dv; c++) out[oo + c] += p * vd[vo + c]!;
        }
      }
    }
  }
  return { data: out, dims };
}

// ---- cases --------------------------------------------------------------------------------------------------------

describe('local:LayerNorm', () => {
  it('normalises over the last axis with gamma and beta (ViT-B sizes: 197 × 768)', async () => {
    const x = random([1, 197, 768], 1, 3), g = random([768], 2), b = random([768], 3);
    const y = await runLocal('LayerNorm', [x, g, b], { axis: -1, epsilon: 1e-12 });
    expectClose(y, refLayerNorm(x, g, b, 768, 1e-12), [1, 197, 768], 2e-5, 1e-5);
  });

  it('normalises over the trailing axes from `axis`, gamma/beta optional', async () => {
    const x = random([2, 3, 4, 5], 4);
    expectClose(await runLocal('LayerNorm', [x], { axis: 2, epsilon: 1e-5 }), refLayerNorm(x, undefined, undefined, 20, 1e-5), [2, 3, 4, 5], 1e-5, 1e-5);
    const g = random([4, 5], 5);
    expectClose(await runLocal('LayerNorm', [x, g], { axis: -2, epsilon: 1e-3 }), refLayerNorm(x, g, undefined, 20, 1e-3), [2, 3, 4, 5], 1e-5, 1e-5);
  });

  it('rejects a gamma that does not match the normalised dims', async () => {
    await expect(runLocal('LayerNorm', [random([2, 8], 1), random([7], 2)], { axis: -1 })).rejects.toThrow(/gamma \[7\] does not broadcast over the normalised dims \[8\]/);
  });
});

describe('local:Gelu', () => {
  it('matches 0.5·x·(1 + erf(x/√2)) with an exact erf, over [-6, 6]', async () => {
    const x = random([4, 1000], 6, 6);
    const want = Float64Array.from(x.data as Float32Array, v => 0.5 * v * (1 + erf(v / Math.SQRT2)));
    expectClose(await runLocal('Gelu', [x]), want, [4, 1000], 1e-6, 1e-6);
  });

  it('rejects the tanh approximation', async () => {
    await expect(runLocal('Gelu', [random([3], 1)], { approximate: 'tanh' })).rejects.toThrow(/approximate='tanh' is not supported/);
  });
});

describe('local:Attention', () => {
  const cases = [
    { name: 'bnc, small (one batched product)', layout: 'bnc', B: 2, Nq: 5, Nk: 5, H: 2, D: 4, Dv: 4 },
    { name: 'bnc, ViT-B/16 sizes (head by head)', layout: 'bnc', B: 1, Nq: 197, Nk: 197, H: 12, D: 64, Dv: 64 },
    { name: 'bnc, batch 2, Nq ≠ Nk, Dv ≠ D (head by head)', layout: 'bnc', B: 2, Nq: 40, Nk: 60, H: 3, D: 16, Dv: 8 },
    { name: 'nbc, small', layout: 'nbc', B: 3, Nq: 4, Nk: 6, H: 2, D: 3, Dv: 5 },
    { name: 'nbc, batch 2 (head by head)', layout: 'nbc', B: 2, Nq: 50, Nk: 50, H: 4, D: 16, Dv: 16 },
  ] as const;
  for (const c of cases) {
    it(`matches softmax(s·QKᵀ)V per head: ${c.name}`, async () => {
      const seqFirst = c.layout === 'nbc';
      const shape = (n: number, ch: number) => (seqFirst ? [n, c.B, ch] : [c.B, n, ch]);
      const q = random(shape(c.Nq, c.H * c.D), 7), k = random(shape(c.Nk, c.H * c.D), 8), v = random(shape(c.Nk, c.H * c.Dv), 9);
      const scale = 1 / Math.sqrt(c.D);
      const y = await runLocal('Attention', [q, k, v], { heads: c.H, scale, layout: c.layout });
      const want = refAttention(q, k, v, c.H, scale, seqFirst);
      expectClose(y, want.data, want.dims, 2e-5, 1e-5);
    });
  }

  it('rejects channels not divisible by the head count, and a missing head count', async () => {
    const t = random([1, 4, 10], 1);
    await expect(runLocal('Attention', [t, t, t], { heads: 3 })).rejects.toThrow(/q has 10 channels, not divisible by 3 heads/);
    await expect(runLocal('Attention', [t, t, t], {})).rejects.toThrow(/required attribute 'heads' is missing/);
  });
});
