// The Keras → ONNX converter on tiny hand-written TF.js layers models with seeded random weights: onnxruntime-node
// runs the converted NCHW graph, and a naive channels-last (NHWC) reference written here from the Keras/TF layer
// definitions computes what Keras would. Also: quantized manifests, shared layers, and the errors for bad models.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import type { Model } from '../../src/ir/graph.js';
import { encodeModel } from '../../src/onnx/encode.js';
import { convertKerasLayersModel, type KerasConvertOptions } from '../../weights-tools/keras-to-onnx.js';
import { rng } from '../helpers/random.js';

// ---------------------------------------------------------------- seeded data

const rand = (r: () => number, n: number, lo = -1, hi = 1) => Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
const size = (shape: number[]) => shape.reduce((a, d) => a * d, 1);

// ---------------------------------------------------------------- NHWC reference (float64, batch first)

interface T { shape: number[]; data: Float64Array }
const tensor = (shape: number[], data?: ArrayLike<number>): T => ({ shape, data: data ? Float64Array.from(data) : new Float64Array(size(shape)) });

/** TF 'same': out = ceil(in / s); total padding max((out-1)*s + (k-1)*d + 1 - in, 0), the smaller half first. */
function tfSame(inSize: number, k: number, s: number, d = 1): [number, number] {
  const out = Math.ceil(inSize / s);
  const total = Math.max((out - 1) * s + (k - 1) * d + 1 - inSize, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

function zeroPad(x: T, [top, bottom]: number[], [left, right]: number[]): T {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const y = tensor([n, h + top + bottom, w + left + right, c]);
  for (let b = 0; b < n; b++) for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) for (let ch = 0; ch < c; ch++) {
    y.data[((b * y.shape[1]! + i + top) * y.shape[2]! + j + left) * c + ch] = x.data[((b * h + i) * w + j) * c + ch]!;
  }
  return y;
}

interface ConvOpts { k: [number, number]; s?: [number, number]; d?: [number, number]; same?: boolean }

/** Conv2D (kernel HWIO [kh, kw, cin, cout]) or, with `mult`, DepthwiseConv2D (kernel [kh, kw, cin, mult]). */
function conv(x0: T, kernel: Float32Array, bias: Float32Array | undefined, o: ConvOpts, mult?: number): T {
  const [kh, kw] = o.k;
  const [sh, sw] = o.s ?? [1, 1];
  const [dh, dw] = o.d ?? [1, 1];
  const x = o.same ? zeroPad(x0, tfSame(x0.shape[1]!, kh, sh, dh), tfSame(x0.shape[2]!, kw, sw, dw)) : x0;
  const [n, h, w, cin] = x.shape as [number, number, number, number];
  const cout = mult ? cin * mult : kernel.length / (kh * kw * cin);
  const oh = Math.floor((h - (kh - 1) * dh - 1) / sh) + 1;
  const ow = Math.floor((w - (kw - 1) * dw - 1) / sw) + 1;
  const y = tensor([n, oh, ow, cout]);
  for (let b = 0; b < n; b++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) for (let co = 0; co < cout; co++) {
    let acc = bias ? bias[co]! : 0;
    for (let p = 0; p < kh; p++) for (let q = 0; q < kw; q++) {
      const xi = (((b * h) + i * sh + p * dh) * w + j * sw + q * dw) * cin;
      if (mult) {
        const ci = Math.floor(co / mult);
        acc += x.data[xi + ci]! * kernel[((p * kw + q) * cin + ci) * mult + (co % mult)]!;
      } else {
        for (let ci = 0; ci < cin; ci++) acc += x.data[xi + ci]! * kernel[((p * kw + q) * cin + ci) * cout + co]!;
      }
    }
    y.data[((b * oh + i) * ow + j) * cout + co] = acc;
  }
  return y;
}

/** Max/average pooling; 'same' pads are ignored (average over the real pixels only), as in TF. */
function pool(x0: T, kind: 'max' | 'avg', k: [number, number], s: [number, number], same = false): T {
  const pads = same ? [tfSame(x0.shape[1]!, k[0], s[0]), tfSame(x0.shape[2]!, k[1], s[1])] : [[0, 0], [0, 0]];
  const [n, h, w, c] = x0.shape as [number, number, number, number];
  const oh = Math.floor((h + pads[0]![0] + pads[0]![1] - k[0]) / s[0]) + 1;
  const ow = Math.floor((w + pads[1]![0] + pads[1]![1] - k[1]) / s[1]) + 1;
  const y = tensor([n, oh, ow, c]);
  for (let b = 0; b < n; b++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) for (let ch = 0; ch < c; ch++) {
    let acc = kind === 'max' ? -Infinity : 0;
    let count = 0;
    for (let p = 0; p < k[0]; p++) for (let q = 0; q < k[1]; q++) {
      const r = i * s[0] + p - pads[0]![0];
      const col = j * s[1] + q - pads[1]![0];
      if (r < 0 || r >= h || col < 0 || col >= w) continue;
      const v = x0.data[((b * h + r) * w + col) * c + ch]!;
      acc = kind === 'max' ? Math.max(acc, v) : acc + v;
      count++;
    }
    y.data[((b * oh + i) * ow + j) * c + ch] = kind === 'max' ? acc : acc / count;
  }
  return y;
}

function globalPool(x: T, kind: 'max' | 'avg'): T {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const y = tensor([n, c]);
  for (let b = 0; b < n; b++) for (let ch = 0; ch < c; ch++) {
    let acc = kind === 'max' ? -Infinity : 0;
    for (let i = 0; i < h * w; i++) {
      const v = x.data[(b * h * w + i) * c + ch]!;
      acc = kind === 'max' ? Math.max(acc, v) : acc + v;
    }
    y.data[b * c + ch] = kind === 'max' ? acc : acc / (h * w);
  }
  return y;
}

/** Dense on the last axis: kernel [in, out]. */
function dense(x: T, kernel: Float32Array, bias?: Float32Array): T {
  const fin = x.shape.at(-1)!;
  const fout = kernel.length / fin;
  const rows = x.data.length / fin;
  const y = tensor([...x.shape.slice(0, -1), fout]);
  for (let r = 0; r < rows; r++) for (let o = 0; o < fout; o++) {
    let acc = bias ? bias[o]! : 0;
    for (let i = 0; i < fin; i++) acc += x.data[r * fin + i]! * kernel[i * fout + o]!;
    y.data[r * fout + o] = acc;
  }
  return y;
}

function batchNorm(x: T, p: { gamma?: Float32Array; beta?: Float32Array; mean: Float32Array; variance: Float32Array; eps: number }): T {
  const c = x.shape.at(-1)!;
  return tensor(x.shape, Array.from(x.data, (v, i) => {
    const ch = i % c;
    return (p.gamma?.[ch] ?? 1) * (v - p.mean[ch]!) / Math.sqrt(p.variance[ch]! + p.eps) + (p.beta?.[ch] ?? 0);
  }));
}

const map = (x: T, f: (v: number) => number): T => tensor(x.shape, Array.from(x.data, f));
const zip = (a: T, b: T, f: (u: number, v: number) => number): T => tensor(a.shape, Array.from(a.data, (u, i) => f(u, b.data[i]!)));
const relu = (x: T) => map(x, v => Math.max(v, 0));

function softmaxLast(x: T): T {
  const c = x.shape.at(-1)!;
  const y = tensor(x.shape);
  for (let r = 0; r < x.data.length / c; r++) {
    const row = x.data.subarray(r * c, (r + 1) * c);
    const m = Math.max(...row);
    const e = Array.from(row, v => Math.exp(v - m));
    const s = e.reduce((a, v) => a + v, 0);
    e.forEach((v, i) => { y.data[r * c + i] = v / s; });
  }
  return y;
}

/** Concatenate along Keras axis `axis` (batch = 0). */
function concat(xs: T[], axis: number): T {
  const shape = [...xs[0]!.shape];
  shape[axis] = xs.reduce((a, x) => a + x.shape[axis]!, 0);
  const outer = size(shape.slice(0, axis));
  const y = tensor(shape);
  let off = 0;
  for (let o = 0; o < outer; o++) {
    for (const x of xs) {
      const inner = size(x.shape.slice(axis));
      y.data.set(x.data.subarray(o * inner, (o + 1) * inner), off);
      off += inner;
    }
  }
  return y;
}

const reshape = (x: T, shape: number[]): T => tensor([x.shape[0]!, ...shape], x.data);   // row-major NHWC: data unchanged

// ---------------------------------------------------------------- writing a TF.js layers model

interface W { name: string; shape: number[]; data: Float32Array }

class KerasBuilder {
  readonly layers: object[] = [];
  readonly weights: W[] = [];
  private readonly r: () => number;
  constructor(seed: number) { this.r = rng(seed); }

  input(name: string, shape: (number | null)[]): string {
    this.layers.push({ name, class_name: 'InputLayer', config: { name, batch_input_shape: [null, ...shape], dtype: 'float32' }, inbound_nodes: [] });
    return name;
  }

  /** Adds a layer call (keras 2 inbound form); `from` entries are layer names or [layer, node] for shared layers. */
  layer(name: string, cls: string, config: object, from: (string | [string, number])[]): string {
    const inbound = [from.map(f => (typeof f === 'string' ? [f, 0, 0, {}] : [f[0], f[1], 0, {}]))];
    const existing = this.layers.find(l => (l as { name: string }).name === name) as { inbound_nodes: unknown[] } | undefined;
    if (existing) existing.inbound_nodes.push(inbound[0]);
    else this.layers.push({ name, class_name: cls, config: { name, trainable: true, dtype: 'float32', ...config }, inbound_nodes: inbound });
    return name;
  }

  weight(name: string, shape: number[], lo = -1, hi = 1): Float32Array {
    const data = rand(this.r, size(shape), lo, hi);
    this.weights.push({ name, shape, data });
    return data;
  }

  topology(inputs: string[], outputs: string[]): object {
    return {
      keras_version: '2.2.4-tf', backend: 'tensorflow',
      model_config: { class_name: 'Model', config: { name: 'tiny', layers: this.layers, input_layers: inputs.map(n => [n, 0, 0]), output_layers: outputs.map(n => [n, 0, 0]) } },
    };
  }
}

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-keras-'));
afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));
let dirCount = 0;

/** Writes model.json + one shard (float32 little-endian, weights back to back, as tfjs does) and returns model.json's path. */
function writeModel(topology: object, weights: W[], edit?: (json: { weightsManifest: { paths: string[]; weights: object[] }[] }) => void,
  shard?: Uint8Array): string {
  const dir = path.join(tmpRoot, `m${dirCount++}`);
  fs.mkdirSync(dir);
  const bytes = shard ?? new Uint8Array(Buffer.concat(weights.map(w => Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength))));
  fs.writeFileSync(path.join(dir, 'group1-shard1of1.bin'), bytes);
  const json = {
    format: 'layers-model', generatedBy: 'test', convertedBy: 'test', modelTopology: topology,
    weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: weights.map(w => ({ name: w.name, shape: w.shape, dtype: 'float32' })) }],
  };
  edit?.(json);
  const file = path.join(dir, 'model.json');
  fs.writeFileSync(file, JSON.stringify(json));
  return file;
}

// ---------------------------------------------------------------- running the converted model

/** NHWC → NCHW (the converted graph's layout for rank-4 values). */
function toNCHW(x: T): Float32Array {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const y = new Float32Array(x.data.length);
  for (let b = 0; b < n; b++) for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) for (let ch = 0; ch < c; ch++) {
    y[((b * c + ch) * h + i) * w + j] = x.data[((b * h + i) * w + j) * c + ch]!;
  }
  return y;
}

/** Keras-shaped expectation in the ONNX graph's order: rank 4 NCHW, other ranks as they are. */
const onnxOrder = (x: T) => (x.shape.length === 4 ? toNCHW(x) : Float32Array.from(x.data));
const onnxDims = (x: T) => (x.shape.length === 4 ? [x.shape[0]!, x.shape[3]!, x.shape[1]!, x.shape[2]!] : x.shape);

async function runConverted(model: Model, feeds: Record<string, T>): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(encodeModel(model), { graphOptimizationLevel: 'disabled', intraOpNumThreads: 1 });
  try {
    const inputs = Object.fromEntries(Object.entries(feeds).map(([k, x]) => [k, new ort.Tensor('float32', onnxOrder(x), onnxDims(x))]));
    return (await session.run(inputs)) as Record<string, ort.Tensor>;
  } finally {
    await session.release();
  }
}

function expectClose(got: ort.Tensor | undefined, want: T, what: string, atol = 1e-4): number {
  expect(got, `${what}: output missing`).toBeDefined();
  expect([...got!.dims], `${what}: dims`).toEqual(onnxDims(want));
  const g = got!.data as Float32Array;
  const w = onnxOrder(want);
  let max = 0;
  for (let i = 0; i < w.length; i++) max = Math.max(max, Math.abs(g[i]! - w[i]!));
  expect(max, `${what}: max |onnx - reference|`).toBeLessThan(atol);
  return max;
}

const ops = (m: Model) => m.graph.nodes.map(n => n.opType);
const convert = (file: string, opts?: KerasConvertOptions) => convertKerasLayersModel(file, opts);

// ---------------------------------------------------------------- tests

describe('keras-to-onnx: layers vs an NHWC reference', () => {
  it('Conv2D same stride 2 (asymmetric pads), DepthwiseConv2D, AveragePooling2D same, BN, MaxPool, Concatenate, Flatten, Dense softmax', async () => {
    const k = new KerasBuilder(1);
    const inp = k.input('image', [8, 8, 3]);
    const c1 = k.layer('conv_s2', 'Conv2D', { filters: 4, kernel_size: [3, 3], strides: [2, 2], padding: 'same', dilation_rate: [1, 1], activation: 'relu', use_bias: true, data_format: 'channels_last' }, [inp]);
    const c1k = k.weight('conv_s2/kernel', [3, 3, 3, 4]);
    const c1b = k.weight('conv_s2/bias', [4]);
    const dw = k.layer('dw', 'DepthwiseConv2D', { kernel_size: [3, 3], strides: [1, 1], padding: 'same', depth_multiplier: 2, activation: 'linear', use_bias: true }, [c1]);
    const dwk = k.weight('dw/depthwise_kernel', [3, 3, 4, 2]);
    const dwb = k.weight('dw/bias', [8]);
    const ap = k.layer('avg_same', 'AveragePooling2D', { pool_size: [3, 3], strides: [2, 2], padding: 'same' }, [dw]);
    const c2 = k.layer('conv_1x1', 'Conv2D', { filters: 3, kernel_size: 1, strides: 1, padding: 'valid', activation: 'linear', use_bias: false }, [c1]);
    const c2k = k.weight('conv_1x1/kernel', [1, 1, 4, 3]);
    const bn = k.layer('bn', 'BatchNormalization', { axis: -1, epsilon: 0.01, center: true, scale: false }, [c2]);
    const bnBeta = k.weight('bn/beta', [3]);
    const bnMean = k.weight('bn/moving_mean', [3]);
    const bnVar = k.weight('bn/moving_variance', [3], 0.5, 2);
    const mp = k.layer('max_valid', 'MaxPooling2D', { pool_size: [2, 2], strides: null, padding: 'valid' }, [bn]);
    const cat = k.layer('cat', 'Concatenate', { axis: -1 }, [ap, mp]);
    const fl = k.layer('flat', 'Flatten', {}, [cat]);
    const fc = k.layer('fc', 'Dense', { units: 5, activation: 'softmax', use_bias: true }, [fl]);
    const fck = k.weight('fc/kernel', [2 * 2 * 11, 5]);
    const fcb = k.weight('fc/bias', [5]);
    const file = writeModel(k.topology([inp], [fc]), k.weights);

    const x = tensor([2, 8, 8, 3], rand(rng(99), 2 * 8 * 8 * 3));
    const y1 = relu(conv(x, c1k, c1b, { k: [3, 3], s: [2, 2], same: true }));                       // [2,4,4,4]
    const a = pool(conv(y1, dwk, dwb, { k: [3, 3], same: true }, 2), 'avg', [3, 3], [2, 2], true);    // [2,2,2,8]
    const m = pool(batchNorm(conv(y1, c2k, undefined, { k: [1, 1] }), { beta: bnBeta, mean: bnMean, variance: bnVar, eps: 0.01 }), 'max', [2, 2], [2, 2]);
    const want = softmaxLast(dense(reshape(concat([a, m], 3), [44]), fck, fcb));

    const model = convert(file);
    expect(ops(model)).toEqual(['Conv', 'Relu', 'Conv', 'AveragePool', 'Conv', 'BatchNormalization', 'MaxPool',
      'Concat', 'Transpose', 'Flatten', 'Gemm', 'Softmax']);
    expect(model.graph.nodes[0]!.attrs.pads).toEqual({ type: 'ints', value: [0, 0, 1, 1] });   // TF 'same', 8 → 4 with k 3 s 2
    expect(model.graph.nodes.find(n => n.opType === 'AveragePool')!.attrs.count_include_pad).toEqual({ type: 'int', value: 0 });
    expect(model.graph.outputs.map(o => o.name)).toEqual(['probabilities']);
    expect(model.metadata.output_kind).toBe('probabilities');
    expect(model.graph.inputs[0]).toEqual({ name: 'image', dtype: 'float32', shape: ['batch_size', 3, 8, 8] });
    const out = await runConverted(model, { image: x });
    expectClose(out.probabilities, want, 'probabilities', 1e-5);
  });

  it('ZeroPadding2D: merged into Conv pads, into MaxPool after a ReLU, into valid AveragePool; a Pad node otherwise', async () => {
    const k = new KerasBuilder(2);
    const inp = k.input('x', [7, 6, 2]);
    const p1 = k.layer('pad_asym', 'ZeroPadding2D', { padding: [[1, 2], [0, 1]] }, [inp]);
    const c1 = k.layer('conv_dil', 'Conv2D', { filters: 3, kernel_size: [2, 3], strides: [1, 1], dilation_rate: [2, 2], padding: 'valid', activation: 'linear', use_bias: false }, [p1]);
    const c1k = k.weight('conv_dil/kernel', [2, 3, 2, 3]);
    const gmax = k.layer('gmax', 'GlobalMaxPooling2D', {}, [c1]);
    const p2 = k.layer('pad_neg', 'ZeroPadding2D', { padding: 1 }, [inp]);
    const m2 = k.layer('pool_neg', 'MaxPooling2D', { pool_size: [3, 3], strides: [2, 2], padding: 'valid' }, [p2]);
    const r = k.layer('relu6', 'ReLU', { max_value: 6, negative_slope: 0, threshold: 0 }, [inp]);
    const p3 = k.layer('pad_pos', 'ZeroPadding2D', { padding: [1, 1] }, [r]);
    const m3 = k.layer('pool_pos', 'MaxPooling2D', { pool_size: [3, 3], strides: [2, 2], padding: 'valid' }, [p3]);
    const add = k.layer('add', 'Add', {}, [m2, m3]);
    const mul = k.layer('mul', 'Multiply', {}, [m2, m3]);
    const bn = k.layer('bn', 'BatchNormalization', { axis: 3, epsilon: 0.001, center: false, scale: true }, [add]);
    const gamma = k.weight('bn/gamma', [2]);
    const mean = k.weight('bn/moving_mean', [2]);
    const variance = k.weight('bn/moving_variance', [2], 0.5, 2);
    const th = k.layer('tanh', 'Activation', { activation: 'tanh' }, [bn]);
    const p4 = k.layer('pad_avg', 'ZeroPadding2D', { padding: [[1, 0], [0, 1]] }, [inp]);
    const av = k.layer('avg_valid', 'AveragePooling2D', { pool_size: [2, 2], strides: [2, 2], padding: 'valid' }, [p4]);
    const cat = k.layer('cat_h', 'Concatenate', { axis: 1 }, [th, av]);
    const rs3 = k.layer('to_seq', 'Reshape', { target_shape: [6, 8] }, [cat]);
    const d3 = k.layer('dense_seq', 'Dense', { units: 4, activation: 'sigmoid', use_bias: true }, [rs3]);
    const d3k = k.weight('dense_seq/kernel', [8, 4]);
    const d3b = k.weight('dense_seq/bias', [4]);
    const drop = k.layer('drop', 'Dropout', { rate: 0.5 }, [d3]);
    const rs4 = k.layer('to_img', 'Reshape', { target_shape: [3, -1, 4] }, [cat]);
    const gap = k.layer('gap', 'GlobalAveragePooling2D', {}, [rs4]);
    const file = writeModel(k.topology([inp], [gmax, drop, mul, gap]), k.weights);

    // Channel 1 is all negative, so a zero pad that wrongly acted as MaxPool's -inf pad would change the border maxima.
    const noise = rand(rng(5), 7 * 6 * 2);
    const x = tensor([1, 7, 6, 2], Array.from(noise, (v, i) => (i % 2 ? -3 + 2.5 * v : 3 + 5 * v)));
    const xr = map(x, v => Math.min(Math.max(v, 0), 6));
    const m2r = pool(zeroPad(x, [1, 1], [1, 1]), 'max', [3, 3], [2, 2]);
    const m3r = pool(zeroPad(xr, [1, 1], [1, 1]), 'max', [3, 3], [2, 2]);
    const thr = map(batchNorm(zip(m2r, m3r, (a, b) => a + b), { gamma, mean, variance, eps: 0.001 }), Math.tanh);
    const avr = pool(zeroPad(x, [1, 0], [0, 1]), 'avg', [2, 2], [2, 2]);
    const catr = concat([thr, avr], 1);
    const want = {
      gmax: globalPool(conv(zeroPad(x, [1, 2], [0, 1]), c1k, undefined, { k: [2, 3], d: [2, 2] }), 'max'),
      drop: map(dense(reshape(catr, [6, 8]), d3k, d3b), v => 1 / (1 + Math.exp(-v))),
      mul: zip(m2r, m3r, (a, b) => a * b),
      gap: globalPool(reshape(catr, [3, 4, 4]), 'avg'),
    };

    const model = convert(file);
    const byName = (n: string) => model.graph.nodes.find(nd => nd.name === n)!;
    expect(byName('conv_dil').attrs.pads).toEqual({ type: 'ints', value: [1, 0, 2, 1] });
    expect(byName('pad_neg').opType).toBe('Pad');                         // input may be negative: keep the zeros exact
    expect(byName('pool_neg').attrs.pads).toEqual({ type: 'ints', value: [0, 0, 0, 0] });
    expect(byName('pool_pos').attrs.pads).toEqual({ type: 'ints', value: [1, 1, 1, 1] });   // after ReLU: merged
    expect(byName('avg_valid').attrs).toMatchObject({ pads: { value: [1, 0, 0, 1] }, count_include_pad: { value: 1 } });
    expect(model.graph.nodes.filter(n => n.opType === 'Pad').map(n => n.name)).toEqual(['pad_neg']);
    expect(byName('relu6').opType).toBe('Clip');
    expect(model.graph.outputs.map(o => o.name)).toEqual(['gmax', 'drop', 'mul', 'gap']);
    expect(model.metadata.output_kind).toBe('logits,logits,logits,logits');

    const out = await runConverted(model, { x });
    for (const [name, t] of Object.entries(want)) expectClose(out[name], t, name);
  });

  it('Sequential without an InputLayer; quantized weights (uint8 scale/min, uint16, float16) are dequantized', async () => {
    const r = rng(3);
    const q8 = Uint8Array.from({ length: 6 * 4 }, () => Math.floor(r() * 256));
    const q16 = Uint16Array.from({ length: 4 }, () => Math.floor(r() * 65536));
    const f16 = Uint16Array.from([0x3c00, 0xbc00, 0x3800, 0x0000, 0x4000, 0x3555, 0xc100, 0x0001]);  // 1 -1 .5 0 2 ~1/3 -2.5 2^-24
    const k1 = Float32Array.from(q8, v => v * 0.02 + -2.5);
    const b1 = Float32Array.from(q16, v => v * 1e-4 + -3);
    const f16v = [1, -1, 0.5, 0, 2, (1 + 0x155 / 1024) / 4, -2.5, 2 ** -24];
    const k2 = Float32Array.from(f16v);
    const topology = {
      keras_version: '2.2.4-tf',
      model_config: {
        class_name: 'Sequential',
        config: [
          { class_name: 'Dense', config: { name: 'd1', batch_input_shape: [null, 6], units: 4, activation: 'relu', use_bias: true } },
          { class_name: 'Dense', config: { name: 'd2', units: 2, activation: 'linear', use_bias: false } },
        ],
      },
    };
    const shard = new Uint8Array([...q8, ...new Uint8Array(q16.buffer), ...new Uint8Array(f16.buffer)]);
    const file = writeModel(topology, [], json => {
      json.weightsManifest[0]!.weights = [
        { name: 'd1/kernel', shape: [6, 4], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.02, min: -2.5 } },
        { name: 'd1/bias', shape: [4], dtype: 'float32', quantization: { dtype: 'uint16', scale: 1e-4, min: -3 } },
        { name: 'd2/kernel', shape: [4, 2], dtype: 'float32', quantization: { dtype: 'float16' } },
      ];
    }, shard);
    const x = tensor([3, 6], rand(rng(8), 18, -2, 2));
    const want = dense(relu(dense(x, k1, b1)), k2);
    const model = convert(file, { inputName: 'features' });
    expect(ops(model)).toEqual(['Gemm', 'Relu', 'Gemm']);
    expect(model.graph.inputs.map(i => i.name)).toEqual(['features']);
    expect(model.graph.outputs.map(o => o.name)).toEqual(['logits']);
    const out = await runConverted(model, { features: x });
    expectClose(out.logits, want, 'logits', 1e-4);
  });

  it('a shared layer called twice reuses one set of weights', async () => {
    const k = new KerasBuilder(4);
    const inp = k.input('x', [5, 5, 2]);
    const r = k.layer('act', 'Activation', { activation: 'relu' }, [inp]);
    k.layer('shared', 'Conv2D', { filters: 2, kernel_size: 3, strides: 1, padding: 'same', activation: 'linear', use_bias: true }, [inp]);
    const sk = k.weight('shared/kernel', [3, 3, 2, 2]);
    const sb = k.weight('shared/bias', [2]);
    k.layer('shared', 'Conv2D', {}, [r]);                                // second call of the same layer
    const add = k.layer('sum', 'Add', {}, [['shared', 0], ['shared', 1]]);
    const file = writeModel(k.topology([inp], [add]), k.weights);
    const x = tensor([1, 5, 5, 2], rand(rng(6), 50));
    const o = { k: [3, 3] as [number, number], same: true };
    const want = zip(conv(x, sk, sb, o), conv(relu(x), sk, sb, o), (a, b) => a + b);
    const model = convert(file);
    expect(model.graph.nodes.filter(n => n.opType === 'Conv').map(n => n.name)).toEqual(['shared', 'shared_1']);
    expect([...model.graph.initializers.keys()]).toEqual(['shared.weight', 'shared.bias']);
    const out = await runConverted(model, { x });
    expectClose(out.logits, want, 'logits');
  });
});

describe('keras-to-onnx: keras 3 topology form', () => {
  it('reads Functional configs whose inbound nodes are {args: [keras tensors]} and inputs use batch_shape', async () => {
    const kt = (layer: string) => ({ class_name: '__keras_tensor__', config: { shape: [null, 3], dtype: 'float32', keras_history: [layer, 0, 0] } });
    const topology = {
      class_name: 'Functional',
      config: {
        name: 'k3',
        layers: [
          { class_name: 'InputLayer', name: 'x', config: { name: 'x', batch_shape: [null, 3], dtype: 'float32' }, inbound_nodes: [] },
          { class_name: 'Dense', name: 'd', config: { name: 'd', units: 3, activation: 'tanh', use_bias: false }, inbound_nodes: [{ args: [kt('x')], kwargs: {} }] },
          { class_name: 'Add', name: 'sum', config: { name: 'sum' }, inbound_nodes: [{ args: [[kt('x'), kt('d')]], kwargs: {} }] },
        ],
        input_layers: [['x', 0, 0]],
        output_layers: ['sum', 0, 0],
      },
    };
    const kernel = rand(rng(12), 9);
    const file = writeModel(topology, [{ name: 'd/kernel', shape: [3, 3], data: kernel }]);
    const x = tensor([2, 3], rand(rng(13), 6));
    const model = convert(file);
    expect(ops(model)).toEqual(['Gemm', 'Tanh', 'Add']);
    const out = await runConverted(model, { x });
    expectClose(out.logits, zip(x, map(dense(x, kernel), Math.tanh), (a, b) => a + b), 'logits');
  });
});

describe('keras-to-onnx: bad models fail with clear errors', () => {
  function simple(edit?: Parameters<typeof writeModel>[2], cls = 'Dense', shard?: Uint8Array): string {
    const k = new KerasBuilder(7);
    const inp = k.input('x', [3]);
    const d = k.layer('fc', cls, { units: 2, activation: 'linear', use_bias: true }, [inp]);
    k.weight('fc/kernel', [3, 2]);
    k.weight('fc/bias', [2]);
    return writeModel(k.topology([inp], [d]), k.weights, edit, shard);
  }

  it('names an unknown layer class and the layer', () => {
    expect(() => convert(simple(undefined, 'LSTM'))).toThrow(/layer 'fc' has class 'LSTM', which the converter does not support/);
  });

  it('names a weight missing from the manifest', () => {
    const file = simple(json => { json.weightsManifest[0]!.weights.pop(); }, 'Dense', new Uint8Array(24));
    expect(() => convert(file)).toThrow(/layer 'fc' \(Dense\): weight 'fc\/bias' is not in the weightsManifest \(weights for this layer: fc\/kernel\)/);
  });

  it('names a missing or truncated shard', () => {
    const missing = simple(json => { json.weightsManifest[0]!.paths = ['group1-shard9of9.bin']; });
    expect(() => convert(missing)).toThrow(/shard 'group1-shard9of9.bin' not found/);
    const truncated = simple(undefined, 'Dense', new Uint8Array(20));
    expect(() => convert(truncated)).toThrow(/hold 20 bytes, but the 2 weights listed need 32/);
  });

  it('reports a weight of the wrong shape, and weights no layer reads', () => {
    const wrong = simple(json => { (json.weightsManifest[0]!.weights[0] as { shape: number[] }).shape = [2, 3]; });
    expect(() => convert(wrong)).toThrow(/weight 'fc\/kernel' has shape \[2,3\], expected \[3,2\]/);
    const extra = simple(json => { json.weightsManifest[0]!.weights.push({ name: 'stray/kernel', shape: [0], dtype: 'float32' }); });
    expect(() => convert(extra)).toThrow(/1 weight\(s\) in the manifest are read by no layer: stray\/kernel/);
    expect(() => convert(extra, { allowUnusedWeights: true })).not.toThrow();
  });

  it('rejects unsupported configurations by name', () => {
    const k = new KerasBuilder(8);
    const inp = k.input('x', [4, 4, 2]);
    const a = k.layer('elu', 'Activation', { activation: 'elu' }, [inp]);
    const file = writeModel(k.topology([inp], [a]), []);
    expect(() => convert(file)).toThrow(/layer 'elu' \(Activation\): activation 'elu' is not supported/);
    expect(() => convert(path.join(tmpRoot, 'nope', 'model.json'))).toThrow(/cannot read model.json/);
  });

  it("'same' padding on an input of unknown size asks for inputShape, and works with it", () => {
    const k = new KerasBuilder(9);
    const inp = k.input('x', [null, null, 3]);
    const c = k.layer('conv', 'Conv2D', { filters: 2, kernel_size: 3, strides: 2, padding: 'same', activation: 'linear', use_bias: false }, [inp]);
    k.weight('conv/kernel', [3, 3, 3, 2]);
    const file = writeModel(k.topology([inp], [c]), k.weights);
    expect(() => convert(file)).toThrow(/layer 'conv' \(Conv2D\): needs a static input height for padding same; pass inputShape/);
    const model = convert(file, { inputShape: [9, 8, 3] });
    expect(model.graph.inputs[0]!.shape).toEqual(['batch_size', 3, 9, 8]);
    expect(model.graph.nodes[0]!.attrs.pads).toEqual({ type: 'ints', value: [1, 0, 1, 1] });   // 9 → 5: total 2; 8 → 4: total 1
  });
});
