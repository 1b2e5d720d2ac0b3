// transposeConst (blocked) against a plain index-by-index numpy.transpose, on shapes that cross the 32×32 tiles,
// every permutation of rank 3 and 4, rank 0–2, empty tensors and non-float dtypes.

import { describe, expect, it } from 'vitest';
import type { ConstTensor } from '../../src/ir/graph.js';
import { transposeConst } from '../../src/ir/transpose.js';
import { rng } from '../helpers/cnn-reference.js';

/** numpy.transpose by definition: out[j] = in[Σ idx_i · stride_perm[i]] for every output multi-index. */
function reference(dims: number[], data: ArrayLike<number | bigint>, perm: number[]): (number | bigint)[] {
  const outDims = perm.map(p => dims[p]!), n = dims.reduce((a, d) => a * d, 1);
  const strides = dims.map((_, i) => dims.slice(i + 1).reduce((a, d) => a * d, 1));
  const out: (number | bigint)[] = [];
  for (let o = 0; o < n; o++) {
    let rest = o, s = 0;
    for (let i = outDims.length - 1; i >= 0; i--) {
      s += (rest % outDims[i]!) * strides[perm[i]!]!;
      rest = Math.floor(rest / outDims[i]!);
    }
    out.push(data[s]!);
  }
  return out;
}

function perms(n: number): number[][] {
  if (n === 0) return [[]];
  return perms(n - 1).flatMap(p => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
}

describe('transposeConst', () => {
  const r = rng(7);
  const floats = (dims: number[]): ConstTensor =>
    ({ dtype: 'float32', dims, data: Float32Array.from({ length: dims.reduce((a, d) => a * d, 1) }, () => r() * 2 - 1) });

  it.each([[[3, 5, 7]], [[33, 2, 65]], [[70, 40, 3]], [[64, 32, 3, 3]], [[5, 37, 1, 33]], [[2, 3, 4, 5]]])('every permutation of %j', dims => {
    const c = floats(dims);
    for (const perm of perms(dims.length)) {
      const t = transposeConst(c, perm);
      expect(t.dims).toEqual(perm.map(p => dims[p]));
      expect(Array.from(t.data as Float32Array)).toEqual(reference(dims, c.data as Float32Array, perm));
    }
  });

  it('rank 0–2, empty tensors and int64 / uint8 data', () => {
    expect(Array.from(transposeConst({ dtype: 'float32', dims: [], data: Float32Array.of(4) }, []).data as Float32Array)).toEqual([4]);
    expect(Array.from(transposeConst({ dtype: 'float32', dims: [3], data: Float32Array.of(1, 2, 3) }, [0]).data as Float32Array)).toEqual([1, 2, 3]);
    const m = floats([40, 50]);
    expect(Array.from(transposeConst(m, [1, 0]).data as Float32Array)).toEqual(reference([40, 50], m.data as Float32Array, [1, 0]));
    const empty = transposeConst({ dtype: 'float32', dims: [2, 0, 3], data: new Float32Array(0) }, [2, 1, 0]);
    expect(empty.dims).toEqual([3, 0, 2]);
    expect(empty.data.length).toBe(0);
    const big = BigInt64Array.from({ length: 24 }, (_, i) => BigInt(i) - 5n);
    const tb = transposeConst({ dtype: 'int64', dims: [2, 3, 4], data: big }, [1, 2, 0]);
    expect(tb.data).toBeInstanceOf(BigInt64Array);
    expect(Array.from(tb.data as BigInt64Array)).toEqual(reference([2, 3, 4], big, [1, 2, 0]));
    const u8 = Uint8Array.from({ length: 35 * 36 }, (_, i) => i % 251);
    const tu = transposeConst({ dtype: 'uint8', dims: [35, 36], data: u8 }, [1, 0]);
    expect(tu.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(tu.data as Uint8Array)).toEqual(reference([35, 36], u8, [1, 0]));
  });
});
