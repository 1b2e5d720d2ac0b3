// Permutations and transposes on the IR: host-side transposes of constants (done once, at load) and Transpose nodes.

import type { ConstTensor, Node } from './graph.js';

/** Tile edge of the blocked 2-D transpose below: 32×32 floats read and written stay in L1. */
const TILE = 32;

/**
 * numpy.transpose of a constant on the host (same dtype; perm of the constant's rank). The output is walked in
 * order over its leading dims (the source offset kept incrementally) and its last two dims are copied in TILE×TILE
 * blocks, so a weight's [M, C, kh, kw] → [kh, kw, C, M] reads whole cache lines instead of one value per line.
 */
export function transposeConst(c: ConstTensor, perm: readonly number[]): ConstTensor {
  const dims = perm.map(p => c.dims[p]!);
  const rank = dims.length;
  const inStrides = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) inStrides[i] = inStrides[i + 1]! * c.dims[i + 1]!;
  const st = perm.map(p => inStrides[p]!);   // source stride of each output dim
  const src = c.data as unknown as ArrayLike<number> & { constructor: new (n: number) => { [i: number]: number } };
  const out = new src.constructor(src.length);
  const result = { dtype: c.dtype, dims, data: out as unknown as ConstTensor['data'] };
  if (src.length === 0) return result;
  if (rank < 2) {
    for (let i = 0; i < src.length; i++) out[i] = src[i]!;
    return result;
  }
  const R = dims[rank - 2]!, C = dims[rank - 1]!, sR = st[rank - 2]!, sC = st[rank - 1]!, plane = R * C;
  const idx = new Array<number>(rank - 2).fill(0);
  for (let o = 0, base = 0; o < src.length; o += plane) {
    for (let r0 = 0; r0 < R; r0 += TILE) {
      const rEnd = Math.min(r0 + TILE, R);
      for (let c0 = 0; c0 < C; c0 += TILE) {
        const cEnd = Math.min(c0 + TILE, C);
        for (let r = r0; r < rEnd; r++) {
          let s = base + r * sR + c0 * sC;
          for (let d = o + r * C + c0, dEnd = o + r * C + cEnd; d < dEnd; d++, s += sC) out[d] = src[s]!;
        }
      }
    }
    for (let i = rank - 3; i >= 0; i--) {   // next plane: the leading output index, row-major
      base += st[i]!;
      if (++idx[i]! < dims[i]!) break;
      base -= st[i]! * dims[i]!;
      idx[i] = 0;
    }
  }
  return result;
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
