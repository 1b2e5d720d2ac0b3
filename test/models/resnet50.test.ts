// The bundled ResNet-50 (Keras ImageNet weights converted by weights-tools) against the reference top-5 made by
// onnxruntime-node from PIL-preprocessed inputs, and against onnxruntime-web on the same tensors.

import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { resnet50Dir } from '../helpers/models.js';
import { SHARED } from '../helpers/onnx-tests.js';

const REF_DIR = path.join(SHARED, 'reference/resnet50-keras-photos-input');
const index: string[] = JSON.parse(fs.readFileSync(path.join(REF_DIR, 'index.json'), 'utf8')).index;
const top5: Record<string, { index: number; label: string; score: number }[]> =
  JSON.parse(fs.readFileSync(path.join(SHARED, 'reference/resnet50-keras-photos-top5.json'), 'utf8')).results;

function input(i: number): Float32Array {
  const b = fs.readFileSync(path.join(REF_DIR, `${i}.f32`));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

describe('bundled ResNet-50', () => {
  let session: InferenceSession;
  let onnxPath: string;
  beforeAll(async () => {
    onnxPath = path.join(await resnet50Dir(), 'onnx/model.onnx');
    session = await InferenceSession.create(onnxPath);
  });
  afterAll(() => session?.release());

  it('gives the reference top-1 for all 20 photos, probabilities within 0.01', async () => {
    let maxDiff = 0;
    for (let i = 0; i < index.length; i++) {
      const before = tf.memory().numTensors;
      const out = await session.run({ pixel_values: new Tensor('float32', input(i), [1, 3, 224, 224]) });
      expect(tf.memory().numTensors).toBe(before);
      const probs = out.probabilities!.data as Float32Array;
      const ref = top5[index[i]!]!;
      const best = probs.indexOf(Math.max(...probs));
      expect(best, index[i]).toBe(ref[0]!.index);
      for (const r of ref) maxDiff = Math.max(maxDiff, Math.abs(probs[r.index]! - r.score));
    }
    expect(maxDiff).toBeLessThanOrEqual(0.01);
    console.log(`ResNet-50 vs reference top-5 probabilities: max |diff| ${maxDiff.toExponential(2)}`);
  });

  it('batch 4 gives the same per-image results as batch 1', async () => {
    const xs = [0, 5, 11, 19].map(input);
    const batch = new Float32Array(4 * xs[0]!.length);
    xs.forEach((x, i) => batch.set(x, i * x.length));
    const out = (await session.run({ pixel_values: new Tensor('float32', batch, [4, 3, 224, 224]) })).probabilities!;
    expect(out.dims).toEqual([4, 1000]);
    for (let i = 0; i < 4; i++) {
      const single = (await session.run({ pixel_values: new Tensor('float32', xs[i]!, [1, 3, 224, 224]) })).probabilities!.data as Float32Array;
      const row = (out.data as Float32Array).subarray(i * 1000, (i + 1) * 1000);
      let d = 0;
      for (let k = 0; k < 1000; k++) d = Math.max(d, Math.abs(row[k]! - single[k]!));
      expect(d).toBeLessThan(1e-5);
    }
  });

  it('agrees with onnxruntime-web on the same input tensors (max abs diff ≤ 1e-3), passes on and off', async () => {
    ort.env.wasm.numThreads = 1;
    const ortSession = await ort.InferenceSession.create(onnxPath);
    const plain = await InferenceSession.create(onnxPath, { optimize: false });
    try {
      let maxDiff = 0;
      for (const i of [0, 7, 15]) {
        const x = input(i);
        const want = (await ortSession.run({ pixel_values: new ort.Tensor('float32', x, [1, 3, 224, 224]) })).probabilities!.data as Float32Array;
        for (const s of [session, plain]) {
          const got = (await s.run({ pixel_values: new Tensor('float32', x, [1, 3, 224, 224]) })).probabilities!.data as Float32Array;
          for (let k = 0; k < 1000; k++) maxDiff = Math.max(maxDiff, Math.abs(got[k]! - want[k]!));
        }
      }
      expect(maxDiff).toBeLessThanOrEqual(1e-3);
      console.log(`ResNet-50 vs onnxruntime-web: max |diff| ${maxDiff.toExponential(2)}`);
    } finally {
      await ortSession.release();
      await plain.release();
    }
  });
});
