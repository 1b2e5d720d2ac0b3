// Shared kernel helpers: ONNX dtype ⇄ tfjs dtype, host constants ⇄ tensors, broadcasting and axis arithmetic.
// tfjs holds float32, int32 and bool only: float16/float64 compute in float32, every integer type in int32.

import * as tf from '@tensorflow/tfjs-core';
import { allocData, sizeOf, type DType } from '../src/ir/dtype.js';
import type { ConstTensor } from '../src/ir/graph.js';
import type { NodeView, RunCtx, ValueInfo } from './types.js';

export function tfDtype(d: DType): 'float32' | 'int32' | 'bool' {
  switch (d) {
    case 'float32': case 'float16': case 'float64': case 'bfloat16': return 'float32';
    case 'bool': return 'bool';
    case 'string': case 'uint64': throw new TypeError(`tensors of type ${d} cannot be computed on`);
    default: return 'int32';
  }
}

export function isFloat(d: DType): boolean {
  return tfDtype(d) === 'float32';
}

const INT32_MAX = 2147483647;
const INT32_MIN = -2147483648;

/** Uploads a host constant (int64 values beyond int32 are clamped: they only occur as "to the end" markers). */
export function constToTensor(c: ConstTensor): tf.Tensor {
  const dt = tfDtype(c.dtype);
  const n = c.data.length;
  let data: Float32Array | Int32Array | Uint8Array;
  if (dt === 'float32') data = c.data instanceof Float32Array ? c.data : Float32Array.from(c.data as ArrayLike<number>);
  else if (dt === 'bool') data = Uint8Array.from(c.data as ArrayLike<number>, v => (v ? 1 : 0));
  else if (c.data instanceof Int32Array) data = c.data;
  else {
    data = new Int32Array(n);
    const src = c.data as ArrayLike<number | bigint>;
    for (let i = 0; i < n; i++) {
      const v = Number(src[i]);
      data[i] = v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : v;
    }
  }
  return tf.tensor(data, c.dims, dt);
}

/** Reads a tensor back into a host array of the ONNX type `dtype` (integer types wrap as a C cast would). */
export function tensorToConst(t: tf.Tensor, dtype: DType): ConstTensor {
  const src = t.dataSync() as Float32Array | Int32Array | Uint8Array;
  const out = allocData(dtype, src.length);
  if (out instanceof BigInt64Array || out instanceof BigUint64Array) {
    for (let i = 0; i < src.length; i++) out[i] = BigInt(Math.trunc(src[i]!));
  } else if (Array.isArray(out)) {
    throw new TypeError('string tensors are not supported');
  } else {
    (out as Float32Array).set(src);
  }
  return { dtype, dims: [...t.shape], data: out };
}

/** numpy broadcasting of shapes; undefined when incompatible. */
export function broadcastShapes(...shapes: readonly (readonly number[])[]): number[] | undefined {
  const rank = Math.max(...shapes.map(s => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const v = s[s.length - rank + i] ?? 1;
      if (v === 1) continue;
      if (d !== 1 && d !== v) return undefined;
      d = v;
    }
    out.push(d);
  }
  return out;
}

/** Broadcast output info of a multi-input elementwise node, failing with the shapes when they don't broadcast. */
export function broadcastInfo(n: NodeView, inputs: readonly (ValueInfo | undefined)[], dtype?: DType): ValueInfo {
  const given = inputs.filter((v): v is ValueInfo => !!v);
  const shape = broadcastShapes(...given.map(v => v.shape));
  if (!shape) n.fail(`input shapes ${given.map(v => `[${v.shape.join(', ')}]`).join(' and ')} do not broadcast`);
  return { dtype: dtype ?? given[0]!.dtype, shape };
}

/** Normalises a possibly negative axis for a tensor of rank `rank`, failing with the valid range. */
export function normAxis(n: NodeView, axis: number, rank: number, what = 'axis'): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) n.fail(`${what} ${axis} is out of range for rank ${rank} (expected ${-rank} to ${rank - 1})`);
  return a;
}

/** Normalises a list of axes (negative allowed), failing on out-of-range or repeated ones. */
export function normAxes(n: NodeView, axes: readonly number[], rank: number, what = 'axes'): number[] {
  const out = axes.map(a => normAxis(n, a, rank, what));
  n.check(new Set(out).size === out.length, () => `${what} ${dims(axes)} repeat an axis`);
  return out;
}

/** A shape op's whole run: x reshaped to the plan's output shape. */
export const reshapeTo = (x: tf.Tensor, c: RunCtx) => [tf.reshape(x, c.outputs[0]!.shape)];

export function same(v: ValueInfo | undefined, n: NodeView, i = 0): ValueInfo {
  if (!v) n.fail(`input ${i} is required`);
  return { dtype: v.dtype, shape: [...v.shape] };
}

export function numel(shape: readonly number[]): number {
  return sizeOf(shape);
}

/** A shape as error messages write it: [1, 3, 224, 224]. */
export const dims = (s: readonly number[]) => `[${s.join(', ')}]`;

/** Integer values of input i: from the plan's constants when known, else read from the tensor (slow path). */
export function hostInts(x: readonly (tf.Tensor | undefined)[], consts: readonly (ConstTensor | undefined)[], i: number): number[] | undefined {
  const c = consts[i];
  if (c) return Array.from(c.data as ArrayLike<number | bigint>, Number);
  const t = x[i];
  return t ? Array.from(t.dataSync() as ArrayLike<number>) : undefined;
}

/** Float values of input i (same rules as hostInts). */
export const hostNumbers = hostInts;

/**
 * [..., R, C] → matrix i as a tensor of its own: one read of the data, then one upload per matrix taken. tf.slice,
 * tf.split and tf.unstack on WASM copy the WHOLE source out of the heap for every piece, so taking P pieces with
 * them costs O(P²) (96 pieces of [96, 197, 64]: ~320 ms, this way ~9 ms); tf.gather copies only the piece but at
 * ~80 ns per element.
 */
export function matrices(t: tf.Tensor): (i: number) => tf.Tensor {
  const [r, c] = t.shape.slice(-2) as [number, number];
  const data = t.dataSync() as Float32Array;
  return i => tf.tensor(data.subarray(i * r * c, (i + 1) * r * c), [r, c], 'float32');
}
