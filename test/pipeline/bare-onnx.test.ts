// A model that comes as a bare .onnx file (no preprocessor_config.json, no config.json) gets torchvision's ImageNet
// eval preprocessing — checked against torchvision itself (fixtures/make-torchvision-eval.py: Resize(256) and
// CenterCrop(224) on PIL, saved as PNG) — with a one-line notice; a preprocessor config replaces it; a 1000-class
// output gets the ImageNet labels. And `dtype: 'q8'` on a local model quantizes it on first use, beside the file.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { pipeline } from '../../src/index.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { encodeModel } from '../../src/onnx/encode.js';
import { decodeImage } from '../../src/image/decode.js';
import { loadImage } from '../../src/image/load.js';
import { IMAGENET_LABELS } from '../../src/pipeline/model-defaults.js';
import { quantizeModelFile } from '../../weights-tools/quantize.js';
import { randomConst } from '../helpers/cnn-reference.js';
import { SHARED } from '../helpers/onnx-tests.js';
import { writeTinyFolder } from '../inspect/helpers.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-bare-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** input [batch, 3, 224, 224] → GlobalAveragePool → Flatten → Gemm → `classes` logits. */
function gapClassifier(file: string, classes: number): string {
  const b = new GraphBuilder();
  const x = b.input('input', 'float32', ['batch', 3, 224, 224]);
  const f = b.op('Flatten', [b.op('GlobalAveragePool', [x])]);
  b.node('Gemm', [f, b.init('w', randomConst([3, classes], 5)), b.init('b', randomConst([classes], 6))], {}, { outputs: ['logits'] });
  b.output('logits', 'float32', ['batch', classes]);
  fs.writeFileSync(file, encodeModel(b.model(13)));
  return file;
}

const MEAN = [0.485, 0.456, 0.406], STD = [0.229, 0.224, 0.225];

describe('a bare .onnx classifier', () => {
  it('gets ImageNet defaults equal to torchvision’s eval transform, with a one-line notice and the ImageNet labels', async () => {
    const notices: string[] = [];
    const classify = await pipeline('image-classification', gapClassifier(path.join(tmp, 'gap1000.onnx'), 1000), { onNotice: m => notices.push(m) });
    try {
      expect(notices).toHaveLength(1);
      expect(notices[0]).toMatch(/gap1000\.onnx has no preprocessor_config\.json: using ImageNet defaults \(resize 256, centre crop 224×224, ImageNet mean\/std, ImageNet labels\)/);
      expect(classify.pipeline.labels).toEqual(IMAGENET_LABELS);
      for (const [photo, ref] of [['skimage/chelsea.png', 'chelsea'], ['darknet/dog.jpg', 'dog']] as const) {
        const image = await loadImage(path.join(SHARED, 'images/photos', photo));
        const crop = decodeImage(fs.readFileSync(path.join(import.meta.dirname, 'fixtures', `${ref}.torchvision-eval.png`)));
        expect([crop.width, crop.height]).toEqual([224, 224]);
        const x = classify.pipeline.processor.process(image);
        const got = x.data as Float32Array;
        expect(x.dims).toEqual([1, 3, 224, 224]);
        let worst = 0;
        for (let c = 0; c < 3; c++) {
          for (let i = 0; i < 224 * 224; i++) {
            const want = (crop.data[i * crop.channels + c]! / 255 - MEAN[c]!) / STD[c]!;
            worst = Math.max(worst, Math.abs(got[c * 224 * 224 + i]! - want));
          }
        }
        expect(worst, photo).toBeLessThan(1e-5);
      }
      const top = await classify(path.join(SHARED, 'images/photos/skimage/coffee.png'), { topK: 3 });
      expect(top.map(r => IMAGENET_LABELS.includes(r.label))).toEqual([true, true, true]);
    } finally {
      await classify.dispose();
    }
  });

  it('a preprocessor config replaces the defaults (no notice); other class counts keep LABEL_i', async () => {
    const notices: string[] = [];
    const preprocessor = { do_resize: true, size: { height: 224, width: 224 }, do_normalize: true, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5] };
    const classify = await pipeline('image-classification', gapClassifier(path.join(tmp, 'gap7.onnx'), 7), { preprocessor, onNotice: m => notices.push(m) });
    try {
      expect(notices).toEqual([]);
      const image = await loadImage(path.join(SHARED, 'images/photos/skimage/chelsea.png'));
      const got = classify.pipeline.processor.process(image).data as Float32Array;
      const min = got.reduce((a, b) => Math.min(a, b)), max = got.reduce((a, b) => Math.max(a, b));
      expect(min).toBeGreaterThanOrEqual(-1);   // (x/255 - 0.5)/0.5: ImageNet's std would reach below -2
      expect(max).toBeLessThanOrEqual(1);
      expect(classify.pipeline.labels).toEqual(Array.from({ length: 7 }, (_, i) => `LABEL_${i}`));
    } finally {
      await classify.dispose();
    }
  });
});

describe("dtype 'q8' on a local model", () => {
  it('quantizes on first use beside the float file (the same bytes as the quantizer run directly), then reuses it', async () => {
    const dir = writeTinyFolder(path.join(tmp, 'tiny'));
    const fp32 = path.join(dir, 'onnx', 'model.onnx'), q8 = path.join(dir, 'onnx', 'model_quantized.onnx');
    const events: string[] = [];
    const tensors = tf.memory().numTensors;
    const a = await pipeline('image-classification', dir, { dtype: 'q8', onProgress: e => events.push(e.status) });
    await a.dispose();
    expect(fs.existsSync(q8)).toBe(true);
    expect(a.pipeline.model.onnxPath).toBe(q8);
    expect(events).toContain('prepare');
    const direct = path.join(tmp, 'direct_quantized.onnx');
    await quantizeModelFile(fp32, direct);
    expect(Buffer.compare(fs.readFileSync(q8), fs.readFileSync(direct))).toBe(0);

    const mtime = fs.statSync(q8).mtimeMs;
    const again: string[] = [];
    const b = await pipeline('image-classification', dir, { dtype: 'q8', onProgress: e => again.push(e.status) });
    await b.dispose();
    expect(again).not.toContain('prepare');
    expect(fs.statSync(q8).mtimeMs).toBe(mtime);
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('a bare .onnx file gets x_quantized.onnx beside it', async () => {
    const file = gapClassifier(path.join(tmp, 'gap5.onnx'), 5);
    const classify = await pipeline('image-classification', file, { dtype: 'q8', onNotice: () => {} });
    await classify.dispose();
    expect(classify.pipeline.model.onnxPath).toBe(path.join(tmp, 'gap5_quantized.onnx'));
    expect(fs.existsSync(path.join(tmp, 'gap5_quantized.onnx'))).toBe(true);
  });
});
