// The public tensor type, shaped like onnxruntime-web's: `new Tensor('float32', data, [1, 3, 224, 224])`.
// Host memory only; the session moves data to and from the compute backend.

import { allocData, sizeOf, type DType, type TensorData } from '../ir/dtype.js';

export type { DType, TensorData } from '../ir/dtype.js';

const ARRAY_TYPE: Partial<Record<DType, { name: string; ctor: Function }>> = {
  float32: { name: 'Float32Array', ctor: Float32Array }, float64: { name: 'Float64Array', ctor: Float64Array },
  int8: { name: 'Int8Array', ctor: Int8Array }, uint8: { name: 'Uint8Array', ctor: Uint8Array },
  int16: { name: 'Int16Array', ctor: Int16Array }, uint16: { name: 'Uint16Array', ctor: Uint16Array },
  int32: { name: 'Int32Array', ctor: Int32Array }, uint32: { name: 'Uint32Array', ctor: Uint32Array },
  int64: { name: 'BigInt64Array', ctor: BigInt64Array }, uint64: { name: 'BigUint64Array', ctor: BigUint64Array },
  bool: { name: 'Uint8Array', ctor: Uint8Array }, float16: { name: 'Float32Array', ctor: Float32Array },
};

export class Tensor {
  readonly type: DType;
  readonly data: TensorData;
  readonly dims: readonly number[];

  constructor(type: DType, data: TensorData | readonly number[] | readonly bigint[] | readonly boolean[], dims?: readonly number[]) {
    const expected = ARRAY_TYPE[type];
    if (type !== 'string' && !expected) throw new TypeError(`Tensor: unsupported type '${type}'`);
    let arr: TensorData;
    if (Array.isArray(data)) {
      if (type === 'string') arr = data.map(String);
      else {
        arr = allocData(type, data.length);
        for (let i = 0; i < data.length; i++) {
          const v = data[i] as unknown as number | bigint | boolean;
          (arr as unknown as (number | bigint)[])[i] = type === 'int64' || type === 'uint64' ? BigInt(v) : Number(v);
        }
      }
    } else {
      arr = data as TensorData;
      if (expected && !(arr instanceof (expected.ctor as new () => unknown))) {
        throw new TypeError(`Tensor: a '${type}' tensor needs a ${expected.name}, got ${arr?.constructor?.name ?? typeof arr}`);
      }
    }
    const shape = dims ? [...dims] : [arr.length];
    if (shape.some(d => !Number.isInteger(d) || d < 0)) throw new RangeError(`Tensor: dims must be non-negative integers, got [${shape.join(', ')}]`);
    if (sizeOf(shape) !== arr.length) {
      throw new RangeError(`Tensor: dims [${shape.join(', ')}] hold ${sizeOf(shape)} elements but data has ${arr.length}`);
    }
    this.type = type;
    this.data = arr;
    this.dims = Object.freeze(shape);
  }

  get size(): number {
    return this.data.length;
  }
}
