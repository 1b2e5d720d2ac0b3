// The check at scale: the bundled ResNet-50 through the whole pipeline (our JPEG decoder, PIL-exact resize, the
// engine) on the 200 ImageNet photos, against onnxruntime-node's top-1 on PIL-preprocessed inputs.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pipeline, type ImageClassifier } from '../../src/pipeline/index.js';
import { resnet50Dir } from '../helpers/models.js';
import { SHARED } from '../helpers/onnx-tests.js';

const DIR = path.join(SHARED, 'images/imagenet-dev');
const REF: Record<string, { index: number; label: string; score: number }[]> =
  JSON.parse(fs.readFileSync(path.join(SHARED, 'reference/resnet50-keras-imagenet-dev-top5.json'), 'utf8')).results;
const TRUTH: Record<string, { class_index: number; label: string }> = JSON.parse(fs.readFileSync(path.join(DIR, 'labels.json'), 'utf8'));

let classify: ImageClassifier;
beforeAll(async () => { classify = await pipeline('image-classification', await resnet50Dir()); });
afterAll(() => classify?.dispose());

it('matches the reference top-1 on at least 190 of the 200 ImageNet photos', async () => {
  const files = Object.keys(REF).sort();
  expect(files).toHaveLength(200);
  let same = 0, correct = 0, maxDiff = 0;
  const differing: string[] = [];
  for (let i = 0; i < files.length; i += 8) {
    const group = files.slice(i, i + 8);
    const results = await classify(group.map(f => path.join(DIR, f)), { topK: 1 });
    group.forEach((f, j) => {
      const got = results[j]![0]!;
      const ref = REF[f]![0]!;
      if (got.label === ref.label) { same++; maxDiff = Math.max(maxDiff, Math.abs(got.score - ref.score)); } else differing.push(f);
      if (got.label === TRUTH[f]!.label) correct++;
    });
  }
  console.log(`imagenet-dev: same top-1 as reference ${same}/200 (max prob diff ${maxDiff.toFixed(4)}), top-1 accuracy ${correct}/200; differing: ${differing.join(', ') || 'none'}`);
  expect(same).toBeGreaterThanOrEqual(190);
}, 900_000);
