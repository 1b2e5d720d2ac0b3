// The tests' one seeded random source, so every input is reproducible: mulberry32, the generator whose normals make
// the seeded ViT-B/16 (weights-tools/vit/seeded-normal.ts), drawn from that class so the two cannot drift apart.

import { Tensor } from '../../src/runtime/tensor.js';
import type { ConstTensor } from '../../src/ir/graph.js';
import { SeededNormal } from '../../weights-tools/vit/seeded-normal.js';

/** Uniform numbers in [0, 1) with 32 bits of resolution; the same seed gives the same stream everywhere. */
export function rng(seed: number): () => number {
  const g = new SeededNormal(seed);
  return () => g.uniform();
}

/** Uniform values in [lo, hi). */
export function randomData(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
}

export function randomTensor(dims: number[], seed: number, lo = -1, hi = 1): Tensor {
  return new Tensor('float32', randomData(dims.reduce((p, d) => p * d, 1), seed, lo, hi), dims);
}

export function randomConst(dims: number[], seed: number, lo = -1, hi = 1): ConstTensor {
  return { dtype: 'float32', dims, data: randomData(dims.reduce((p, d) => p * d, 1), seed, lo, hi) };
}
