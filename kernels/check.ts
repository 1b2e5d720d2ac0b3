// Input checks shared by the definitions' infer: element kinds, and the one float-input check. Each failure names
// the input and its type (through the NodeView, so the node too).

import type { DType } from '../src/ir/dtype.js';
import type { NodeView, ValueInfo } from './types.js';
import { dims, tfDtype } from './util.js';

/** What tfjs computes an ONNX type as: float32, int32 or bool. */
export type Kind = 'float' | 'int' | 'bool';
export const FLOAT: readonly Kind[] = ['float'];
export const NUM: readonly Kind[] = ['float', 'int'];

export function kindOf(d: DType): Kind | undefined {
  if (d === 'string' || d === 'uint64') return undefined;
  const t = tfDtype(d);
  return t === 'float32' ? 'float' : t === 'int32' ? 'int' : 'bool';
}

/** Input i, present and of one of `kinds`; fails naming the input and its type otherwise. */
export function typed(n: NodeView, v: ValueInfo | undefined, i: number, kinds: readonly Kind[]): ValueInfo {
  if (!v) n.fail(`input ${i} is required`);
  const k = kindOf(v.dtype);
  if (!k) n.fail(`input ${i} is ${v.dtype}: ocellus computes on float, integer (up to 32 bits of int64) and bool tensors only`);
  if (!kinds.includes(k)) n.fail(`input ${i} is ${v.dtype} but ${n.opType} takes ${kinds.join(' or ')} tensors`);
  return { dtype: v.dtype, shape: [...v.shape] };
}

/** Input `what`, present and a float type (float16/64 and bfloat16 compute as float32), or exactly float32 with
 *  `float32` (quantization scales); with `minRank`, of at least that rank. */
export function floatInput(n: NodeView, v: ValueInfo | undefined, what: string, opts: { float32?: boolean; minRank?: number } = {}): ValueInfo {
  if (!v) n.fail(`${what} is required`);
  if (opts.float32 ? v.dtype !== 'float32' : kindOf(v.dtype) !== 'float') {
    n.fail(`${what} is ${v.dtype}; ${opts.float32 ? 'expected float32' : 'only float tensors are supported'}`);
  }
  if (opts.minRank && v.shape.length < opts.minRank) n.fail(`${what} must have rank ≥ ${opts.minRank}, got ${dims(v.shape)}`);
  return v;
}
