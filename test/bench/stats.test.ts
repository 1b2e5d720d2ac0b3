// The bench's arithmetic: latency summaries, throughput and GFLOP/s from their definitions, top-k, agreement
// between two engines' outputs, accuracy against labels, the RSS slope, and photo picking.

import { describe, expect, it } from 'vitest';
import { accuracy, agreement, gflops, imagesPerSecond, rows, slope, spreadIndices, summarize, topK } from '../../bench/stats.js';

describe('summarize', () => {
  it('gives min, median, max and mean of unsorted samples (odd and even counts)', () => {
    expect(summarize([30, 10, 20])).toEqual({ min: 10, median: 20, max: 30, mean: 20 });
    expect(summarize([4, 1, 3, 2])).toEqual({ min: 1, median: 2.5, max: 4, mean: 2.5 });
    expect(summarize([7])).toEqual({ min: 7, median: 7, max: 7, mean: 7 });
  });

  it('agrees with a brute-force median on random samples', () => {
    let s = 1;
    const rand = () => ((s = (s * 48271) % 2147483647) / 2147483647) * 100;
    for (let n = 1; n < 30; n++) {
      const xs = Array.from({ length: n }, rand);
      // median by counting: the value(s) with as many samples below as above
      const below = (v: number) => xs.filter(x => x < v).length;
      const above = (v: number) => xs.filter(x => x > v).length;
      const mids = xs.filter(v => below(v) <= n / 2 && above(v) <= n / 2).sort((a, b) => a - b);
      const expected = n % 2 ? mids[0]! : (Math.max(...xs.filter(v => below(v) < n / 2)) + Math.min(...xs.filter(v => above(v) < n / 2))) / 2;
      expect(summarize(xs).median).toBeCloseTo(expected, 12);
    }
  });

  it('refuses empty or invalid samples', () => {
    expect(() => summarize([])).toThrow(/no samples/);
    expect(() => summarize([1, NaN])).toThrow(/bad sample/);
    expect(() => summarize([-1])).toThrow(/bad sample/);
  });
});

describe('throughput and GFLOP/s', () => {
  it('images/s is batch over seconds', () => {
    expect(imagesPerSecond(8, 2000)).toBe(4);
    expect(imagesPerSecond(1, 250)).toBe(4);
  });

  it('GFLOP/s counts two FLOPs per multiply-accumulate', () => {
    // ResNet-50: 3.86 G MACs per image; one image in 100 ms = 7.72 GFLOP per 0.1 s
    expect(gflops(3.86e9, 1, 100)).toBeCloseTo(77.2, 10);
    // ViT-B/16 batch 8 in 4 s: 8 × 17.56 G × 2 / 4
    expect(gflops(17.56e9, 8, 4000)).toBeCloseTo(70.24, 10);
  });
});

describe('topK and rows', () => {
  it('orders by value, largest first, ties by index', () => {
    expect(topK([0.1, 0.5, 0.2, 0.5, 0.9], 3)).toEqual([4, 1, 3]);
    expect(topK([3, 2, 1], 5)).toEqual([0, 1, 2]);
  });

  it('splits flat outputs into rows and refuses ragged ones', () => {
    expect(rows([1, 2, 3, 4, 5, 6], 3).map(r => [...r])).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(() => rows([1, 2, 3], 2)).toThrow(/rows of 2/);
  });
});

describe('agreement between engines', () => {
  const classes = 6;
  // three images; `ref` top-1 = 0, 2, 5
  const ref = [
    0.9, 0.05, 0.03, 0.01, 0.005, 0.005,
    0.1, 0.1, 0.5, 0.2, 0.05, 0.05,
    0.0, 0.1, 0.1, 0.1, 0.2, 0.5,
  ];

  it('identical outputs agree fully with zero difference', () => {
    expect(agreement(ref, ref, classes)).toEqual({ images: 3, maxAbsDiff: 0, meanAbsDiff: 0, top1: 1, top5: 1 });
  });

  it('reports the largest difference, its mean, and which images changed their top-1 and top-5', () => {
    const ours = [...ref];
    ours[1] += 0.001;                 // image 0: tiny change, same ranking
    ours[6 + 3] = 0.6;                // image 1: class 3 overtakes class 2 (diff 0.4)
    ours[12 + 0] = 0.15;              // image 2: class 0 enters the top 5, class 1 leaves (diff 0.15)
    ours[12 + 1] = 0.0;               // (diff 0.1)
    const a = agreement(ours, ref, classes);
    expect(a.maxAbsDiff).toBeCloseTo(0.4, 12);
    expect(a.meanAbsDiff).toBeCloseTo((0.001 + 0.4 + 0.15 + 0.1) / 18, 12);
    expect(a.top1).toBeCloseTo(2 / 3, 12);
    // image 1 keeps its top-5 set (only the order changed); image 2's set changed
    expect(a.top5).toBeCloseTo(2 / 3, 12);
  });

  it('a NaN output shows as a NaN max difference, not 0', () => {
    const ours = [...ref];
    ours[4] = NaN;
    expect(agreement(ours, ref, classes).maxAbsDiff).toBeNaN();
  });

  it('refuses outputs of different sizes', () => {
    expect(() => agreement(ref.slice(0, 12), ref, classes)).toThrow(/12 values vs 18/);
  });
});

describe('accuracy against labels', () => {
  it('counts top-1 hits and top-5 hits', () => {
    const out = [
      0.9, 0.1, 0, 0, 0, 0, 0,   // top-1 0
      0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6,   // top-1 6, top-5 {6,5,4,3,2}
    ];
    expect(accuracy(out, 7, [0, 2])).toEqual({ top1: 0.5, top5: 1 });
    expect(accuracy(out, 7, [1, 1])).toEqual({ top1: 0, top5: 0.5 });
    expect(() => accuracy(out, 7, [0])).toThrow(/2 outputs vs 1 labels/);
  });
});

describe('slope', () => {
  it('recovers the slope of a line and of noisy points around one', () => {
    const xs = [0, 100, 200, 300, 400];
    expect(slope(xs, xs.map(x => 500 + 0.002 * x))).toBeCloseTo(0.002, 12);
    expect(slope(xs, [500, 500, 500, 500, 500])).toBe(0);
    expect(slope(xs, [1, 3, 2, 4, 3])).toBeCloseTo(0.005, 12);   // Σ(x-x̄)(y-ȳ)/Σ(x-x̄)² = 500/100000
    expect(slope([1], [5])).toBe(0);
  });
});

describe('spreadIndices', () => {
  it('picks evenly over the range, all when asked for as many or more', () => {
    expect(spreadIndices(200, 4)).toEqual([0, 50, 100, 150]);
    expect(spreadIndices(10, 3)).toEqual([0, 3, 6]);
    expect(spreadIndices(3, 5)).toEqual([0, 1, 2]);
    expect(new Set(spreadIndices(200, 200)).size).toBe(200);
  });
});
