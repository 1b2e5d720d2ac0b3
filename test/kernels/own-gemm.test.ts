// ocellus's WASM GEMM (kernels/wasm): the binary writer's encodings, then products and convolutions against float64
// references computed here (erf by its series), every epilogue (bias, ReLU, GELU, residual), K in several chunks,
// tiles cut at every edge, and the same bits whichever way the work is split over threads. Then what a session
// sees: packed weights live and die with it, the heap may grow under the kernel, and the tfjs fallback paths of the
// fused ops (GELU and residual) still match onnxruntime when the kernel is off.

import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InferenceSession } from '../../src/index.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { ensureBackend } from '../../kernels/backend.js';
import { relaxedSimdProbe, sleb, uleb } from '../../kernels/wasm/emit.js';
import { MR, NR } from '../../kernels/wasm/gemm-kernels.js';
import { attentionProduct, convProduct, denseProduct, layerNormRows, ownGemm, packedLength, packedStats, packWeights, packWinograd, setGemmTuning, setOwnGemm, winogradLength, type ConvWindow, type GemmActivation, type PackedWeights } from '../../kernels/wasm/gemm.js';
import { backendInfo } from '../../kernels/backend.js';
import { hasRelaxedSimd } from '../../kernels/wasm/features.js';
import { checkAgainstOrt, randomConst, randomTensor, rng } from '../helpers/cnn-reference.js';
import { tidyValue } from '../helpers/tidy.js';

beforeAll(async () => {
  await ensureBackend();
});

/** Weights packed by a test, freed after it (packed blocks are heap memory of ours, not tensors a tidy frees). */
const packedByTest: PackedWeights[] = [];
const pack = (...args: Parameters<typeof packWeights>): PackedWeights => {
  const p = tidyValue(() => packWeights(...args));
  packedByTest.push(p);
  return p;
};
const packWino = (...args: Parameters<typeof packWinograd>): PackedWeights => {
  const p = tidyValue(() => packWinograd(...args));
  packedByTest.push(p);
  return p;
};

afterEach(() => {
  setOwnGemm(undefined);
  setGemmTuning(undefined);
  for (const p of packedByTest.splice(0)) p.dispose();
});

/** erf in float64: its Maclaurin series below 3, Laplace's continued fraction for erfc above (the series cancels
 *  catastrophically there). */
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

const ACT64: Record<GemmActivation, (x: number) => number> = {
  linear: x => x, relu: x => Math.max(0, x), gelu: x => 0.5 * x * (1 + erf64(x / Math.SQRT2)),
};

function random(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => (2 * r() - 1) * scale);
}

/** |got − want| ≤ atol + rtol·|want| everywhere; returns the worst |diff|. */
function expectNear(got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol = 1e-5): number {
  expect(got.length).toBe(want.length);
  let worst = 0, at = -1;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    if (d > atol + rtol * Math.abs(want[i]!) && at < 0) at = i;
    worst = Math.max(worst, d);
  }
  expect(at, `first mismatch at ${at}: ${got[at]} vs ${want[at]} (worst |diff| ${worst})`).toBe(-1);
  return worst;
}

describe('the WASM binary writer', () => {
  it('encodes LEB128 as the spec does', () => {
    expect(uleb(0)).toEqual([0]);
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(sleb(-1)).toEqual([0x7f]);
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(sleb(64)).toEqual([0xc0, 0x00]);
  });

  it('writes a module V8 validates, and Node 20 gets relaxed SIMD turned on', () => {
    expect(hasRelaxedSimd()).toBe(true);
    expect(WebAssembly.validate(relaxedSimdProbe())).toBe(true);
    expect(ownGemm()).toBeDefined();
  });
});

describe('dense products', () => {
  it('(the float64 erf reference agrees with tabulated values)', () => {
    for (const [x, want] of [[0.5, 0.5204998778130465], [1, 0.8427007929497149], [2, 0.9953222650189527], [3.5, 0.9999992569016276], [-5, -0.9999999999984626]]) {
      expect(erf64(x!)).toBeCloseTo(want!, 14);
    }
  });

  const shapes: [number, number, number][] = [[1, 1, 1], [MR + 2, 13, NR + 3], [3 * MR - 1, 70, 2 * NR - 1], [97, 300, 41]];

  function reference(M: number, K: number, N: number, a: Float32Array, b: Float32Array, bias: Float32Array | undefined, res: Float32Array | undefined, act: GemmActivation): Float64Array {
    const out = new Float64Array(M * N);
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = (bias?.[j] ?? 0) + (res?.[i * N + j] ?? 0);
        for (let k = 0; k < K; k++) s += a[i * K + k]! * b[k * N + j]!;
        out[i * N + j] = ACT64[act](s);
      }
    }
    return out;
  }

  for (const act of ['linear', 'relu', 'gelu'] as const) {
    it(`act(A·B + bias [+ residual]) = float64 (${act}), K in one chunk and in several`, () => {
      for (const [M, K, N] of shapes) {
        for (const [withBias, withRes, kc] of [[true, false, 0], [false, true, 16], [true, true, 64]] as const) {
          setGemmTuning(kc ? { kc } : undefined);   // 0: the default chunk
          const a = random(M * K, 1), b = random(K * N, 2, 0.5), bias = withBias ? random(N, 3) : undefined, res = withRes ? random(M * N, 4) : undefined;
          const want = reference(M, K, N, a, b, bias, res, act);
          const got = tf.tidy(() => {
            const bt = tf.tensor2d(b, [K, N]);
            const packed = pack(bt, K, N, bias && tf.tensor1d(bias));
            return denseProduct(tf.tensor2d(a, [M, K]), packed, M, K, N, act, res && tf.tensor2d(res, [M, N])).dataSync();
          });
          expectNear(got, want, 1e-5 * Math.sqrt(K) + 1e-6, 1e-5);
        }
      }
    });
  }

  it('B given transposed ([N, K], as Gemm with transB) packs to the same product', () => {
    const [M, K, N] = [9, 21, 17];
    const a = random(M * K, 5), b = random(K * N, 6);
    const bT = new Float32Array(N * K);
    for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) bT[j * K + k] = b[k * N + j]!;
    const [x, y] = tf.tidy(() => {
      const at = tf.tensor2d(a, [M, K]);
      return [denseProduct(at, pack(tf.tensor2d(b, [K, N]), K, N), M, K, N, 'linear').dataSync(),
        denseProduct(at, pack(tf.tensor2d(bT, [N, K]), K, N, undefined, true), M, K, N, 'linear').dataSync()];
    });
    expect(Array.from(y)).toEqual(Array.from(x));
  });

  it('gives the same bits on one thread, split by rows and split by columns', () => {
    const g = ownGemm()!;
    if (backendInfo().threads > 1) expect(g.pool?.size).toBe(backendInfo().threads - 1);
    const [M, K, N] = [101, 530, 75];
    const a = random(M * K, 7), b = random(K * N, 8), bias = random(N, 9);
    const packed = pack(tf.tensor2d(b, [K, N]), K, N, tf.tensor1d(bias));
    const run = () => tf.tidy(() => denseProduct(tf.tensor2d(a, [M, K]), packed, M, K, N, 'gelu').dataSync());
    const pool = g.pool;
    g.pool = undefined;
    const single = Array.from(run());
    g.pool = pool;
    for (const split of ['m', 'n'] as const) {
      setGemmTuning({ split });
      expect(Array.from(run()), `split ${split}`).toEqual(single);
    }
  });

  it('refuses a residual of the wrong size, naming both sizes', () => {
    expect(() => tf.tidy(() => denseProduct(tf.zeros([4, 3]), pack(tf.zeros([3, 2]), 3, 2), 4, 3, 2, 'linear', tf.zeros([4, 3]))))
      .toThrow(/residual has 12 float32 values, the product 8/);
  });

  it('packs into a heap block of its own (no tensor), refuses it disposed or of another shape, and frees it', () => {
    const before = packedStats(), tensors = tf.memory().numTensors;
    const [K, N] = [7, 13];
    const packed = tidyValue(() => packWeights(tf.tensor2d(random(K * N, 16), [K, N]), K, N, tf.tensor1d(random(N, 17))));
    expect(tf.memory().numTensors).toBe(tensors);
    expect(packedStats()).toEqual({ count: before.count + 1, bytes: before.bytes + Math.ceil(N / NR) * NR * (K + 1) * 4 });
    expect(() => tf.tidy(() => denseProduct(tf.zeros([2, K + 1]), packed, 2, K + 1, N, 'linear'))).toThrow(/packed weights are 7×13, the product needs 8×13/);
    expect(() => tidyValue(() => packWeights(tf.zeros([K, N]), K, N + 1))).toThrow(/B has 91 float32 values, expected 7×14 = 98/);
    expect(tf.memory().numTensors).toBe(tensors);
    packed.dispose();
    packed.dispose();   // twice is harmless
    expect(packedStats()).toEqual(before);
    expect(() => tf.tidy(() => denseProduct(tf.zeros([2, K]), packed, 2, K, N, 'linear'))).toThrow(/packed weights were disposed/);
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('keeps working after the heap grows under it', () => {
    const [M, K, N] = [20, 30, 10];
    const a = random(M * K, 10), b = random(K * N, 11);
    const want = reference(M, K, N, a, b, undefined, undefined, 'linear');
    const packed = pack(tf.tensor2d(b, [K, N]), K, N);
    const pages = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength;
    const before = pages();
    const big = tf.zeros([64 * 2 ** 20]);   // 256 MiB: more than the heap had
    expect(pages()).toBeGreaterThan(before);
    const got = tf.tidy(() => denseProduct(tf.tensor2d(a, [M, K]), packed, M, K, N, 'linear').dataSync());
    tf.dispose(big);
    expectNear(got, want, 1e-5);
  });
});

/** A 2-D convolution in float64: NHWC x, weights [kh, kw, C, M], padding before (the output size says the rest). */
function conv64(x: Float32Array, [n, H, W, C]: number[], w: Float32Array, [kh, kw, , M]: number[], bias: Float32Array,
  s: [number, number], d: [number, number], p: [number, number], [OH, OW]: [number, number], res: Float32Array | undefined, relu: boolean): Float64Array {
  const out = new Float64Array(n * OH * OW * M);
  for (let b = 0; b < n; b++) for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) for (let m = 0; m < M; m++) {
    const o = ((b * OH + oy) * OW + ox) * M + m;
    let acc = bias[m]! + (res?.[o] ?? 0);
    for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) {
      const iy = oy * s[0] - p[0] + ky * d[0], ix = ox * s[1] - p[1] + kx * d[1];
      if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
      for (let c = 0; c < C; c++) acc += x[((b * H + iy) * W + ix) * C + c]! * w[((ky * kw + kx) * C + c) * M + m]!;
    }
    out[o] = relu ? Math.max(0, acc) : acc;
  }
  return out;
}

describe('convolutions (im2col blocks)', () => {
  const cases = [
    { x: [2, 9, 7, 5], k: [3, 3], M: 11, s: [2, 2], d: [1, 1], p: [1, 1], res: false, relu: true },
    { x: [1, 8, 8, 4], k: [3, 3], M: 8, s: [1, 1], d: [2, 2], p: [2, 2], res: true, relu: true },
    { x: [1, 12, 10, 3], k: [7, 7], M: 6, s: [2, 2], d: [1, 1], p: [3, 3], res: false, relu: false },
    { x: [3, 5, 6, 16], k: [1, 1], M: 9, s: [2, 1], d: [1, 1], p: [0, 0], res: true, relu: false },
    { x: [1, 6, 6, 2], k: [2, 3], M: 3, s: [1, 2], d: [1, 1], p: [0, 1], res: false, relu: true },
    { x: [2, 4, 5, 6], k: [1, 1], M: 13, s: [1, 1], d: [1, 1], p: [0, 0], res: true, relu: true },   // the input is A as it is
  ] as const;

  for (const c of cases) {
    it(`x [${c.x.join(', ')}], ${c.k.join('×')} kernel, stride ${c.s.join('/')}, dilation ${c.d.join('/')}, pad ${c.p.join('/')}${c.res ? ', residual' : ''}${c.relu ? ', relu' : ''}`, () => {
      const [n, H, W, C] = c.x;
      const [kh, kw] = c.k;
      const OH = Math.floor((H + 2 * c.p[0] - ((kh - 1) * c.d[0] + 1)) / c.s[0]) + 1;
      const OW = Math.floor((W + 2 * c.p[1] - ((kw - 1) * c.d[1] + 1)) / c.s[1]) + 1;
      const x = random(n * H * W * C, 12), w = random(kh * kw * C * c.M, 13), bias = random(c.M, 14);
      const res = c.res ? random(n * OH * OW * c.M, 15) : undefined;
      const want = conv64(x, [...c.x], w, [kh, kw, C, c.M], bias, [...c.s], [...c.d], [...c.p], [OH, OW], res, c.relu);
      for (const kc of [0, 8]) {
        setGemmTuning(kc ? { kc } : undefined);
        const got = tf.tidy(() => {
          const packed = pack(tf.tensor4d(w, [kh, kw, C, c.M]), kh * kw * C, c.M, tf.tensor1d(bias));
          return convProduct(tf.tensor4d(x, [n, H, W, C]), packed, c.M, {
            kernel: [kh, kw], strides: [...c.s], dilations: [...c.d], padBegin: [...c.p], out: [OH, OW],
          }, c.relu ? 'relu' : 'linear', res && tf.tensor4d(res, [n, OH, OW, c.M])).dataSync();
        });
        expectNear(got, want, 1e-5 * Math.sqrt(kh * kw * C) + 1e-6, 1e-5);
      }
    });
  }
});

describe('convolutions (Winograd F(2×2, 3×3))', () => {
  /** A 3×3 conv at stride 1 with `pad` on every side, through packWinograd: [got, float64 reference]. */
  function wino(x: readonly number[], M: number, pad: number, res: boolean, relu: boolean, seed: number, tune?: Parameters<typeof setGemmTuning>[0]): [Float32Array, Float64Array] {
    const [n, H, W, C] = x as [number, number, number, number];
    const OH = H + 2 * pad - 2, OW = W + 2 * pad - 2;
    const xs = random(n * H * W * C, seed), w = random(9 * C * M, seed + 1), bias = random(M, seed + 2);
    const r = res ? random(n * OH * OW * M, seed + 3) : undefined;
    const want = conv64(xs, [n, H, W, C], w, [3, 3, C, M], bias, [1, 1], [1, 1], [pad, pad], [OH, OW], r, relu);
    setGemmTuning(tune);
    const got = tf.tidy(() => {
      const packed = packWino(tf.tensor4d(w, [3, 3, C, M]), C, M, tf.tensor1d(bias));
      const win: ConvWindow = { kernel: [3, 3], strides: [1, 1], dilations: [1, 1], padBegin: [pad, pad], out: [OH, OW] };
      return convProduct(tf.tensor4d(xs, [n, H, W, C]), packed, M, win, relu ? 'relu' : 'linear', r && tf.tensor4d(r, [n, OH, OW, M])).dataSync() as Float32Array;
    });
    return [got, want];
  }

  // Odd output sizes leave tiles half outside (second row, column or both); pad 0 and 2 move the patch off the
  // borders; M not a multiple of 8 leaves a panel part-filled; C above kc splits each of the 16 products' K.
  const cases = [
    { x: [1, 7, 9, 4], M: 12, pad: 1, res: true, relu: true },
    { x: [2, 6, 6, 8], M: 8, pad: 0, res: false, relu: false },
    { x: [1, 5, 4, 16], M: 4, pad: 2, res: false, relu: true },
    { x: [3, 10, 3, 20], M: 16, pad: 1, res: true, relu: true, kc: 8 },
    { x: [1, 1, 1, 4], M: 4, pad: 1, res: true, relu: false },
  ] as const;
  for (const c of cases) {
    it(`x [${c.x.join(', ')}] → ${c.M} channels, pad ${c.pad}${c.res ? ', residual' : ''}${c.relu ? ', relu' : ''}${'kc' in c ? `, K in chunks of ${c.kc}` : ''}: float64`, () => {
      const [got, want] = wino(c.x, c.M, c.pad, c.res, c.relu, 40, 'kc' in c ? { kc: c.kc } : undefined);
      // Winograd's transforms add and subtract up to 4 terms each side of the products: a few ulps more than im2col.
      expectNear(got, want, 4e-5 * Math.sqrt(9 * c.x[3]) + 1e-6, 1e-5);
    });
  }

  it('gives the same bits on one thread, split by tiles and split by columns', () => {
    const g = ownGemm()!, pool = g.pool;
    g.pool = undefined;
    let single: number[];
    try {
      single = Array.from(wino([2, 14, 13, 32], 40, 1, true, true, 50)[0]);
    } finally {
      g.pool = pool;
    }
    for (const split of ['m', 'n'] as const) expect(Array.from(wino([2, 14, 13, 32], 40, 1, true, true, 50, { split })[0]), `split ${split}`).toEqual(single);
  });

  it('packs 16 blocks and the bias into one heap block, counted and freed like any packed weights', () => {
    const before = packedStats(), tensors = tf.memory().numTensors;
    const [C, M] = [8, 12];
    const packed = tidyValue(() => packWinograd(tf.tensor4d(random(9 * C * M, 60), [3, 3, C, M]), C, M, tf.tensor1d(random(M, 61))));
    expect(winogradLength(C, M)).toBe(16 * packedLength(C, M) + M);
    expect(packedStats()).toEqual({ count: before.count + 1, bytes: before.bytes + winogradLength(C, M) * 4 });
    expect(tf.memory().numTensors).toBe(tensors);
    packed.dispose();
    expect(packedStats()).toEqual(before);
  });

  it('refuses a weight of the wrong size, a window it cannot run, and a plain product on its blocks', () => {
    expect(() => tidyValue(() => packWinograd(tf.zeros([3, 3, 4, 5]), 4, 6))).toThrow(/weight has 180 float32 values, expected 3×3×4×6 = 216/);
    const packed = packWino(tf.zeros([3, 3, 4, 8]), 4, 8);
    const strided: ConvWindow = { kernel: [3, 3], strides: [2, 2], dilations: [1, 1], padBegin: [1, 1], out: [3, 3] };
    expect(() => tf.tidy(() => convProduct(tf.zeros([1, 6, 6, 4]), packed, 8, strided, 'linear'))).toThrow(/Winograd weights for a 3×3 window at stride 2\/2.*it takes 3×3, stride 1/);
    expect(() => tf.tidy(() => denseProduct(tf.zeros([2, 4]), packed, 2, 4, 8, 'linear'))).toThrow(/packed weights are laid out for a Winograd 3×3 conv, this is a product/);
  });
});

describe('attention (softmax(scale·Q·Kᵀ)·V per head, heads read and written in place)', () => {
  function attention64(q: Float32Array, k: Float32Array, v: Float32Array, B: number, Nq: number, Nk: number, H: number, D: number, Dv: number, scale: number): Float64Array {
    const out = new Float64Array(B * Nq * H * Dv);
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < Nq; i++) {
      const s = Array.from({ length: Nk }, (_, j) => {
        let d = 0;
        for (let c = 0; c < D; c++) d += q[(b * Nq + i) * H * D + h * D + c]! * k[(b * Nk + j) * H * D + h * D + c]!;
        return d * scale;
      });
      const m = Math.max(...s), e = s.map(x => Math.exp(x - m)), sum = e.reduce((x, y) => x + y, 0);
      for (let c = 0; c < Dv; c++) {
        let o = 0;
        for (let j = 0; j < Nk; j++) o += (e[j]! / sum) * v[(b * Nk + j) * H * Dv + h * Dv + c]!;
        out[(b * Nq + i) * H * Dv + h * Dv + c] = o;
      }
    }
    return out;
  }

  for (const [B, Nq, Nk, H, D, Dv, scale] of [[1, 1, 1, 1, 1, 1, 1], [2, 7, 9, 3, 5, 4, 0.37], [1, 197, 197, 2, 16, 16, 0.25], [3, 10, 33, 4, 8, 11, 2]] as const) {
    it(`B ${B}, Nq ${Nq}, Nk ${Nk}, ${H} heads of ${D}/${Dv}, scale ${scale}: float64, the same bits on one thread`, () => {
      const q = random(B * Nq * H * D, 20, 2), k = random(B * Nk * H * D, 21, 2), v = random(B * Nk * H * Dv, 22);
      const want = attention64(q, k, v, B, Nq, Nk, H, D, Dv, scale);
      const g = ownGemm()!, pool = g.pool;
      const runOnce = () => tf.tidy(() => attentionProduct(tf.tensor3d(q, [B, Nq, H * D]), tf.tensor3d(k, [B, Nk, H * D]), tf.tensor3d(v, [B, Nk, H * Dv]), H, scale).dataSync());
      const got = runOnce();
      expectNear(got, want, 2e-6, 1e-5);
      g.pool = undefined;
      try {
        expect(Array.from(runOnce())).toEqual(Array.from(got));
      } finally {
        g.pool = pool;
      }
    });
  }

  it('softmax survives scores far apart (no overflow, exact zeros underflow cleanly)', () => {
    const [Nq, Nk] = [2, 6];
    const q = Float32Array.from([1, 1]), k = Float32Array.from([100, -100, 50, 0, -80, 88]), v = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const got = tf.tidy(() => attentionProduct(tf.tensor3d(q, [1, Nq, 1]), tf.tensor3d(k, [1, Nk, 1]), tf.tensor3d(v, [1, Nk, 1]), 1, 1).dataSync());
    expectNear(got, attention64(q, k, v, 1, Nq, Nk, 1, 1, 1, 1), 1e-6);
  });
});

describe('layer norm rows', () => {
  for (const [rows, cols, affine] of [[1, 1, true], [3, 7, true], [5, 768, false], [2, 13, true]] as const) {
    it(`${rows} rows of ${cols}${affine ? ', gamma and beta' : ''}: float64`, () => {
      const x = random(rows * cols, 30, 3), gamma = random(cols, 31), beta = random(cols, 32), eps = 1e-5;
      const want = new Float64Array(rows * cols);
      for (let r = 0; r < rows; r++) {
        const row = Array.from(x.subarray(r * cols, (r + 1) * cols));
        const mean = row.reduce((a, b) => a + b, 0) / cols;
        const inv = 1 / Math.sqrt(row.reduce((a, b) => a + (b - mean) ** 2, 0) / cols + eps);
        row.forEach((v, j) => { want[r * cols + j] = (v - mean) * inv * (affine ? gamma[j]! : 1) + (affine ? beta[j]! : 0); });
      }
      const got = tf.tidy(() => layerNormRows(tf.tensor2d(x, [rows, cols]), cols, affine ? tf.tensor1d(gamma) : undefined, affine ? tf.tensor1d(beta) : undefined, eps).dataSync());
      expectNear(got, want, 2e-6, 1e-5);
    });
  }
});

describe('in a session', () => {
  /** h = Relu(Conv1×1(x)); Relu(Conv3×3(h) + h) → Flatten → MatMul → Add → GELU: every fused path of the kernel. */
  function model() {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 8, 5, 5]);
    const h = b.op('Relu', [b.op('Conv', [x, b.init('w0', randomConst([8, 8, 1, 1], 1)), b.init('b0', randomConst([8], 2))])]);
    const y = b.op('Conv', [h, b.init('w1', randomConst([8, 8, 3, 3], 3)), b.init('b1', randomConst([8], 4))], { pads: [1, 1, 1, 1] });
    const r = b.op('Relu', [b.op('Add', [y, h])]);
    const f = b.op('Add', [b.op('MatMul', [b.op('Flatten', [r]), b.init('w2', randomConst([200, 12], 5))]), b.init('b2', randomConst([12], 6))]);
    const erf = b.op('Erf', [b.op('Div', [f, b.init('sqrt2', { dtype: 'float32', dims: [], data: Float32Array.of(Math.SQRT2) })])]);
    b.output(b.op('Mul', [b.op('Mul', [f, b.op('Add', [erf, b.init('one', { dtype: 'float32', dims: [], data: Float32Array.of(1) })])]),
      b.init('half', { dtype: 'float32', dims: [], data: Float32Array.of(0.5) })]));
    return b.model(13);
  }
  const feeds = { x: randomTensor([1, 8, 5, 5], 7, -2, 2) };

  for (const own of [true, false]) {
    it(`matches onnxruntime with the kernel ${own ? 'on' : 'off (the tfjs paths of the fused ops)'}`, async () => {
      setOwnGemm(own);
      expect(!!ownGemm()).toBe(own);
      const { optimized } = await checkAgainstOrt(model(), feeds);
      expect(optimized.ops).toEqual(['Transpose', 'local:NhwcConv', 'local:NhwcConv', 'Transpose', 'Flatten', 'local:FusedMatMul']);
    });
  }

  /** x [3, 20] · Gemm(B, C): a classifier head as exporters write it, and the variants that stay on tfjs. */
  const gemmCases: { name: string; attrs: Record<string, number | { type: 'float'; value: number }>; c?: number[]; packed: number }[] = [
    { name: 'transB, bias [N]', attrs: { transB: 1 }, c: [7], packed: 1 },
    { name: 'B as is, no C', attrs: {}, packed: 1 },
    { name: 'beta 0 (C ignored)', attrs: { beta: { type: 'float', value: 0 } }, c: [7], packed: 1 },
    { name: 'C [1, N] (broadcast, added after)', attrs: { transB: 1 }, c: [1, 7], packed: 0 },
    { name: 'alpha 0.5', attrs: { transB: 1, alpha: 0.5 }, c: [7], packed: 0 },
    { name: 'beta 2', attrs: { beta: { type: 'float', value: 2 } }, c: [7], packed: 0 },
  ];
  for (const g of gemmCases) {
    it(`Gemm, ${g.name}: ${g.packed ? 'on the kernel' : 'on tfjs'}, matches onnxruntime`, async () => {
      const b = new GraphBuilder();
      const x = b.input('x', 'float32', [3, 20]);
      const B = b.init('B', randomConst(g.attrs.transB ? [7, 20] : [20, 7], 21));
      b.output(b.op('Gemm', [x, B, ...(g.c ? [b.init('C', randomConst(g.c, 22))] : [])], g.attrs));
      const m = b.model(13);
      const blocks = packedStats().count;
      const s = await InferenceSession.create(m);
      expect(packedStats().count - blocks).toBe(g.packed);
      await s.release();
      expect(packedStats().count).toBe(blocks);
      await checkAgainstOrt(m, { x: randomTensor([3, 20], 23, -2, 2) });
    });
  }

  it('packs weights when planning and frees them on release', async () => {
    const base = tf.memory().numTensors, blocks = packedStats().count, bytes = packedStats().bytes;
    const s = await InferenceSession.create(model());
    const planned = tf.memory().numTensors;
    expect(s.memory().derived).toBe(3);   // two convs and the product
    expect(packedStats().count - blocks).toBe(3);
    // the 1×1 conv as one B, the 3×3 conv (stride 1) for Winograd, the MatMul as one B
    expect(packedStats().bytes - bytes).toBe((packedLength(8, 8) + winogradLength(8, 8) + packedLength(200, 12)) * 4);
    expect(backendInfo().packedWeights?.count).toBe(blocks + 3);
    expect(backendInfo().packedWeights!.MiB).toBeCloseTo(packedStats().bytes / 2 ** 20, 1);
    await s.run(feeds);
    expect(tf.memory().numTensors).toBe(planned);
    await s.release();
    expect(s.memory().derived).toBe(0);
    expect(packedStats().count).toBe(blocks);
    expect(tf.memory().numTensors).toBe(base);
  });
});
