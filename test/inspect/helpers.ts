// A tiny image classifier for the inspect tests: Conv 3→4 (3×3, pad 1) → Relu → GlobalAveragePool → Flatten →
// Gemm → Softmax over 5 classes, on 6×6 images, with its preprocessor config and a model folder writer.

import fs from 'node:fs';
import path from 'node:path';
import { GraphBuilder } from '../../src/ir/builder.js';
import type { Model } from '../../src/ir/graph.js';
import { encodeModel } from '../../src/onnx/encode.js';
import { randomConst } from '../helpers/cnn-reference.js';

export const IMAGE_SIZE = 6;
export const PREPROCESSOR = { do_resize: true, size: { height: IMAGE_SIZE, width: IMAGE_SIZE }, do_normalize: true, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5] };

export function tinyCnn(): Model {
  const b = new GraphBuilder();
  const x = b.input('pixel_values', 'float32', ['batch', 3, IMAGE_SIZE, IMAGE_SIZE]);
  const c = b.op('Conv', [x, b.init('w', randomConst([4, 3, 3, 3], 11)), b.init('b', randomConst([4], 12, -0.2, 0.2))], { pads: [1, 1, 1, 1] }, 'conv');
  const r = b.op('Relu', [c], {}, 'relu');
  const g = b.op('GlobalAveragePool', [r], {}, 'gap');
  const f = b.op('Flatten', [g], {}, 'flatten');
  const y = b.op('Gemm', [f, b.init('fc', randomConst([4, 5], 13)), b.init('fcb', randomConst([5], 14))], {}, 'fc');
  b.op('Softmax', [y], { axis: -1 }, 'softmax');
  b.output('softmax_output_0', 'float32', ['batch', 5]);
  return b.model(13);
}

export const LABELS = ['a', 'b', 'c', 'd', 'e'];

/** Writes the model as a Hugging Face-style folder (onnx/model.onnx, config.json, preprocessor_config.json). */
export function writeTinyFolder(dir: string): string {
  fs.mkdirSync(path.join(dir, 'onnx'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'onnx', 'model.onnx'), encodeModel(tinyCnn()));
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ architectures: ['TinyCnn'], id2label: Object.fromEntries(LABELS.map((l, i) => [i, l])) }));
  fs.writeFileSync(path.join(dir, 'preprocessor_config.json'), JSON.stringify(PREPROCESSOR));
  return dir;
}
