// Numbers the bench reports, computed from raw samples: latency summaries, throughput, achieved GFLOP/s, and the
// accuracy comparisons (max |diff| of outputs, top-k agreement, top-1 against true labels). Pure functions.

export interface LatencySummary {
  min: number;
  median: number;
  max: number;
  mean: number;
}

export function summarize(samples: readonly number[]): LatencySummary {
  if (samples.length === 0) throw new RangeError('summarize: no samples');
  for (const s of samples) if (!Number.isFinite(s) || s < 0) throw new RangeError(`summarize: bad sample ${s}`);
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  const median = n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  return { min: sorted[0]!, median, max: sorted[n - 1]!, mean: sorted.reduce((a, b) => a + b, 0) / n };
}

/** Images per second when one run of `batch` images takes `ms`. */
export function imagesPerSecond(batch: number, ms: number): number {
  return (batch * 1000) / ms;
}

/** Achieved GFLOP/s: 2 FLOPs per multiply-accumulate. */
export function gflops(macsPerImage: number, batch: number, ms: number): number {
  return (2 * macsPerImage * batch) / (ms / 1000) / 1e9;
}

/** Indices of the k largest values, largest first (ties: lower index first). */
export function topK(row: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: row.length }, (_, i) => i);
  idx.sort((a, b) => row[b]! - row[a]! || a - b);
  return idx.slice(0, k);
}

/** Rows of a flat [n, classes] array. */
export function rows(flat: ArrayLike<number>, classes: number): Float32Array[] {
  if (classes <= 0 || flat.length % classes !== 0) throw new RangeError(`rows: ${flat.length} values do not split into rows of ${classes}`);
  const a = Float32Array.from(flat as ArrayLike<number>);
  const out: Float32Array[] = [];
  for (let i = 0; i < a.length; i += classes) out.push(a.subarray(i, i + classes));
  return out;
}

export interface Agreement {
  images: number;
  maxAbsDiff: number;
  meanAbsDiff: number;
  /** Share of images whose top-1 class is the same. */
  top1: number;
  /** Share of images whose top-5 classes are the same set. */
  top5: number;
}

/** How closely `ours` follows `ref` (both [n, classes], same images in the same order). */
export function agreement(ours: ArrayLike<number>, ref: ArrayLike<number>, classes: number): Agreement {
  if (ours.length !== ref.length) throw new RangeError(`agreement: ${ours.length} values vs ${ref.length}`);
  const a = rows(ours, classes);
  const b = rows(ref, classes);
  let maxAbsDiff = 0;
  let sum = 0;
  for (let i = 0; i < ours.length; i++) {
    const d = Math.abs(ours[i]! - ref[i]!);
    if (d > maxAbsDiff || Number.isNaN(d)) maxAbsDiff = d;
    if (Number.isNaN(maxAbsDiff)) break;   // a NaN output: report NaN, not the largest finite difference
    sum += d;
  }
  let top1 = 0;
  let top5 = 0;
  a.forEach((row, i) => {
    if (topK(row, 1)[0] === topK(b[i]!, 1)[0]) top1++;
    const s = new Set(topK(b[i]!, 5));
    if (topK(row, 5).every(c => s.has(c))) top5++;
  });
  const n = a.length;
  return { images: n, maxAbsDiff, meanAbsDiff: Number.isNaN(maxAbsDiff) ? NaN : ours.length ? sum / ours.length : 0, top1: n ? top1 / n : 0, top5: n ? top5 / n : 0 };
}

/** Share of images whose top-1 (and top-5) prediction contains the true class. */
export function accuracy(outputs: ArrayLike<number>, classes: number, truth: readonly number[]): { top1: number; top5: number } {
  const r = rows(outputs, classes);
  if (r.length !== truth.length) throw new RangeError(`accuracy: ${r.length} outputs vs ${truth.length} labels`);
  let top1 = 0;
  let top5 = 0;
  r.forEach((row, i) => {
    const t = topK(row, 5);
    if (t[0] === truth[i]) top1++;
    if (t.includes(truth[i]!)) top5++;
  });
  return { top1: r.length ? top1 / r.length : 0, top5: r.length ? top5 / r.length : 0 };
}

/** Least-squares slope of y over x (e.g. MB of RSS per 1000 runs); 0 for fewer than two points. */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return 0;
  const mx = xs.slice(0, n).reduce((a, b) => a + b, 0) / n;
  const my = ys.slice(0, n).reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den ? num / den : 0;
}

/** Evenly spaced picks of `count` items out of `total` (all of them when count ≥ total). */
export function spreadIndices(total: number, count: number): number[] {
  if (count >= total) return Array.from({ length: total }, (_, i) => i);
  return Array.from({ length: count }, (_, i) => Math.floor((i * total) / count));
}
