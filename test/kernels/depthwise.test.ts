// ocellus's depthwise and grouped conv kernels (kernels/wasm/depthwise.ts) against a float64 NHWC convolution
// computed here: random geometries (odd channel counts, every window size with and without an unrolled kernel,
// strides, pads, dilations, batch 2), every activation, with and without a residual; the activations alone over a
// dense range of inputs (their error vs float64 measured and bounded); the same bits on one thread and on the pool;
// packed blocks freed and tensors flat.

import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { backendInfo, ensureBackend } from '../../kernels/backend.js';
import { ACTIVATION_KINDS, type Activation, type ActivationKind } from '../../kernels/wasm/activations.js';
import { depthwiseConv, groupedConv, packDepthwise, packGrouped, type PackedConv } from '../../kernels/wasm/depthwise.js';
import { ownGemm, packedStats, type ConvWindow } from '../../kernels/wasm/gemm.js';
import { rng } from '../helpers/cnn-reference.js';
import { tidyValue } from '../helpers/tidy.js';

beforeAll(async () => {
  await ensureBackend();
});

const packedByTest: PackedConv[] = [];
afterEach(() => {
  for (const p of packedByTest.splice(0)) p.dispose();
});
const keep = (p: PackedConv) => (packedByTest.push(p), p);

/** erf in float64: its Maclaurin series below 3, Laplace's continued fraction for erfc above. */
function erf64(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = ax, sum = ax;
    for (let n = 1; Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= -ax * ax / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = 0;
  for (let k = 80; k >= 1; k--) f = (k / 2) / (ax + f);
  return Math.sign(x) * (1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f));
}

/** Each activation in float64, from its ONNX definition. */
function act64(a: Activation): (x: number) => number {
  const p = (v: number | undefined, dflt: number) => Math.fround(v ?? dflt);   // ONNX passes them as float32
  switch (a.kind) {
    case 'linear': return x => x;
    case 'relu': return x => Math.max(x, 0);
    case 'clip': return x => Math.min(Math.max(x, p(a.lo, -Infinity)), p(a.hi, Infinity));
    case 'hardsigmoid': return x => Math.max(0, Math.min(1, p(a.alpha, 0.2) * x + p(a.beta, 0.5)));
    case 'hardswish': return x => x * Math.max(0, Math.min(1, x / 6 + 0.5));
    case 'silu': return x => x / (1 + Math.exp(-x));
    case 'gelu': return x => 0.5 * x * (1 + erf64(x / Math.SQRT2));
  }
}

/** A sample activation of each kind (clip as ReLU6 and with other bounds). */
const ACTS: Activation[] = [
  { kind: 'linear' }, { kind: 'relu' }, { kind: 'clip', lo: 0, hi: 6 }, { kind: 'clip', lo: -0.3, hi: 0.4 },
  { kind: 'hardsigmoid', alpha: 0.3, beta: 0.4 }, { kind: 'hardswish' }, { kind: 'silu' }, { kind: 'gelu' },
];

function random(n: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => 2 * r() - 1);
}

interface Case {
  n: number; H: number; W: number; C: number; N: number; G: number;
  k: [number, number]; s: [number, number]; d: [number, number]; pad: [number, number, number, number];   // top, left, bottom, right
}

function windowOf(c: Case): ConvWindow {
  const out = (len: number, k: number, s: number, d: number, b: number, e: number) => Math.floor((len + b + e - (k - 1) * d - 1) / s) + 1;
  return {
    kernel: c.k, strides: c.s, dilations: c.d, padBegin: [c.pad[0], c.pad[1]],
    out: [out(c.H, c.k[0], c.s[0], c.d[0], c.pad[0], c.pad[2]), out(c.W, c.k[1], c.s[1], c.d[1], c.pad[1], c.pad[3])],
  };
}

/**
 * The float64 reference: y[n, oy, ox, o] = act(b[o] + Σ x[n, iy, ix, g·Cg + ci] · w[ky, kx, ci, o] + r), with
 * g = ⌊o / Ng⌋, iy = oy·s − pad + ky·d (terms outside the input are zero); w in tfjs conv2d layout [kh, kw, Cg, N].
 * Also returns Σ|terms| per output, the scale of float32 rounding in the sums.
 */
function reference(c: Case, x: Float32Array, w: Float32Array, b: Float32Array, a: Activation, res?: Float32Array): { y: Float64Array; mag: Float64Array } {
  const win = windowOf(c), [OH, OW] = win.out, Cg = c.C / c.G, Ng = c.N / c.G, f = act64(a);
  const y = new Float64Array(c.n * OH * OW * c.N), mag = new Float64Array(y.length);
  for (let n = 0; n < c.n; n++) for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) for (let o = 0; o < c.N; o++) {
    const g = Math.floor(o / Ng), at = ((n * OH + oy) * OW + ox) * c.N + o;
    let s = b[o]!, m = Math.abs(b[o]!);
    for (let ky = 0; ky < c.k[0]; ky++) for (let kx = 0; kx < c.k[1]; kx++) {
      const iy = oy * c.s[0] - c.pad[0] + ky * c.d[0], ix = ox * c.s[1] - c.pad[1] + kx * c.d[1];
      if (iy < 0 || iy >= c.H || ix < 0 || ix >= c.W) continue;
      for (let ci = 0; ci < Cg; ci++) {
        const t = x[((n * c.H + iy) * c.W + ix) * c.C + g * Cg + ci]! * w[((ky * c.k[1] + kx) * Cg + ci) * c.N + o]!;
        s += t; m += Math.abs(t);
      }
    }
    if (res) { s += res[at]!; m += Math.abs(res[at]!); }
    y[at] = f(s); mag[at] = m;
  }
  return { y, mag };
}

/** Runs a case through the kernel (depthwise when G = C = N, else grouped); returns the output's values. */
function runCase(c: Case, a: Activation, withRes: boolean, seed: number, path: 'depthwise' | 'grouped' = c.G === c.C && c.N === c.C ? 'depthwise' : 'grouped') {
  const win = windowOf(c), Cg = c.C / c.G;
  const x = random(c.n * c.H * c.W * c.C, seed), w = random(c.k[0] * c.k[1] * Cg * c.N, seed + 1), b = random(c.N, seed + 2);
  const res = withRes ? random(c.n * win.out[0] * win.out[1] * c.N, seed + 3) : undefined;
  const got = tf.tidy(() => {
    const wt = tf.tensor4d(w, [c.k[0], c.k[1], Cg, c.N]), bt = tf.tensor1d(b);
    const packed = keep(path === 'depthwise' ? packDepthwise(tf.reshape(wt, [c.k[0], c.k[1], c.C, 1]), bt) : packGrouped(wt, c.G, bt));
    const xt = tf.tensor4d(x, [c.n, c.H, c.W, c.C]);
    const rt = res ? tf.tensor4d(res, [c.n, win.out[0], win.out[1], c.N]) : undefined;
    const y = path === 'depthwise' ? depthwiseConv(xt, packed, win, a, rt) : groupedConv(xt, packed, win, a, rt);
    expect(y.shape).toEqual([c.n, win.out[0], win.out[1], c.N]);
    return y.dataSync() as Float32Array;
  });
  return { got, ref: reference(c, x, w, b, a, res) };
}

/** |got − want| within float32 rounding of the sum (a few ulps of Σ|terms|) plus the activation's own error. */
function expectClose(got: Float32Array, { y, mag }: { y: Float64Array; mag: Float64Array }, what: string): void {
  expect(got.length).toBe(y.length);
  for (let i = 0; i < y.length; i++) {
    const tol = 4e-7 * (mag[i]! + 1) * 8 + 2e-6 * Math.abs(y[i]!);
    if (!(Math.abs(got[i]! - y[i]!) <= tol)) expect.fail(`${what}: output ${i} is ${got[i]}, float64 says ${y[i]} (tolerance ${tol})`);
  }
}

function randomCase(r: () => number, depthwise: boolean): Case {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const k = pick([[3, 3], [5, 5], [7, 7], [1, 3], [2, 2], [1, 1], [3, 1]] as [number, number][]);
  const s = pick([[1, 1], [2, 2], [1, 2]] as [number, number][]), d = pick([[1, 1], [1, 1], [2, 2], [2, 1]] as [number, number][]);
  const pad = [0, 1, 2, 3].map(i => Math.floor(r() * k[i % 2]!)) as Case['pad'];
  const span = (kk: number, dd: number) => (kk - 1) * dd + 1;
  const H = span(k[0], d[0]) + Math.floor(r() * 9), W = span(k[1], d[1]) + Math.floor(r() * 9);
  if (depthwise) {
    const C = pick([1, 3, 4, 5, 8, 13, 19]);
    return { n: 2, H, W, C, N: C, G: C, k, s, d, pad };
  }
  const G = pick([2, 3, 4]), Cg = pick([1, 3, 4, 9]), Ng = pick([1, 3, 8, 11]);
  return { n: 2, H, W, C: G * Cg, N: G * Ng, G, k, s, d, pad };
}

describe('depthwise conv (ocellus WASM kernel)', () => {
  it('is available on this backend', () => {
    expect(ownGemm(), 'ocellus WASM kernels need the wasm backend with relaxed SIMD').toBeDefined();
  });

  it('matches float64 on 48 random geometries, every activation, with and without a residual', () => {
    const r = rng(21);
    for (let i = 0; i < 48; i++) {
      const c = randomCase(r, true), a = ACTS[i % ACTS.length]!, withRes = i % 3 === 0;
      const { got, ref } = runCase(c, a, withRes, 100 + i);
      expectClose(got, ref, `case ${i} ${JSON.stringify(c)} ${a.kind} res=${withRes}`);
    }
  });

  it('covers each unrolled window at strides 1 and 2 with every pad, and wide channel counts', () => {
    let i = 0;
    for (const k of [3, 5, 7]) for (const s of [1, 2]) for (const C of [32, 37]) {
      const c: Case = { n: 2, H: 12, W: 10, C, N: C, G: C, k: [k, k], s: [s, s], d: [1, 1], pad: [k >> 1, k >> 1, k >> 1, k >> 1] };
      const { got, ref } = runCase(c, ACTS[i % ACTS.length]!, i % 2 === 1, 300 + i++);
      expectClose(got, ref, `${k}×${k} stride ${s} C ${C}`);
    }
  });

  it('gives the same bits on one thread as on the pool (which takes the larger convs)', () => {
    const g = ownGemm()!, pool = g.pool;
    if (backendInfo().threads > 1) expect(pool?.size).toBeGreaterThan(0);
    const cases: Case[] = [
      { n: 2, H: 40, W: 40, C: 21, N: 21, G: 21, k: [3, 3], s: [1, 1], d: [1, 1], pad: [1, 1, 1, 1] },
      { n: 2, H: 80, W: 80, C: 45, N: 45, G: 45, k: [2, 3], s: [2, 2], d: [1, 2], pad: [1, 0, 1, 2] },
      { n: 2, H: 31, W: 31, C: 24, N: 40, G: 4, k: [3, 3], s: [2, 2], d: [1, 1], pad: [1, 1, 1, 1] },
      { n: 2, H: 28, W: 28, C: 36, N: 36, G: 3, k: [1, 1], s: [1, 1], d: [1, 1], pad: [0, 0, 0, 0] },
    ];
    let pooled = 0;
    try {
      for (const [i, c] of cases.entries()) {
        g.pool = undefined;
        const single = Array.from(runCase(c, { kind: 'silu' }, true, 500 + i).got);
        g.pool = pool && { size: pool.size, run: (calls, invoke) => { pooled++; pool.run(calls, invoke); } };
        expect(Array.from(runCase(c, { kind: 'silu' }, true, 500 + i).got), `case ${i}`).toEqual(single);
      }
    } finally {
      g.pool = pool;
    }
    expect(pooled).toBe(pool && pool.size > 0 ? cases.length : 0);
  });
});

describe('grouped conv (ocellus WASM kernel)', () => {
  it('matches float64 on 48 random geometries, every activation, with and without a residual', () => {
    const r = rng(22);
    for (let i = 0; i < 48; i++) {
      const c = randomCase(r, false), a = ACTS[i % ACTS.length]!, withRes = i % 3 === 1;
      const { got, ref } = runCase(c, a, withRes, 200 + i);
      expectClose(got, ref, `case ${i} ${JSON.stringify(c)} ${a.kind} res=${withRes}`);
    }
  });

  it('runs a depthwise filter with a channel multiplier (G = C, two outputs per channel), and G = 1', () => {
    const dw: Case = { n: 2, H: 9, W: 8, C: 5, N: 10, G: 5, k: [3, 3], s: [1, 1], d: [1, 1], pad: [1, 1, 1, 1] };
    expectClose(runCase(dw, { kind: 'relu' }, false, 700).got, runCase(dw, { kind: 'relu' }, false, 700).ref, 'multiplier 2');
    const one: Case = { n: 2, H: 9, W: 8, C: 7, N: 12, G: 1, k: [3, 3], s: [2, 2], d: [1, 1], pad: [1, 1, 0, 0] };
    const { got, ref } = runCase(one, { kind: 'hardswish' }, true, 701);
    expectClose(got, ref, 'one group');
  });

  it('runs a depthwise case through the grouped path too, agreeing with float64', () => {
    const c: Case = { n: 2, H: 10, W: 10, C: 12, N: 12, G: 12, k: [3, 3], s: [2, 2], d: [1, 1], pad: [1, 1, 1, 1] };
    const { got, ref } = runCase(c, { kind: 'gelu' }, true, 800, 'grouped');
    expectClose(got, ref, 'depthwise as grouped');
  });
});

describe('activation epilogues', () => {
  /** Each kind over 20,001 inputs in [−12, 12] (and ±30, ±100): a 1×1 depthwise conv with weight 1 and no bias
   *  passes x through exactly, so the output is the activation alone; worst |err| and worst err/ulp vs float64. */
  const xs = Float32Array.from([...Array.from({ length: 20001 }, (_, i) => -12 + i * 0.0012), -100, -30, 30, 100]);
  it('samples every kind the kernels know', () => {
    expect(new Set(ACTS.map(a => a.kind))).toEqual(new Set(ACTIVATION_KINDS));
  });
  const bounds: Record<ActivationKind, number> = { linear: 0, relu: 0, clip: 0, hardsigmoid: 1.2e-7, hardswish: 1e-6, silu: 4e-6, gelu: 4e-6 };
  for (const a of ACTS) {
    it(`${a.kind}${a.lo !== undefined ? `(${a.lo}, ${a.hi})` : ''} is within ${bounds[a.kind]} of float64`, () => {
      const C = xs.length, f = act64(a);
      const y = tf.tidy(() => {
        const packed = keep(packDepthwise(tf.ones([1, 1, C, 1])));
        return depthwiseConv(tf.tensor4d(xs, [1, 1, 1, C]), packed, { kernel: [1, 1], strides: [1, 1], dilations: [1, 1], padBegin: [0, 0], out: [1, 1] }, a).dataSync();
      });
      let worst = 0, worstRel = 0;
      for (let i = 0; i < C; i++) {
        const want = f(xs[i]!), err = Math.abs(y[i]! - want);
        worst = Math.max(worst, err);
        worstRel = Math.max(worstRel, err / Math.max(Math.abs(want), 1e-30));
      }
      console.log(`activation ${a.kind}: max |err| ${worst.toExponential(2)}, max rel ${worstRel.toExponential(2)} over ${C} inputs`);
      expect(worst).toBeLessThanOrEqual(bounds[a.kind]);
    });
  }
});

describe('bookkeeping', () => {
  it('frees packed blocks on dispose, keeps tensors flat, and names what does not fit', () => {
    const before = packedStats(), tensors = tf.memory().numTensors;
    const c: Case = { n: 1, H: 6, W: 6, C: 8, N: 8, G: 8, k: [3, 3], s: [1, 1], d: [1, 1], pad: [1, 1, 1, 1] };
    for (let i = 0; i < 3; i++) runCase(c, { kind: 'relu' }, true, 900 + i);
    expect(packedStats().count).toBe(before.count + 3);
    for (const p of packedByTest.splice(0)) p.dispose();
    expect(packedStats()).toEqual(before);
    expect(tf.memory().numTensors).toBe(tensors);
    const packed = keep(tidyValue(() => packDepthwise(tf.ones([3, 3, 8, 1]))));
    const win = windowOf(c);
    expect(() => tf.tidy(() => depthwiseConv(tf.zeros([1, 6, 6, 7]), packed, win))).toThrow(/input is \[1, 6, 6, 7\] float32, expected \[n, H, W, 8\]/);
    expect(() => tf.tidy(() => groupedConv(tf.zeros([1, 6, 6, 8]), packed, win))).toThrow(/laid out for a depthwise conv, this is a grouped one/);
    expect(() => tf.tidy(() => depthwiseConv(tf.zeros([1, 6, 6, 8]), packed, win, { kind: 'relu' }, tf.zeros([1, 6, 6, 4])))).toThrow(/residual is \[1, 6, 6, 4\]/);
    packed.dispose();
    expect(() => tf.tidy(() => depthwiseConv(tf.zeros([1, 6, 6, 8]), packed, win))).toThrow(/disposed/);
    expect(tf.memory().numTensors).toBe(tensors);
  });
});

