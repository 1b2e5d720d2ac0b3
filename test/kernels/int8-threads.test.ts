// ocellus's integer kernels on the worker pool (kernels/wasm/thread-pool.ts's int8 slot): on the tfjs WASM heap, every
// product kind (dense by rows, a one-row product split by columns, 3×3 strided, 1×1, grouped, depthwise) and every
// epilogue gives the same bytes on one thread as on the pool, the pool's use counted; the int32 outputs also equal a
// plain JS integer reference. Run with the baseline module, the I7 path with the relaxed dot emulated, and (where the
// engine's relaxed dot is exact) the relaxed one: each binding puts its module into the workers' int8 slot, so
// switching back and forth exercises that too.

import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendInfo, ensureBackend } from '../../kernels/backend.js';
import { I7 } from '../../kernels/wasm/int8-module.js';
import {
  convWeightsPerGroup, int8Conv, int8Dense, int8Kernels, int8KernelsOnBackend, int8Stats, packDepthwiseInt8, packInt8, relaxedDotExact,
  type Int8Epilogue, type Int8Kernels, type Int8Packed,
} from '../../kernels/wasm/int8.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const bytes = (r: () => number, n: number) => Uint8Array.from({ length: n }, () => Math.floor(r() * 256));

interface Case {
  name: string;
  /** Runs the product into out with `threads` (undefined: the pool). */
  run(k: Int8Kernels, x: number, out: number, e: Int8Epilogue, threads?: number): void;
  inBytes: number;
  outCount: number;
  /** The exact int32 product per output (JS integers). */
  ref(): Int32Array;
  packed: Int8Packed[];
}

/** Weights: any int8, or (span 120) 7-bit ones that the relaxed kernels pack for their I7 micro-kernel. */
function denseCase(k: Int8Kernels, seed: number, M: number, K: number, N: number, x: Uint8Array, za: number, span = 256): Case {
  const r = rng(seed), w = Int8Array.from({ length: K * N }, () => Math.floor(r() * span) - 60);
  const zw = Array.from({ length: N }, () => Math.floor(r() * 256) - 128);
  const p = packInt8(k, { data: w, K, N, zeroPoint: zw, scale: Array.from({ length: N }, () => 0.001 + r() * 0.01) });
  return {
    name: `dense ${M}×${K}×${N}`, inBytes: M * K, outCount: M * N, packed: [p],
    run: (kk, a, out, e, threads) => int8Dense(kk, a, M, K, p, out, N, e, threads),
    ref: () => {
      const y = new Int32Array(M * N);
      for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
        let s = 0;
        for (let j = 0; j < K; j++) s += (x[m * K + j]! - za) * (w[j * N + n]! - zw[n]!);
        y[m * N + n] = s;
      }
      return y;
    },
  };
}

function convCase(k: Int8Kernels, seed: number, g: { H: number; W: number; C: number; N: number; kh: number; stride: number; pad: number; groups: number },
  x: Uint8Array, za: number): Case {
  const { H, W, C, N, kh, stride, pad, groups } = g, r = rng(seed), Cg = C / groups, Ng = N / groups;
  const OH = Math.floor((H + 2 * pad - kh) / stride) + 1, OW = Math.floor((W + 2 * pad - kh) / stride) + 1;
  const w = Uint8Array.from({ length: N * Cg * kh * kh }, () => 60 + Math.floor(r() * 120));   // 7 bits: I7 when relaxed
  const zw = Array.from({ length: N }, () => Math.floor(r() * 256));
  const depthwise = Cg === 1 && Ng === 1 && groups > 1;
  const packed = depthwise ? [packDepthwiseInt8(k, { data: w, C: N, kh, kw: kh, zeroPoint: zw, scale: zw.map(() => 0.004) })]
    : convWeightsPerGroup(w, N, Cg, kh, kh, groups).map((m, gi) => packInt8(k, { data: m, K: kh * kh * Cg, N: Ng, zeroPoint: zw.slice(gi * Ng, (gi + 1) * Ng), scale: [0.004] }));
  const win = { kernel: [kh, kh] as [number, number], strides: [stride, stride] as [number, number], dilations: [1, 1] as [number, number], padBegin: [pad, pad] as [number, number], out: [OH, OW] as [number, number] };
  return {
    name: `conv ${H}×${W}×${C}→${N} ${kh}×${kh}/${stride} groups ${groups}`, inBytes: H * W * C, outCount: OH * OW * N, packed,
    run: (kk, a, out, e, threads) => int8Conv(kk, a, [1, H, W, C], packed, win, out, e, threads),
    ref: () => {
      const y = new Int32Array(OH * OW * N);
      for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) for (let o = 0; o < N; o++) {
        const gi = Math.floor(o / Ng);
        let s = 0;
        for (let c = 0; c < Cg; c++) for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kh; kx++) {
          const iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
          if (iy >= 0 && iy < H && ix >= 0 && ix < W) s += (x[(iy * W + ix) * C + gi * Cg + c]! - za) * (w[((o * Cg + c) * kh + ky) * kh + kx]! - zw[o]!);
        }
        y[(oy * OW + ox) * N + o] = s;
      }
      return y;
    },
  };
}

describe('int8 kernels on the worker pool', () => {
  beforeAll(async () => { await ensureBackend(); });
  afterAll(() => { int8KernelsOnBackend(); });

  // The backend's own binding (baseline, and relaxed where exact), and kernels of our own on its heap running the I7
  // path with the relaxed dot emulated; each twice, in turns, so the workers' int8 slot changes hands every time.
  const relaxedModes: (boolean | 'emulated')[] = [false, 'emulated', ...(relaxedDotExact().exact ? [true] : [])];
  for (const relaxed of [...relaxedModes, ...relaxedModes]) {
    it(`gives the same bytes on one thread as on the pool (relaxed ${relaxed}), int32 equal to the JS reference`, () => {
      const onBackend = int8KernelsOnBackend({ relaxed: relaxed === 'emulated' ? false : relaxed })!;
      expect(onBackend).toBeDefined();
      const k = relaxed === 'emulated' ? int8Kernels(onBackend.heap, { relaxed, threads: true }) : onBackend;
      const threads = backendInfo().threads;
      if (threads > 1) expect(k.pool?.size).toBe(threads - 1);
      const before = tf.memory().numTensors, r = rng(relaxed ? 11 : 7), za = 77;
      const inputs: Uint8Array[] = [];
      const add = (n: number) => { const v = bytes(r, n); inputs.push(v); return v; };
      const cases = [
        denseCase(k, 1, 70, 131, 45, add(70 * 131), za),
        denseCase(k, 2, 1, 300, 1000, add(300), za, 120),
        convCase(k, 3, { H: 15, W: 13, C: 19, N: 24, kh: 3, stride: 2, pad: 1, groups: 1 }, add(15 * 13 * 19), za),
        convCase(k, 4, { H: 9, W: 11, C: 16, N: 40, kh: 1, stride: 1, pad: 0, groups: 1 }, add(9 * 11 * 16), za),
        convCase(k, 5, { H: 10, W: 9, C: 12, N: 18, kh: 3, stride: 1, pad: 1, groups: 3 }, add(10 * 9 * 12), za),
        convCase(k, 6, { H: 14, W: 12, C: 24, N: 24, kh: 3, stride: 1, pad: 1, groups: 24 }, add(14 * 12 * 24), za),
      ];
      const epilogues: Int8Epilogue[] = [
        { kind: 'int32', za }, { kind: 'float32', za, sa: 0.02, relu: true }, { kind: 'uint8', za, sa: 0.02, sy: 0.9, zy: 30, relu: false },
      ];
      if (relaxed !== false) expect(cases.some(c => c.packed[0]!.mode === I7)).toBe(true);
      const ptrs: number[] = [];
      const malloc = (n: number) => { const p = k.heap.malloc(n + 16); ptrs.push(p); return p; };
      let pooledWanted = 0;
      const runsBefore = k.pool?.runs ?? 0, productsBefore = int8Stats.products;
      try {
        cases.forEach((c, i) => {
          const x = malloc(c.inBytes);
          new Uint8Array(k.heap.memory.buffer, x, c.inBytes).set(inputs[i]!);
          for (const e of epilogues) {
            const size = e.kind === 'uint8' ? 1 : 4, one = malloc(c.outCount * size), many = malloc(c.outCount * size);
            new Uint8Array(k.heap.memory.buffer, one, c.outCount * size).fill(0xa5);
            new Uint8Array(k.heap.memory.buffer, many, c.outCount * size).fill(0x5a);
            c.run(k, x, one, e, 1);
            c.run(k, x, many, e);
            if (k.pool && k.pool.size > 0) expect(k.pool.int8Module, 'the workers hold this binding\'s module').toBe(k.module);
            pooledWanted += k.pool && k.pool.size > 0 ? c.packed.length : 0;
            const a = new Uint8Array(k.heap.memory.buffer, one, c.outCount * size), b = new Uint8Array(k.heap.memory.buffer, many, c.outCount * size);
            expect(Buffer.compare(a, b), `${c.name}, ${e.kind}: one thread vs the pool`).toBe(0);
            if (e.kind === 'int32') expect(Array.from(new Int32Array(k.heap.memory.buffer, one, c.outCount)), `${c.name} vs the JS reference`).toEqual(Array.from(c.ref()));
          }
        });
      } finally {
        for (const p of ptrs) k.heap.free(p);
        for (const c of cases) for (const p of c.packed) p.dispose();
      }
      // Every product on the pool took it once per group (each of these splits into ≥ 2 ranges).
      expect((k.pool?.runs ?? 0) - runsBefore).toBe(pooledWanted);
      if (threads > 1) expect(pooledWanted).toBeGreaterThan(0);
      expect(int8Stats.products - productsBefore).toBeGreaterThan(0);
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});
