// The bench's two models and their inputs. ResNet-50 is the bundled default model (prepared through the same
// path `ocellus classify` takes), ViT-B/16 the full-size seeded build; both in the tests' cache by default. Inputs
// are ImageNet dev photos through ocellus's own preprocessing, written once as raw float32 so every engine (each in
// its own process) reads the SAME tensors.

import fs from 'node:fs';
import path from 'node:path';
import { loadImage } from '../src/image/load.js';
import { ImageProcessor } from '../src/image/preprocess.js';
import { resolveDefaultModel } from '../src/pipeline/default-model.js';
import { prepareViTB16 } from '../weights-tools/vit/build-vit-folder.js';
import type { ModelId } from './options.js';
import { spreadIndices } from './stats.js';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..');
export const SHARED = path.resolve(REPO_ROOT, '../shared');
export const PHOTOS_DIR = path.join(SHARED, 'images', 'imagenet-dev');
export const DEFAULT_CACHE = path.join(REPO_ROOT, '.cache', 'test');

export interface ModelSpec {
  id: ModelId;
  name: string;
  /** Multiply-accumulates per image (convolutions and matrix products). */
  macsPerImage: number;
  /** True when the weights are trained (so top-1 against the true labels means something). */
  trained: boolean;
}

export const MODELS: Record<ModelId, ModelSpec> = {
  resnet50: { id: 'resnet50', name: 'ResNet-50', macsPerImage: 3.86e9, trained: true },
  vitb16: { id: 'vitb16', name: 'ViT-B/16', macsPerImage: 17.56e9, trained: false },
};

export interface PreparedModel {
  spec: ModelSpec;
  dir: string;
  onnxPath: string;
  preprocessorConfig: Record<string, unknown>;
}

export async function prepareModel(id: ModelId, cacheDir: string, log: (line: string) => void): Promise<PreparedModel> {
  const spec = MODELS[id];
  if (id === 'resnet50') {
    const m = await resolveDefaultModel({ cacheDir, offline: true, onProgress: e => { if (e.status === 'prepare') log(`preparing ${e.name} (first use; cached afterwards)`); } });
    if (!m.preprocessorConfig) throw new Error(`${m.dir}: no preprocessor_config.json`);
    return { spec, dir: m.dir, onnxPath: m.onnxPath, preprocessorConfig: m.preprocessorConfig };
  }
  const dir = path.join(cacheDir, 'vit-b16-seed0');
  const p = await prepareViTB16(dir, { seed: 0, onProgress: e => { if (e.phase !== 'weights') log(`vit-b16: ${e.message}`); } });
  const preprocessorConfig = JSON.parse(fs.readFileSync(path.join(dir, 'preprocessor_config.json'), 'utf8')) as Record<string, unknown>;
  return { spec, dir, onnxPath: p.modelPath, preprocessorConfig };
}

export interface Photo {
  file: string;
  classIndex: number;
}

/** `count` photos spread evenly over the dev set (sorted by file name), with their true classes. */
export function pickPhotos(count: number, dir = PHOTOS_DIR): Photo[] {
  const labelsFile = path.join(dir, 'labels.json');
  if (!fs.existsSync(labelsFile)) return [];
  const labels = JSON.parse(fs.readFileSync(labelsFile, 'utf8')) as Record<string, { class_index: number }>;
  const files = Object.keys(labels).filter(f => fs.existsSync(path.join(dir, f))).sort();
  return spreadIndices(files.length, count).map(i => ({ file: path.join(dir, files[i]!), classIndex: labels[files[i]!]!.class_index }));
}

export interface InputSet {
  file: string;
  count: number;
  imageDims: number[];
  /** True classes of the photos (empty for seeded random inputs). */
  truth: number[];
  source: string;
}

/**
 * Writes `count` preprocessed photos for this model as raw float32 [count, 3, H, W] to `file`. Without the photo
 * folder, seeded uniform noise in the model's input range stands in (timings only; no accuracy).
 */
export async function writeInputs(model: PreparedModel, photos: readonly Photo[], count: number, file: string, log: (line: string) => void): Promise<InputSet> {
  const processor = ImageProcessor.fromConfig(model.preprocessorConfig);
  const fd = fs.openSync(file, 'w');
  try {
    if (photos.length === 0) {
      const dims = [3, 224, 224];
      let s = 12345;
      const img = new Float32Array(3 * 224 * 224);
      for (let n = 0; n < count; n++) {
        for (let i = 0; i < img.length; i++) img[i] = ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
        fs.writeSync(fd, new Uint8Array(img.buffer));
      }
      return { file, count, imageDims: dims, truth: [], source: 'seeded random (photo folder missing)' };
    }
    let dims: number[] = [];
    const used = photos.slice(0, count);
    for (const [i, p] of used.entries()) {
      const t = processor.process(await loadImage(p.file));
      dims = t.dims.slice(1);
      const d = t.data as Float32Array;
      fs.writeSync(fd, new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
      if ((i + 1) % 50 === 0 || i + 1 === used.length) log(`${model.spec.id}: preprocessed ${i + 1}/${used.length} photos`);
    }
    return { file, count: used.length, imageDims: dims, truth: used.map(p => p.classIndex), source: `${used.length} imagenet-dev photos` };
  } finally {
    fs.closeSync(fd);
  }
}
