// kernels/backend.ts: OCELLUS_THREADS parsing, and the threaded WASM build started in Node (real file paths for
// Emscripten's pthread workers) computing the same convolutions and matrix products as the single-threaded build,
// in fresh processes that exit by themselves. Correctness only: speed is the bench's business.

import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MAX_THREADS, requestedThreads } from '../../kernels/backend.js';
import { randomData } from '../helpers/random.js';

const require = createRequire(import.meta.url);
const CHILD = path.join(import.meta.dirname, 'threads-child.ts');

interface ChildOut { info: { backend: string; threads: number; xnnpackThreads: number; build: string; fallbackReason?: string }; conv: number[]; depthwise: number[]; matmul: number[] }

function runWith(threads: string): Promise<ChildOut> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', pathToFileURL(require.resolve('tsx')).href, CHILD], {
      env: { ...process.env, OCELLUS_THREADS: threads }, timeout: 90_000, maxBuffer: 64 << 20,
    }, (err, stdout, stderr) => (err ? reject(new Error(`OCELLUS_THREADS=${threads}: ${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as ChildOut)));
  });
}

const seeded = randomData;   // the same data as threads-child.ts

function maxRelDiff(a: number[], b: number[]): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  a.forEach((v, i) => { m = Math.max(m, Math.abs(v - b[i]!) / (1 + Math.abs(b[i]!))); });
  return m;
}

describe('requestedThreads', () => {
  it('takes OCELLUS_THREADS when set, else min(cores, 4) in Node', () => {
    expect(requestedThreads({ OCELLUS_THREADS: '3' }, 2)).toBe(3);
    expect(requestedThreads({}, 2)).toBe(2);
    expect(requestedThreads({}, 16)).toBe(4);
    expect(requestedThreads({}, 1)).toBe(1);
    expect(requestedThreads({ OCELLUS_THREADS: '' }, 8)).toBe(4);
  });

  it.each(['0', '-1', '1.5', 'two', String(MAX_THREADS + 1)])('refuses OCELLUS_THREADS=%s', v => {
    expect(() => requestedThreads({ OCELLUS_THREADS: v }, 2)).toThrow(`OCELLUS_THREADS must be an integer from 1 to ${MAX_THREADS}, got '${v}'`);
  });
});

describe('threaded WASM backend in Node', () => {
  it('starts on 2 threads and matches the single-threaded build on conv, depthwise conv and matmul', async () => {
    const [one, two] = await Promise.all([runWith('1'), runWith('2')]);
    expect(one.info).toMatchObject({ backend: 'wasm', threads: 1, build: 'simd' });
    expect(two.info.fallbackReason).toBeUndefined();
    // ocellus's GEMM runs here (relaxed SIMD), so it owns the threads and XNNPACK keeps one (kernels/backend.ts).
    expect(two.info).toMatchObject({ backend: 'wasm', threads: 2, xnnpackThreads: 1, build: 'threaded-simd' });
    expect(one.conv).toHaveLength(20 * 20 * 24);
    expect(maxRelDiff(two.conv, one.conv)).toBeLessThan(1e-5);
    expect(maxRelDiff(two.depthwise, one.depthwise)).toBeLessThan(1e-5);
    expect(maxRelDiff(two.matmul, one.matmul)).toBeLessThan(1e-5);
    // and the results are right: conv outputs against direct sums over the same seeded data (NHWC, 'same' padding)
    const x = seeded(20 * 20 * 16, 1);
    const w = seeded(3 * 3 * 16 * 24, 2);
    for (const [oy, ox, oc] of [[0, 0, 0], [5, 7, 3], [19, 12, 23]] as const) {
      let sum = 0;
      for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) for (let c = 0; c < 16; c++) {
        const iy = oy + ky - 1, ix = ox + kx - 1;
        if (iy >= 0 && iy < 20 && ix >= 0 && ix < 20) sum += x[(iy * 20 + ix) * 16 + c]! * w[((ky * 3 + kx) * 16 + c) * 24 + oc]!;
      }
      expect(two.conv[(oy * 20 + ox) * 24 + oc]).toBeCloseTo(sum, 4);
    }
  });
});
