// The quantizer's target on real photos: the bundled ResNet-50 quantized with the default options (a temp copy of its
// folder), loaded by the pipeline's dtype 'q8', agrees with the fp32 pipeline's top-1 on ≥ 98% of the photos.
// A fixed subset of 50 of the 200 ImageNet dev photos (every 4th by name): the full 200 take ~7 min on this machine
// (both pipelines, ~1 s per photo each); scratch measurements on all 200 are in weights-tools/README.md.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { pipeline } from '../../src/pipeline/index.js';
import { quantizeModelFolder } from '../../weights-tools/quantize.js';
import { resnet50Dir } from '../helpers/models.js';
import { SHARED } from '../helpers/onnx-tests.js';

const DIR = path.join(SHARED, 'images/imagenet-dev');
const TRUTH: Record<string, { class_index: number; label: string }> = JSON.parse(fs.readFileSync(path.join(DIR, 'labels.json'), 'utf8'));
const PHOTOS = Object.keys(TRUTH).sort().filter((_, i) => i % 4 === 0);

let tmp: string | undefined;
afterAll(() => { if (tmp) fs.rmSync(tmp, { recursive: true, force: true }); });

/** A temp copy of the bundled folder (model.onnx, config, preprocessor) to quantize into. */
async function tempCopy(): Promise<string> {
  const src = await resnet50Dir();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-q8-resnet50-'));
  fs.mkdirSync(path.join(tmp, 'onnx'));
  fs.copyFileSync(path.join(src, 'onnx', 'model.onnx'), path.join(tmp, 'onnx', 'model.onnx'));
  for (const f of ['config.json', 'preprocessor_config.json']) fs.copyFileSync(path.join(src, f), path.join(tmp, f));
  return tmp;
}

/** Top-1 labels for PHOTOS, in batches of 8. */
async function top1(dir: string, dtype: 'fp32' | 'q8'): Promise<string[]> {
  const classify = await pipeline('image-classification', dir, { dtype });
  try {
    const labels: string[] = [];
    for (let i = 0; i < PHOTOS.length; i += 8) {
      const results = await classify(PHOTOS.slice(i, i + 8).map(f => path.join(DIR, f)), { topK: 1 });
      labels.push(...results.map(r => r[0]!.label));
    }
    return labels;
  } finally {
    await classify.dispose();
  }
}

it(`the default-quantized ResNet-50 agrees with fp32 on the top-1 of ≥ 98% of ${PHOTOS.length} ImageNet dev photos`, async () => {
  expect(PHOTOS).toHaveLength(50);
  const dir = await tempCopy();
  const r = await quantizeModelFolder(dir);
  expect(r.bytesOut).toBeLessThan(r.bytesIn / 3.5);
  const fp32 = await top1(dir, 'fp32');
  const q8 = await top1(dir, 'q8');
  const differing = PHOTOS.filter((_, i) => q8[i] !== fp32[i]);
  const correct = (labels: string[]) => labels.filter((l, i) => l === TRUTH[PHOTOS[i]!]!.label).length;
  const same = PHOTOS.length - differing.length;
  console.log(`ResNet-50 q8 (kept in float: ${r.kept.join(', ') || 'none'}; ${r.bytesIn} → ${r.bytesOut} bytes): top-1 agrees with fp32 on ` +
    `${same}/${PHOTOS.length}; accuracy fp32 ${correct(fp32)}, q8 ${correct(q8)}; differing: ${differing.join(', ') || 'none'}`);
  expect(same / PHOTOS.length).toBeGreaterThanOrEqual(0.98);
}, 600_000);
