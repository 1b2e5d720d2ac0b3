// Reads the weights of a TF.js model folder: the `weightsManifest` of model.json names each weight with its shape
// and dtype; each group's shard files, concatenated in order, hold the weights back to back. Quantized weights
// (uint8/uint16 with scale+min, or float16) are dequantized to float32, as tfjs-core's io does on load.

import fs from 'node:fs';
import path from 'node:path';
import { halfToFloat } from '../src/ir/dtype.js';

export interface TfjsQuantization {
  dtype: 'uint8' | 'uint16' | 'float16';
  scale?: number;
  min?: number;
  original_dtype?: string;
}

export interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: TfjsQuantization;
}

export interface TfjsWeightsGroup {
  paths: string[];
  weights: TfjsWeightSpec[];
}

export interface TfjsWeight {
  name: string;
  shape: number[];
  data: Float32Array | Int32Array;
}

export interface ProgressEvent { stage: string; done: number; total: number }
export type ProgressFn = (e: ProgressEvent) => void;

const STORED_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

function count(shape: number[]): number {
  return shape.reduce((a, d) => a * d, 1);
}

/** The bytes one weight takes in its shard: its quantized dtype if quantized, else its own dtype. */
function storedBytes(w: TfjsWeightSpec, where: string): number {
  const stored = w.quantization?.dtype ?? w.dtype;
  const size = STORED_BYTES[stored];
  if (size === undefined || (!w.quantization && (stored === 'uint8' || stored === 'uint16' || stored === 'float16'))) {
    throw new Error(`${where}: weight '${w.name}' has dtype '${stored}'; supported: float32, int32, bool, ` +
      `or float32 quantized to uint8/uint16/float16`);
  }
  if (!Array.isArray(w.shape) || w.shape.some(d => !Number.isSafeInteger(d) || d < 0)) {
    throw new Error(`${where}: weight '${w.name}' has an invalid shape ${JSON.stringify(w.shape)}`);
  }
  return count(w.shape) * size;
}

/** Decodes one weight's bytes (little-endian), dequantizing if the manifest says so. */
function decodeWeight(w: TfjsWeightSpec, bytes: Uint8Array, where: string): TfjsWeight {
  const n = count(w.shape);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const q = w.quantization;
  const toInt = w.dtype === 'int32' || q?.original_dtype === 'int32';
  const out = toInt ? new Int32Array(n) : new Float32Array(n);
  if (!q) {
    if (w.dtype === 'float32') for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
    else if (w.dtype === 'int32') for (let i = 0; i < n; i++) out[i] = view.getInt32(4 * i, true);
    else for (let i = 0; i < n; i++) out[i] = bytes[i] ? 1 : 0;  // bool
  } else if (q.dtype === 'float16') {
    for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
  } else {
    if (typeof q.scale !== 'number' || typeof q.min !== 'number') {
      throw new Error(`${where}: weight '${w.name}' is quantized to ${q.dtype} but has no numeric scale/min`);
    }
    const read = q.dtype === 'uint8' ? (i: number) => bytes[i]! : (i: number) => view.getUint16(2 * i, true);
    for (let i = 0; i < n; i++) out[i] = toInt ? Math.round(read(i) * q.scale + q.min) : read(i) * q.scale + q.min;
  }
  return { name: w.name, shape: [...w.shape], data: out };
}

function readShards(dir: string, group: TfjsWeightsGroup, where: string, tick: () => void): Uint8Array {
  const parts = group.paths.map(p => {
    const file = path.resolve(dir, p);
    if (!fs.existsSync(file)) throw new Error(`${where}: shard '${p}' not found (looked for ${file})`);
    const bytes = fs.readFileSync(file);
    tick();
    return bytes;
  });
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/**
 * Reads every weight of every manifest group. `dir` is the folder of model.json (shard paths are relative to it).
 * Throws naming the group and file when a shard is missing or the shards' length differs from what the manifest needs.
 */
export function readTfjsWeights(dir: string, manifest: TfjsWeightsGroup[], onProgress?: ProgressFn): Map<string, TfjsWeight> {
  if (!Array.isArray(manifest)) throw new Error(`model.json in ${dir}: weightsManifest is missing or not an array`);
  const total = manifest.reduce((a, g) => a + (g.paths?.length ?? 0), 0);
  let done = 0;
  const tick = () => onProgress?.({ stage: 'read-shards', done: ++done, total });
  onProgress?.({ stage: 'read-shards', done: 0, total });
  const weights = new Map<string, TfjsWeight>();
  manifest.forEach((group, gi) => {
    const where = `model.json weightsManifest[${gi}]`;
    if (!Array.isArray(group.paths) || !Array.isArray(group.weights)) throw new Error(`${where}: needs 'paths' and 'weights' arrays`);
    const sizes = group.weights.map(w => storedBytes(w, where));
    const need = sizes.reduce((a, s) => a + s, 0);
    const bytes = readShards(dir, group, where, tick);
    if (bytes.byteLength !== need) {
      throw new Error(`${where}: shards ${group.paths.join(', ')} hold ${bytes.byteLength} bytes, but the ` +
        `${group.weights.length} weights listed need ${need} (missing, truncated or wrong shard?)`);
    }
    let offset = 0;
    group.weights.forEach((w, i) => {
      if (weights.has(w.name)) throw new Error(`${where}: weight '${w.name}' is listed twice`);
      weights.set(w.name, decodeWeight(w, bytes.subarray(offset, offset + sizes[i]!), where));
      offset += sizes[i]!;
    });
  });
  return weights;
}
