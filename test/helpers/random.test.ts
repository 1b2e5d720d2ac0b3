// The seeded random helper against an independent mulberry32 (the published algorithm, written out here), its
// ranges, and the shapes of what it builds.

import { describe, expect, it } from 'vitest';
import { randomConst, randomData, randomTensor, rng } from './random.js';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('rng', () => {
  it('is mulberry32: the same stream as the reference for several seeds, 1,000 draws each', () => {
    for (const seed of [0, 1, 42, 12345, 0xffffffff, -7]) {
      const a = rng(seed), b = mulberry32(seed);
      for (let i = 0; i < 1000; i++) expect(a(), `seed ${seed} draw ${i}`).toBe(b());
    }
  });

  it('gives different streams for different seeds, each in [0, 1)', () => {
    const a = Array.from({ length: 100 }, rng(1)), b = Array.from({ length: 100 }, rng(2));
    expect(a).not.toEqual(b);
    for (const v of [...a, ...b]) expect(v >= 0 && v < 1).toBe(true);
  });
});

describe('randomData / randomTensor / randomConst', () => {
  it('scale the stream into [lo, hi) (default [-1, 1))', () => {
    const r = mulberry32(9);
    expect([...randomData(50, 9)]).toEqual(Array.from({ length: 50 }, () => Math.fround(-1 + 2 * r())));
    const d = randomData(10_000, 3, -2, 5);
    expect(Math.min(...d)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...d)).toBeLessThan(5);
    expect(Math.min(...d)).toBeLessThan(-1.9);
    expect(Math.max(...d)).toBeGreaterThan(4.9);
  });

  it('fill the shape given, with the data of the same seed', () => {
    const t = randomTensor([2, 3, 4], 5, 0, 1);
    expect(t.type).toBe('float32');
    expect([...t.dims]).toEqual([2, 3, 4]);
    expect(t.data).toEqual(randomData(24, 5, 0, 1));
    const c = randomConst([3, 2], 6);
    expect(c).toEqual({ dtype: 'float32', dims: [3, 2], data: randomData(6, 6) });
  });
});
