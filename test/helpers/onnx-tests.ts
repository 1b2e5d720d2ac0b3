// Reads test folders in the ONNX backend-test layout (model.onnx + test_data_set_N/{input,output}_K.pb) and runs
// them through the public InferenceSession, comparing with the stored outputs.

import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { onnx } from '../../src/onnx/proto.js';
import { tensorFromProto } from '../../src/onnx/tensor-proto.js';
import { decodeModel } from '../../src/onnx/decode.js';

export const REPO = path.resolve(import.meta.dirname, '../..');
export const SHARED = path.resolve(REPO, '../shared');
export const NODE_TESTS = '/usr/share/libonnx-testdata/data/node';

export interface Tolerance { rtol: number; atol: number }
export const DEFAULT_TOL: Tolerance = { rtol: 1e-3, atol: 1e-5 };

export function readTensorPb(file: string): { name: string; tensor: Tensor } {
  const proto = onnx.TensorProto.decode(fs.readFileSync(file));
  const c = tensorFromProto(proto, file);
  return { name: proto.name ?? '', tensor: new Tensor(c.dtype, c.data, c.dims) };
}

export function dataSets(dir: string): string[] {
  return fs.readdirSync(dir).filter(d => d.startsWith('test_data_set_')).sort().map(d => path.join(dir, d));
}

function numbered(dir: string, prefix: string): string[] {
  return fs.readdirSync(dir).filter(f => f.startsWith(prefix) && f.endsWith('.pb'))
    .sort((a, b) => parseInt(a.slice(prefix.length)) - parseInt(b.slice(prefix.length))).map(f => path.join(dir, f));
}

/** Max |a-b| and whether every element is within atol + rtol*|b| (NaN matches NaN). */
export function compare(actual: Tensor, expected: Tensor, tol: Tolerance): { ok: boolean; maxDiff: number; worst: number } {
  const a = actual.data as ArrayLike<number | bigint>;
  const b = expected.data as ArrayLike<number | bigint>;
  let maxDiff = 0, worst = -1, ok = a.length === b.length;
  for (let i = 0; ok && i < a.length; i++) {
    const x = Number(a[i]), y = Number(b[i]);
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    if (x === y) continue;
    const d = Math.abs(x - y);
    if (!(d <= tol.atol + tol.rtol * Math.abs(y))) { ok = false; worst = i; }
    if (!(d <= maxDiff)) maxDiff = d;
  }
  return { ok, maxDiff, worst };
}

/** Runs every data set of an ONNX test folder; asserts outputs, dtypes and a flat tensor count. */
export async function runOnnxTestFolder(dir: string, tol: Tolerance = DEFAULT_TOL, options: { optimize?: boolean } = {}): Promise<number> {
  const session = await InferenceSession.create(path.join(dir, 'model.onnx'), { checkShapes: true, ...options });
  let maxDiff = 0;
  try {
    for (const set of dataSets(dir)) {
      const feeds: Record<string, Tensor> = {};
      numbered(set, 'input_').forEach((f, i) => {
        const { name, tensor } = readTensorPb(f);
        feeds[name || session.inputNames[i]!] = tensor;
      });
      // Inputs given in the model as initializers-with-defaults may not be in feeds; keep only real inputs.
      for (const k of Object.keys(feeds)) if (!session.inputNames.includes(k)) delete feeds[k];
      session.plan(feeds);  // a plan keyed on input values is built (constants uploaded) here, outside the count
      const before = tf.memory().numTensors;
      const out = await session.run(feeds);
      expect(tf.memory().numTensors, 'tensors leaked by run()').toBe(before);
      numbered(set, 'output_').forEach((f, i) => {
        const { name, tensor: want } = readTensorPb(f);
        const key = name && name in out ? name : session.outputNames[i]!;
        const got = out[key]!;
        expect(got, `output '${key}' missing`).toBeDefined();
        expect(got.type, `output '${key}' type`).toBe(want.type);
        expect([...got.dims], `output '${key}' dims`).toEqual([...want.dims]);
        const c = compare(got, want, tol);
        if (!c.ok) {
          const a = Number((got.data as ArrayLike<number>)[c.worst]), b = Number((want.data as ArrayLike<number>)[c.worst]);
          expect.fail(`${path.basename(set)} output '${key}': element ${c.worst} is ${a}, expected ${b} (max |diff| ${c.maxDiff}, tol ${JSON.stringify(tol)})`);
        }
        maxDiff = Math.max(maxDiff, c.maxDiff);
      });
    }
  } finally {
    await session.release();
  }
  return maxDiff;
}

/** The (domain:opType) set each official node test's model uses, read once. */
let opsCache: Map<string, { ops: string[]; opset: number }> | undefined;
export function nodeTestOps(): Map<string, { ops: string[]; opset: number }> {
  if (opsCache) return opsCache;
  opsCache = new Map();
  if (!fs.existsSync(NODE_TESTS)) return opsCache;
  for (const t of fs.readdirSync(NODE_TESTS).sort()) {
    const file = path.join(NODE_TESTS, t, 'model.onnx');
    if (!fs.existsSync(file)) continue;
    try {
      const m = decodeModel(fs.readFileSync(file), { name: file });
      opsCache.set(t, { ops: [...new Set(m.graph.nodes.map(n => (n.domain ? `${n.domain}:` : '') + n.opType))], opset: m.opsets.get('') ?? 0 });
    } catch (e) {
      opsCache.set(t, { ops: [`<unreadable: ${(e as Error).message}>`], opset: 0 });
    }
  }
  return opsCache;
}
