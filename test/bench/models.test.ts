// The int8 twins' files: when a cached model_quantized.onnx is reused (newer than model.onnx and than the quantizer's
// source) and what a model's size counts (the .onnx and its external data files). Temp folders, set mtimes.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MODELS, modelBytes, quantizedIsFresh } from '../../bench/models.js';
import { MODEL_IDS, quantizedFrom } from '../../bench/options.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-bench-models-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Writes `bytes` bytes to a file under tmp with the given mtime (seconds since the epoch). */
function file(name: string, bytes: number, mtime: number): string {
  const f = path.join(tmp, name);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, new Uint8Array(bytes));
  fs.utimesSync(f, mtime, mtime);
  return f;
}

describe('quantizedIsFresh', () => {
  const fp32 = file('a/model.onnx', 10, 1000);
  const quantizer = file('quantize.ts', 1, 500);

  it('reuses a quantized file newer than both the fp32 model and the quantizer', () => {
    expect(quantizedIsFresh(file('a/model_quantized.onnx', 5, 2000), fp32, quantizer)).toBe(true);
  });

  it('re-quantizes when the file is missing, older than the fp32 model, or older than the quantizer', () => {
    expect(quantizedIsFresh(path.join(tmp, 'a/none.onnx'), fp32, quantizer)).toBe(false);
    expect(quantizedIsFresh(file('a/old.onnx', 5, 900), fp32, quantizer)).toBe(false);
    expect(quantizedIsFresh(file('a/q.onnx', 5, 1500), fp32, file('quantize2.ts', 1, 1600))).toBe(false);
  });

  it('without the quantizer source (an installed copy) only the fp32 model counts', () => {
    expect(quantizedIsFresh(file('a/q2.onnx', 5, 1500), fp32, path.join(tmp, 'missing.ts'))).toBe(true);
  });
});

describe('modelBytes', () => {
  it('counts the file and its external-data siblings, not the other models in the folder', () => {
    const m = file('b/model.onnx', 100, 1000);
    file('b/model.onnx_data', 1000, 1000);
    file('b/model.onnx.data', 10, 1000);
    file('b/model_quantized.onnx', 7, 1000);
    expect(modelBytes(m)).toBe(1110);
    expect(modelBytes(path.join(tmp, 'b/model_quantized.onnx'))).toBe(7);
  });
});

describe('MODELS', () => {
  it('has a spec per id; an int8 twin shares its fp32 model\'s work per image and names it', () => {
    for (const id of MODEL_IDS) {
      const spec = MODELS[id];
      expect(spec.id).toBe(id);
      expect(spec.quantizedFrom).toBe(quantizedFrom(id));
      if (spec.quantizedFrom) expect(spec.macsPerImage).toBe(MODELS[spec.quantizedFrom].macsPerImage);
    }
  });
});
