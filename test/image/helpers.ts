// Shared test helpers for the image layer: where the shared fixtures live, and reading ONNX TensorProto files.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { onnx } from '../../src/onnx/onnx-proto.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED = path.resolve(REPO, '../shared');
export const PREPROCESS_DIR = path.join(SHARED, 'fixtures/preprocess');

/** A TensorProto file's dims and raw bytes (copied, so typed-array views are aligned). */
export function readTensorPb(file: string): { name: string; dims: number[]; dataType: number; bytes: Uint8Array } {
  const t = onnx.TensorProto.decode(fs.readFileSync(file));
  return { name: t.name, dims: t.dims.map(Number), dataType: t.dataType, bytes: new Uint8Array(t.rawData) };
}

export function readFloat32Pb(file: string): { dims: number[]; data: Float32Array } {
  const t = readTensorPb(file);
  if (t.dataType !== 1) throw new Error(`${file}: expected float32 (1), got data_type ${t.dataType}`);
  return { dims: t.dims, data: new Float32Array(t.bytes.buffer, 0, t.bytes.length / 4) };
}

export function readJson<T = any>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

interface ImageLike { data: Uint8Array; width: number; height: number; channels: number }

/** null when equal, else a short description of the first difference (cheap to print, unlike a full array diff). */
export function imageDifference(actual: ImageLike, expected: ImageLike): string | null {
  const dims = (i: ImageLike) => `${i.width}×${i.height}×${i.channels}`;
  if (dims(actual) !== dims(expected)) return `size ${dims(actual)}, expected ${dims(expected)}`;
  if (actual.data.length !== expected.data.length) return `${actual.data.length} bytes, expected ${expected.data.length}`;
  for (let i = 0; i < actual.data.length; i++) {
    if (actual.data[i] !== expected.data[i]) return `byte ${i} is ${actual.data[i]}, expected ${expected.data[i]}`;
  }
  return null;
}
