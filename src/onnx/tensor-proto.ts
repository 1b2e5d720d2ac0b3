// TensorProto ⇄ ConstTensor. Reads every storage form (raw_data, float_data, int32_data, int64_data, double_data,
// uint64_data, string_data, external data), widens float16/bfloat16 to float32. Nothing is allocated before the
// dims are checked (whole numbers ≥ 0, at most MAX_TENSOR_ELEMENTS in all) and found to match the data present.

import { BYTES_PER_ELEMENT, CODE_BY_DTYPE, DTYPE_BY_CODE, DTYPE_NAME_BY_CODE, allocData, halfToFloat, type DType } from '../ir/dtype.js';
import type { ConstTensor } from '../ir/graph.js';
import { num, onnx } from './proto.js';

export interface ExternalRef { location: string; offset: number; length?: number }

/** Thrown with a message that the loader prefixes with the file name. */
export class TensorDataError extends Error {}

/** Most elements one tensor may have (4 GiB of float32, all the WASM backend's memory could hold). */
export const MAX_TENSOR_ELEMENTS = 2 ** 30;

/** The element count of `dims`, checked: each dim a safe integer ≥ 0, the product at most MAX_TENSOR_ELEMENTS. */
export function elementCount(dims: readonly number[], what: string): number {
  if (dims.some(d => !Number.isSafeInteger(d) || d < 0)) {
    throw new TensorDataError(`${what}: invalid dims [${dims.join(', ')}] (each must be a whole number ≥ 0)`);
  }
  if (dims.includes(0)) return 0;
  let n = 1;
  for (const d of dims) {
    n *= d;   // exact while n ≤ 2^30 and d < 2^53 keep the product below 2^83: precision may go, the size check holds
    if (n > MAX_TENSOR_ELEMENTS) {
      throw new TensorDataError(`${what}: dims [${dims.join(', ')}] make more than ${MAX_TENSOR_ELEMENTS} elements, the most one tensor may have`);
    }
  }
  return n;
}

export function dtypeOf(code: number, what: string): DType {
  const t = DTYPE_BY_CODE[code];
  if (!t) {
    const name = DTYPE_NAME_BY_CODE[code];
    throw new TensorDataError(`${what}: data type ${name ?? 'unknown'} (${code}) is not supported`);
  }
  return t;
}

export function externalRef(t: onnx.ITensorProto, what: string): ExternalRef | undefined {
  if (t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) return undefined;
  const kv = new Map((t.externalData ?? []).map(e => [e.key ?? '', e.value ?? '']));
  const location = kv.get('location');
  if (!location) throw new TensorDataError(`${what}: data_location is EXTERNAL but external_data has no 'location'`);
  const offset = kv.has('offset') ? Number(kv.get('offset')) : 0;
  const length = kv.has('length') ? Number(kv.get('length')) : undefined;
  if (!Number.isSafeInteger(offset) || offset < 0 || (length !== undefined && (!Number.isSafeInteger(length) || length < 0))) {
    throw new TensorDataError(`${what}: bad external_data offset/length '${kv.get('offset')}'/'${kv.get('length')}'`);
  }
  return { location, offset, length };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function bfloatToFloat(b: number): number {
  u32[0] = b << 16;
  return f32[0]!;
}

/**
 * May float32 data stay in the bytes it was decoded from? 'copy': no (the caller's bytes); 'view': yes when 4-byte
 * aligned (a buffer the loader read itself); 'align': yes, and unaligned data is first moved down to a 4-byte
 * boundary, into the raw_data field's own tag and length (≥ 4 bytes for ≥ 16 KiB of data, already decoded).
 */
export type RawBytesUse = 'copy' | 'view' | 'align';

/** Smallest float32 raw_data kept as a view of the loader's buffer (smaller ones get private copies). */
export const IN_PLACE_MIN_BYTES = 64 * 1024;

/** Decodes little-endian element bytes into ocellus's host array for `dtype`. */
export function fromRawBytes(dtype: DType, dims: number[], raw: Uint8Array, what: string, use: RawBytesUse = 'copy'): ConstTensor {
  if (dtype === 'string') throw new TensorDataError(`${what}: string tensors cannot use raw_data`);
  const n = elementCount(dims, what);
  const expected = n * BYTES_PER_ELEMENT[dtype];
  if (raw.byteLength !== expected) {
    throw new TensorDataError(
      `${what}: raw_data is ${raw.byteLength} bytes, but ${dtype} dims [${dims.join(', ')}] need ${expected}`);
  }
  // 8-bit weights (quantized models) are kept as views of the file's bytes: no copy, so an int8 model costs its
  // file size once. Wider types get an aligned private copy (a Buffer slice is a view at any offset).
  if (dtype === 'int8') return { dtype, dims, data: new Int8Array(raw.buffer, raw.byteOffset, n) };
  if (dtype === 'uint8') return { dtype, dims, data: new Uint8Array(raw.buffer, raw.byteOffset, n) };
  // Large float32 weights of a file the loader read stay where they are: a copy would double them until the
  // file's bytes are collected, and leave a heap of freed copies behind once the passes have replaced them.
  const inPlace = dtype === 'float32' && use !== 'copy' && expected >= IN_PLACE_MIN_BYTES ? alignedInPlace(raw, use === 'align') : undefined;
  if (inPlace) return { dtype, dims, data: new Float32Array(inPlace.buffer, inPlace.byteOffset, n) };
  const bytes = new Uint8Array(raw);
  const view = new DataView(bytes.buffer);
  let data;
  switch (dtype) {
    case 'float16': case 'bfloat16': {
      const out = new Float32Array(n);
      const widen = dtype === 'float16' ? halfToFloat : bfloatToFloat;
      for (let i = 0; i < n; i++) out[i] = widen(view.getUint16(2 * i, true));
      data = out;
      break;
    }
    case 'bool': data = new Uint8Array(bytes.buffer, 0, n).map(v => (v ? 1 : 0)); break;
    case 'float32': data = new Float32Array(bytes.buffer, 0, n); break;
    case 'float64': data = new Float64Array(bytes.buffer, 0, n); break;
    case 'int16': data = new Int16Array(bytes.buffer, 0, n); break;
    case 'uint16': data = new Uint16Array(bytes.buffer, 0, n); break;
    case 'int32': data = new Int32Array(bytes.buffer, 0, n); break;
    case 'uint32': data = new Uint32Array(bytes.buffer, 0, n); break;
    case 'int64': data = new BigInt64Array(bytes.buffer, 0, n); break;
    case 'uint64': data = new BigUint64Array(bytes.buffer, 0, n); break;
  }
  return { dtype, dims, data };
}

/** `raw` itself when 4-byte aligned; else, with `move`, the same bytes moved down to the boundary before them. */
function alignedInPlace(raw: Uint8Array, move: boolean): Uint8Array | undefined {
  const shift = raw.byteOffset % 4;
  if (shift === 0) return raw;
  if (!move || raw.byteLength < 16384) return undefined;   // shorter data may have fewer than 3 header bytes before it
  const start = raw.byteOffset - shift;
  new Uint8Array(raw.buffer).copyWithin(start, raw.byteOffset, raw.byteOffset + raw.byteLength);
  return new Uint8Array(raw.buffer, start, raw.byteLength);
}

/** The repeated field holding a dtype's values when raw_data is not used (TensorProto's table). */
function typedField(t: onnx.ITensorProto, dtype: DType): { field: string; values: ArrayLike<unknown> } {
  switch (dtype) {
    case 'float32': return { field: 'float_data', values: t.floatData ?? [] };
    case 'float64': return { field: 'double_data', values: t.doubleData ?? [] };
    case 'int64': return { field: 'int64_data', values: t.int64Data ?? [] };
    case 'uint32': case 'uint64': return { field: 'uint64_data', values: t.uint64Data ?? [] };
    case 'string': return { field: 'string_data', values: t.stringData ?? [] };
    default: return { field: 'int32_data', values: t.int32Data ?? [] };
  }
}

/**
 * Converts a decoded TensorProto. `external` returns exactly `length` bytes at `offset` of an external data file
 * (the loader reads it). `what` names the tensor in errors (e.g. "initializer 'fc.weight'").
 */
export function tensorFromProto(t: onnx.ITensorProto, what: string, external?: (ref: Required<ExternalRef>) => Uint8Array,
  use: { rawData: (raw: Uint8Array) => RawBytesUse; external: RawBytesUse } = { rawData: () => 'copy', external: 'copy' }): ConstTensor {
  const dtype = dtypeOf(t.dataType ?? 0, what);
  const dims = (t.dims ?? []).map(d => num(d));
  const n = elementCount(dims, what);
  if (t.segment) throw new TensorDataError(`${what}: segmented tensors are not supported`);
  const ref = externalRef(t, what);
  if (ref) {
    if (dtype === 'string') throw new TensorDataError(`${what}: string tensors cannot use external data`);
    const where = `${what} (external data '${ref.location}')`;
    const bytes = n * BYTES_PER_ELEMENT[dtype];
    if (ref.length !== undefined && ref.length !== bytes) {
      throw new TensorDataError(`${where}: length is ${ref.length} bytes, but ${dtype} dims [${dims.join(', ')}] need ${bytes}`);
    }
    if (!external) throw new TensorDataError(`${what}: external data '${ref.location}' needs the model's folder (load from a path)`);
    return fromRawBytes(dtype, dims, external({ ...ref, length: bytes }), where, use.external);
  }
  if (t.rawData && t.rawData.length > 0) return fromRawBytes(dtype, dims, t.rawData, what, use.rawData(t.rawData));

  // The values must all be there before anything of the dims' size is allocated.
  const { field, values } = typedField(t, dtype);
  if (values.length !== n) {
    const has = values.length === 0 ? 'has no data (neither raw_data nor ' + field + ')' : `${field} has ${values.length} values`;
    throw new TensorDataError(`${what}: ${has}, but dims [${dims.join(', ')}] need ${n}`);
  }
  if (dtype === 'string') {
    const dec = new TextDecoder();
    return { dtype, dims, data: Array.from(values as Uint8Array[], b => dec.decode(b)) };
  }
  const out = allocData(dtype, n);
  switch (dtype) {
    case 'float32': (out as Float32Array).set(values as number[]); break;
    case 'float64': (out as Float64Array).set(values as number[]); break;
    case 'float16': case 'bfloat16': {
      const src = values as number[];
      const widen = dtype === 'float16' ? halfToFloat : bfloatToFloat;
      for (let i = 0; i < n; i++) (out as Float32Array)[i] = widen(src[i]! & 0xffff);
      break;
    }
    case 'int8': case 'uint8': case 'int16': case 'uint16': case 'int32': case 'bool': {
      const src = values as number[];
      for (let i = 0; i < n; i++) (out as Int32Array)[i] = dtype === 'bool' ? (src[i] ? 1 : 0) : src[i]!;
      break;
    }
    case 'int64': {
      const src = values as (number | { toNumber(): number })[];
      for (let i = 0; i < n; i++) (out as BigInt64Array)[i] = BigInt(Math.trunc(num(src[i])));
      break;
    }
    case 'uint32': case 'uint64': {
      const src = values as (number | { toNumber(): number })[];
      for (let i = 0; i < n; i++) {
        if (dtype === 'uint64') (out as BigUint64Array)[i] = BigInt(Math.trunc(num(src[i])));
        else (out as Uint32Array)[i] = num(src[i]);
      }
      break;
    }
  }
  return { dtype, dims, data: out };
}

/** Little-endian bytes of a host tensor as stored in raw_data (float16/bfloat16 narrowed back). */
export function toRawBytes(t: ConstTensor): Uint8Array {
  const { dtype, data } = t;
  if (Array.isArray(data)) throw new TypeError('toRawBytes: string tensor');
  if (dtype === 'float16' || dtype === 'bfloat16') {
    const out = new Uint16Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = dtype === 'float16' ? floatToHalf(Number(data[i])) : floatToBfloat(Number(data[i]));
    return new Uint8Array(out.buffer);
  }
  const arr = data as ArrayBufferView;
  return new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength).slice();
}

function floatToBfloat(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  return ((x + 0x7fff + ((x >> 16) & 1)) >>> 16) & 0xffff;  // round to nearest even
}

function floatToHalf(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rem > mid || (rem === mid && half & 1) ? 1 : 0));
  }
  const half = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  return sign | (half + (rem > 0x1000 || (rem === 0x1000 && half & 1) ? 1 : 0));
}

/** A TensorProto (plain object for onnx.TensorProto.encode) holding `t` in raw_data (strings in string_data). */
export function tensorToProto(name: string, t: ConstTensor): onnx.ITensorProto {
  const base = { name, dims: t.dims, dataType: CODE_BY_DTYPE[t.dtype] };
  if (t.dtype === 'string') return { ...base, stringData: (t.data as string[]).map(s => new TextEncoder().encode(s)) };
  return { ...base, rawData: toRawBytes(t) };
}
