// Small helpers over ConstTensor: construction, number views of integer data, scalars.

import { allocData, sizeOf, type DType, type TensorData } from './dtype.js';
import type { ConstTensor } from './graph.js';

export function constTensor(dtype: DType, dims: number[], values?: ArrayLike<number | bigint> | TensorData): ConstTensor {
  const n = sizeOf(dims);
  const data = allocData(dtype, n);
  if (values) {
    if (values.length !== n) throw new RangeError(`constTensor: dims [${dims}] need ${n} values, got ${values.length}`);
    if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
      for (let i = 0; i < n; i++) data[i] = BigInt(values[i] as number | bigint);
    } else if (Array.isArray(data)) {
      for (let i = 0; i < n; i++) data[i] = String(values[i]);
    } else {
      for (let i = 0; i < n; i++) data[i] = Number(values[i]);
    }
  }
  return { dtype, dims: [...dims], data };
}

/** The values of a numeric tensor as plain numbers (int64 beyond 2^53 loses precision, as for any JS number). */
export function toNumbers(t: ConstTensor): number[] {
  if (Array.isArray(t.data)) throw new TypeError(`toNumbers: string tensor`);
  return Array.from(t.data as ArrayLike<number | bigint>, Number);
}

export function scalarValue(t: ConstTensor): number {
  if (t.data.length !== 1) throw new RangeError(`expected a single value, got dims [${t.dims.join(', ')}]`);
  return Number(t.data[0]);
}

export function describeDims(dims: readonly (number | string | null)[]): string {
  return `[${dims.map(d => (d === null ? '?' : d)).join(', ')}]`;
}
