// Permutations and transposes on the IR: host-side transposes of constants (done once, at load) and Transpose nodes.

import type { ConstTensor, Node } from './graph.js';

/** numpy.transpose of a constant on the host (same dtype; perm of the constant's rank). */
export function transposeConst(c: ConstTensor, perm: readonly number[]): ConstTensor {
  const dims = perm.map(p => c.dims[p]!);
  const rank = dims.length;
  const inStrides = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) inStrides[i] = inStrides[i + 1]! * c.dims[i + 1]!;
  const src = c.data as unknown as ArrayLike<number> & { constructor: new (n: number) => { [i: number]: number } };
  const out = new src.constructor(src.length);
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < src.length; o++) {
    let s = 0;
    for (let i = 0; i < rank; i++) s += idx[i]! * inStrides[perm[i]!]!;
    out[o] = src[s]!;
    for (let i = rank - 1; i >= 0; i--) {   // next output index, row-major
      if (++idx[i]! < dims[i]!) break;
      idx[i] = 0;
    }
  }
  return { dtype: c.dtype, dims, data: out as unknown as ConstTensor['data'] };
}

export function isIdentityPerm(perm: readonly number[]): boolean {
  return perm.every((p, i) => p === i);
}

export function invertPerm(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => { inv[p] = i; });
  return inv;
}

export function transposeNode(name: string, input: string, output: string, perm: readonly number[]): Node {
  return { name, opType: 'Transpose', domain: '', inputs: [input], outputs: [output], attrs: { perm: { type: 'ints', value: [...perm] } } };
}
