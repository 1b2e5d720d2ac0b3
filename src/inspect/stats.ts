// Statistics of one traced tensor: min, max, mean, std (population), share of exact zeros, a histogram, and the
// mean row entropy of probability rows (Softmax outputs). Sums in float64; non-finite values are counted apart.

import type { HostTensor } from '../runtime/trace.js';

export interface TensorStats {
  count: number;
  min: number;
  max: number;
  mean: number;
  std: number;
  /** Share of elements exactly 0, in [0, 1]. */
  zeros: number;
  /** NaN and ±Infinity, left out of everything else. */
  nonFinite: number;
}

export interface Histogram {
  /** Bin i covers [lo + i·w, lo + (i+1)·w), w = (hi − lo) / bins; the last bin includes hi. */
  lo: number;
  hi: number;
  counts: number[];
}

export interface Entropy {
  /** Mean over rows of −Σ p·ln p, in nats. */
  mean: number;
  /** ln(row length): the entropy of a uniform row. */
  max: number;
  rows: number;
}

export const HISTOGRAM_BINS = 48;

/** Numeric view of a host tensor (int64 as numbers); undefined for strings. */
export function numbersOf(t: HostTensor): ArrayLike<number> | undefined {
  const d = t.data;
  if (Array.isArray(d)) return undefined;
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) return Float64Array.from(d as ArrayLike<bigint>, Number);
  return d as ArrayLike<number>;
}

export function tensorStats(x: ArrayLike<number>): TensorStats {
  let min = Infinity, max = -Infinity, sum = 0, zeros = 0, bad = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (!Number.isFinite(v)) { bad++; continue; }
    if (v < min) min = v;
    if (v > max) max = v;
    if (v === 0) zeros++;
    sum += v;
  }
  const n = x.length - bad;
  const mean = n ? sum / n : NaN;
  let sq = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (Number.isFinite(v)) sq += (v - mean) * (v - mean);
  }
  return {
    count: x.length, min: n ? min : NaN, max: n ? max : NaN, mean, std: n ? Math.sqrt(sq / n) : NaN,
    zeros: x.length ? zeros / x.length : 0, nonFinite: bad,
  };
}

export function histogram(x: ArrayLike<number>, lo: number, hi: number, bins = HISTOGRAM_BINS): Histogram {
  const counts = new Array<number>(bins).fill(0);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return { lo, hi, counts };
  const width = hi > lo ? (hi - lo) / bins : 1;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (!Number.isFinite(v)) continue;
    counts[Math.min(bins - 1, Math.max(0, Math.floor((v - lo) / width)))]!++;
  }
  return { lo, hi, counts };
}

/** Mean entropy of the rows of length `rowLength` (rows of a probability distribution each). */
export function rowEntropy(x: ArrayLike<number>, rowLength: number): Entropy {
  const rows = Math.floor(x.length / rowLength);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    let h = 0;
    for (let i = r * rowLength, end = i + rowLength; i < end; i++) {
      const p = x[i]!;
      if (p > 0) h -= p * Math.log(p);
    }
    total += h;
  }
  return { mean: rows ? total / rows : NaN, max: Math.log(rowLength), rows };
}
