// The small dev set (../shared/zoo/small, see its README): every model listed in models.json — MobileNet v2/v3,
// EfficientNet, RegNet, ShuffleNet, ConvNeXt, Swin at opsets 13 and 17 — against its torch reference logits at
// batch 1 and 2: rel = max|ours - torch| / max|torch| ≤ 1e-4 and the same top-1 per sample, with a flat tensor count.
// Swin's shifted-window masks (ScatterND on constants) must fold at load.

import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { SHARED } from '../helpers/onnx-tests.js';
import { haveTestData } from '../helpers/test-data.js';

const DIR = path.join(SHARED, 'zoo', 'small');
const MANIFEST = path.join(DIR, 'models.json');

interface ZooModel {
  name: string; file: string; opset: number; input_name: string; output_name: string;
  input_shape: number[]; output_shape: number[]; input: string; logits: string; input_b2: string; logits_b2: string;
  ops: Record<string, number>;
}

const models: ZooModel[] = haveTestData(MANIFEST, 'the small model zoo of ../shared') ? JSON.parse(fs.readFileSync(MANIFEST, 'utf8')) : [];

function f32(file: string): Float32Array {
  const b = fs.readFileSync(path.join(DIR, file));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function argmax(v: ArrayLike<number>, from: number, len: number): number {
  let best = from;
  for (let i = from + 1; i < from + len; i++) if (v[i]! > v[best]!) best = i;
  return best - from;
}

describe.skipIf(models.length === 0)('small zoo vs torch reference logits', () => {
  it('lists models', () => expect(models.length).toBeGreaterThan(0));

  for (const m of models) {
    it(`${m.file}: batch 1 and 2 within 1e-4 relative, same top-1`, async () => {
      const session = await InferenceSession.create(path.join(DIR, m.file));
      try {
        for (const [input, logits, batch] of [[m.input, m.logits, 1], [m.input_b2, m.logits_b2, 2]] as const) {
          const feeds = { [m.input_name]: new Tensor('float32', f32(input), [batch, ...m.input_shape.slice(1)]) };
          const ops = session.plan(feeds).steps.map(s => s.node.opType);
          if (m.ops['ScatterND']) expect(ops, 'ScatterND on constants folds at load').not.toContain('ScatterND');
          const before = tf.memory().numTensors;
          const out = await session.run(feeds);
          expect(tf.memory().numTensors, 'tensors leaked by run()').toBe(before);
          const got = out[m.output_name]!, want = f32(logits), classes = m.output_shape.at(-1)!;
          expect([...got.dims]).toEqual([batch, classes]);
          const g = got.data as Float32Array;
          let diff = 0, scale = 0;
          for (let i = 0; i < want.length; i++) { diff = Math.max(diff, Math.abs(g[i]! - want[i]!)); scale = Math.max(scale, Math.abs(want[i]!)); }
          expect(diff / scale, `${m.file} batch ${batch}: rel`).toBeLessThanOrEqual(1e-4);
          for (let s = 0; s < batch; s++) expect(argmax(g, s * classes, classes), `top-1 of sample ${s}`).toBe(argmax(want, s * classes, classes));
        }
      } finally {
        await session.release();
      }
    });
  }
});
