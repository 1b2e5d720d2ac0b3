// Hugging Face image-processor semantics against PIL + numpy references: the six shared preprocess fixtures under
// the ViT and ConvNext (microsoft/resnet-50) configs, and the Keras ResNet-50 "caffe" inputs of 20 photos; then
// each config key's meaning and validation on small images whose expected output is worked out by hand.

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../src/image/decode.js';
import { ImageInputError } from '../../src/image/errors.js';
import { centerCrop, ImageProcessor, KERAS_RESNET50_CAFFE_CONFIG, parseProcessorConfig } from '../../src/image/preprocess.js';
import type { RawImage } from '../../src/image/types.js';
import { PREPROCESS_DIR, readFloat32Pb, readJson, readTensorPb, SHARED } from './helpers.js';

const CONFIGS: Record<string, object> = {
  vit: readJson(path.join(SHARED, 'hf-configs/google-vit-base-patch16-224/preprocessor_config.json')),
  'resnet-hf': readJson(path.join(SHARED, 'hf-configs/microsoft-resnet-50/preprocessor_config.json')),
};

interface Entry { image: string; config: string; output: string; decoded_rgb?: string; resized_wh?: [number, number] }
const INDEX = readJson<{ entries: Entry[] }>(path.join(PREPROCESS_DIR, 'index.json'));

interface Agreement { exact: number; within1: number; beyond3: number; n: number }

/** Compare in pixel units: |Δ| × std × 255 per value (std 1 when the tensor is not normalised). */
function agreement(actual: Float32Array, expected: Float32Array, std: number[], plane: number): Agreement {
  const a: Agreement = { exact: 0, within1: 0, beyond3: 0, n: expected.length };
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!) * std[Math.floor(i / plane) % 3]! * 255;
    if (actual[i] === expected[i]) a.exact++;
    if (d <= 1 + 1e-4) a.within1++;
    if (d > 3 + 1e-4) a.beyond3++;
  }
  return a;
}

function expectFidelity(a: Agreement, label: string): void {
  expect(a.within1 / a.n, `${label}: share within 1/255`).toBeGreaterThanOrEqual(0.99);
  expect(a.beyond3, `${label}: values beyond 3/255`).toBe(0);
}

function readImage(rel: string): RawImage {
  return decodeImage(new Uint8Array(fs.readFileSync(path.join(PREPROCESS_DIR, rel))), { name: rel });
}

describe('Hugging Face reference tensors (PIL 9.4 + numpy)', () => {
  it.each(INDEX.entries.map(e => [e.output, e] as const))('%s from the image file', (_name, e) => {
    const processor = ImageProcessor.fromConfig(CONFIGS[e.config]!);
    const out = processor.process(readImage(e.image));
    const ref = readFloat32Pb(path.join(PREPROCESS_DIR, e.output));
    expect(out.dims).toEqual(ref.dims);
    const a = agreement(out.data as Float32Array, ref.data, processor.spec.normalize!.std, 224 * 224);
    expectFidelity(a, e.output);
    // PNG decoding is pngjs + ours, resize and arithmetic are ours: nothing may differ.
    if (e.image.endsWith('.png')) expect(a.exact, `${e.output}: exact values`).toBe(a.n);
  });

  it.each(INDEX.entries.filter(e => e.decoded_rgb).map(e => [e.output, e] as const))(
    '%s from PIL\'s own JPEG decode (isolates resize + processing): bit-exact', (_name, e) => {
      const rgb = readTensorPb(path.join(PREPROCESS_DIR, e.decoded_rgb!));
      const image: RawImage = { data: rgb.bytes, width: rgb.dims[1]!, height: rgb.dims[0]!, channels: 3 };
      const out = ImageProcessor.fromConfig(CONFIGS[e.config]!).process(image);
      const ref = readFloat32Pb(path.join(PREPROCESS_DIR, e.output));
      const a = agreement(out.data as Float32Array, ref.data, [1, 1, 1], 224 * 224);
      expect(a.exact).toBe(a.n);
    });

  it('resizes to the sizes the references record', () => {
    for (const e of INDEX.entries.filter(x => x.resized_wh)) {
      const processor = ImageProcessor.fromConfig(CONFIGS[e.config]!);
      const img = readImage(e.image);
      const s = processor.spec.resize!;
      expect(s.kind).toBe('convnext');
      if (s.kind !== 'convnext') continue;
      const short = Math.trunc(s.shortestEdge / s.cropPct);
      const long = Math.trunc((short * Math.max(img.width, img.height)) / Math.min(img.width, img.height));
      expect(img.width >= img.height ? [long, short] : [short, long]).toEqual(e.resized_wh);
    }
  });
});

describe('Keras ResNet-50 "caffe" preprocessing (KERAS_RESNET50_CAFFE_CONFIG)', () => {
  const dir = path.join(SHARED, 'reference/resnet50-keras-photos-input');
  const index = readJson<{ index: string[] }>(path.join(dir, 'index.json')).index;
  const processor = ImageProcessor.fromConfig(KERAS_RESNET50_CAFFE_CONFIG);

  it.each(index.map((f, i) => [f, i] as const))('%s', (file, i) => {
    const img = decodeImage(new Uint8Array(fs.readFileSync(path.join(SHARED, file))), { name: file });
    const out = processor.process(img);
    const raw = new Uint8Array(fs.readFileSync(path.join(dir, `${i}.f32`)));
    const ref = new Float32Array(raw.buffer, 0, raw.length / 4);
    expect(out.dims).toEqual([1, 3, 224, 224]);
    const a = agreement(out.data as Float32Array, ref, [1 / 255, 1 / 255, 1 / 255], 224 * 224);
    expectFidelity(a, file);
    if (file.endsWith('.png')) expect(a.exact).toBe(a.n);
  });
});

// ---------------------------------------------------------------- semantics on small images

function image(w: number, h: number, channels: RawImage['channels'], f: (x: number, y: number, c: number) => number): RawImage {
  const data = new Uint8Array(w * h * channels);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < channels; c++) data[(y * w + x) * channels + c] = f(x, y, c);
  return { data, width: w, height: h, channels };
}

const RAW = { do_rescale: false, do_normalize: false };

describe('config semantics', () => {
  it('reads the two shipped configs as Hugging Face does', () => {
    expect(parseProcessorConfig(CONFIGS.vit!)).toEqual({
      type: 'ViTImageProcessor', resize: { kind: 'exact', height: 224, width: 224 }, resample: 2, crop: null,
      rescaleFactor: 1 / 255, normalize: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] }, channelOrder: 'RGB',
    });
    const convnext = parseProcessorConfig(CONFIGS['resnet-hf']!);
    expect(convnext.type).toBe('ConvNextImageProcessor');
    expect(convnext.resize).toEqual({ kind: 'convnext', shortestEdge: 224, cropPct: 0.875 });
    expect(convnext.resample).toBe(3);
    expect(convnext.normalize!.mean).toEqual([0.485, 0.456, 0.406].map(Math.fround));
  });

  it('a bare-number size is square for ViT, a shortest edge for ConvNext', () => {
    const img = image(40, 20, 3, (x, y) => x + y);
    const vit = ImageProcessor.fromConfig({ size: 16, ...RAW }).process(img);
    expect(vit.dims).toEqual([1, 3, 16, 16]);
    const convnext = ImageProcessor.fromConfig({ image_processor_type: 'ConvNextImageProcessor', size: 16, crop_pct: 0.5, ...RAW });
    expect(convnext.spec.resize).toEqual({ kind: 'convnext', shortestEdge: 16, cropPct: 0.5 });
    expect(convnext.process(img).dims).toEqual([1, 3, 16, 16]);
  });

  it('ConvNext at shortest_edge >= 384 warps to a square without cropping', () => {
    const p = ImageProcessor.fromConfig({ image_processor_type: 'ConvNextImageProcessor', size: { shortest_edge: 384 }, ...RAW });
    expect(p.spec.resize).toEqual({ kind: 'exact', height: 384, width: 384 });
  });

  it('shortest_edge keeps the aspect ratio with int(s * long / short), landscape and portrait', () => {
    const p = ImageProcessor.fromConfig({ size: { shortest_edge: 256 }, ...RAW });
    expect(p.prepare(image(451, 300, 3, () => 0))).toMatchObject({ width: 384, height: 256 });    // 256*451/300 = 384.85
    expect(p.prepare(image(300, 451, 3, () => 0))).toMatchObject({ width: 256, height: 384 });
    expect(p.prepare(image(7, 3, 3, () => 0))).toMatchObject({ width: 597, height: 256 });        // 256*7/3 = 597.33
  });

  it('centre crop: floor-division offsets inside the image', () => {
    const img = image(7, 5, 1, (x, y) => 10 * y + x);
    const out = centerCrop(img, 3, 3);        // top (5-3)//2 = 1, left (7-3)//2 = 2
    expect([...out.data]).toEqual([12, 13, 14, 22, 23, 24, 32, 33, 34]);
    const even = centerCrop(image(4, 4, 1, (x, y) => 10 * y + x), 3, 3);   // top = left = (4-3)//2 = 0
    expect([...even.data]).toEqual([0, 1, 2, 10, 11, 12, 20, 21, 22]);
  });

  it('centre crop larger than the image pads with zeros, ceil(missing/2) before', () => {
    const img = image(3, 2, 1, (x, y) => 1 + 10 * y + x);
    // HF: pad to 5×4 with top_pad = ceil(2/2) = 1, left_pad = ceil(2/2) = 1, then crop at (0, 0).
    expect([...centerCrop(img, 4, 5).data]).toEqual([
      0, 0, 0, 0, 0,
      0, 1, 2, 3, 0,
      0, 11, 12, 13, 0,
      0, 0, 0, 0, 0,
    ]);
    // Odd padding: 3 rows into 6 → top_pad = ceil(3/2) = 2; 1 column into 2 → left_pad = ceil(1/2) = 1.
    const tall = image(1, 3, 1, (_x, y) => 5 + y);
    expect([...centerCrop(tall, 6, 2).data]).toEqual([0, 0, 0, 0, 0, 5, 0, 6, 0, 7, 0, 0]);
    // Mixed: wider than the crop, shorter than it.
    const wide = image(6, 1, 1, x => 1 + x);
    expect([...centerCrop(wide, 3, 2).data]).toEqual([0, 0, 3, 4, 0, 0]);
  });

  it('without rescale or normalise the tensor holds the 0–255 pixel values, planar', () => {
    const img = image(2, 2, 3, (x, y, c) => 100 * c + 10 * y + x);
    const t = ImageProcessor.fromConfig({ do_resize: false, ...RAW }).process(img);
    expect(t.dims).toEqual([1, 3, 2, 2]);
    expect([...t.data as Float32Array]).toEqual([0, 1, 10, 11, 100, 101, 110, 111, 200, 201, 210, 211]);
  });

  it('rescale then normalise in float32: (v / 255 - mean) / std', () => {
    const img = image(1, 1, 3, (_x, _y, c) => [0, 128, 255][c]!);
    const t = ImageProcessor.fromConfig({ do_resize: false, image_mean: [0.5, 0.25, 0], image_std: [0.5, 0.25, 2] }).process(img);
    const f = Math.fround;
    expect([...t.data as Float32Array]).toEqual([
      f(f(f(0 / 255) - 0.5) / 0.5), f(f(f(128 / 255) - 0.25) / 0.25), f(f(f(255 / 255) - 0) / 2),
    ]);
  });

  it("channel_order 'BGR' reverses the channels after normalising with RGB-ordered means", () => {
    const img = image(3, 2, 3, (x, y, c) => 40 * c + 7 * y + x);
    const cfg = { do_resize: false, do_rescale: false, image_mean: [1, 2, 3], image_std: [1, 1, 1] };
    const rgb = ImageProcessor.fromConfig(cfg).process(img).data as Float32Array;
    const bgr = ImageProcessor.fromConfig({ ...cfg, channel_order: 'BGR' }).process(img).data as Float32Array;
    expect([...bgr.subarray(0, 6)]).toEqual([...rgb.subarray(12, 18)]);
    expect([...bgr.subarray(6, 12)]).toEqual([...rgb.subarray(6, 12)]);
    expect([...bgr.subarray(12, 18)]).toEqual([...rgb.subarray(0, 6)]);
  });

  it('grey is replicated and alpha dropped before processing (PIL convert("RGB"))', () => {
    const p = ImageProcessor.fromConfig({ size: { height: 5, width: 4 } });
    const grey = image(9, 7, 1, (x, y) => 20 * x + y);
    const greyAsRgb = image(9, 7, 3, (x, y) => 20 * x + y);
    expect(p.process(grey).data).toEqual(p.process(greyAsRgb).data);
    const rgba = image(9, 7, 4, (x, y, c) => (c === 3 ? (x * 50) % 256 : 10 * c + x + y));
    const rgb = image(9, 7, 3, (x, y, c) => 10 * c + x + y);
    expect(p.process(rgba).data).toEqual(p.process(rgb).data);
  });

  it('processBatch stacks images and refuses mixed output sizes', () => {
    const a = image(30, 20, 3, (x, y, c) => x * y + c);
    const b = image(25, 40, 3, (x, y, c) => x + y * c);
    const p = ImageProcessor.fromConfig({ size: 8 });
    const batch = p.processBatch([a, b]);
    expect(batch.dims).toEqual([2, 3, 8, 8]);
    expect((batch.data as Float32Array).subarray(0, 192)).toEqual(p.process(a).data);
    expect((batch.data as Float32Array).subarray(192)).toEqual(p.process(b).data);
    const noResize = ImageProcessor.fromConfig({ do_resize: false });
    expect(() => noResize.processBatch([a, b])).toThrow('image 1: preprocesses to 25×40, image 0 to 30×20; a batch needs one size');
    expect(() => p.processBatch([])).toThrow(/no images/);
  });

  it('defaults: an empty config is ViT; older feature_extractor_type names and unknown keys are accepted', () => {
    expect(parseProcessorConfig({})).toEqual(parseProcessorConfig(CONFIGS.vit!));
    expect(parseProcessorConfig({ feature_extractor_type: 'ViTFeatureExtractor', size: 224, extra_thing: [1, 2] }).type).toBe('ViTImageProcessor');
    const deit = parseProcessorConfig({ image_processor_type: 'DeiTImageProcessor' });
    expect([deit.resize, deit.crop, deit.resample]).toEqual([{ kind: 'exact', height: 256, width: 256 }, { height: 224, width: 224 }, 3]);
    const clip = parseProcessorConfig({ image_processor_type: 'CLIPImageProcessor' });
    expect([clip.resize, clip.crop]).toEqual([{ kind: 'shortest-edge', shortestEdge: 224 }, { height: 224, width: 224 }]);
  });

  it.each([
    [{ do_resize: 'yes' }, "preprocessor config 'do_resize': expected true or false, got \"yes\""],
    [{ size: { longest_edge: 224 } }, "preprocessor config 'size': expected {height, width} or {shortest_edge}, got {\"longest_edge\":224}"],
    [{ size: { height: 224, width: 0 } }, "preprocessor config 'size.width': expected a positive integer, got 0"],
    [{ size: -3 }, "preprocessor config 'size': expected a positive integer, got -3"],
    [{ resample: 7 }, "preprocessor config 'resample': expected a PIL filter number (0 NEAREST, 1 LANCZOS, 2 BILINEAR, 3 BICUBIC, 4 BOX, 5 HAMMING), got 7"],
    [{ do_center_crop: true }, "preprocessor config 'crop_size': do_center_crop is true but crop_size is missing"],
    [{ do_center_crop: true, crop_size: { shortest_edge: 3 } }, "preprocessor config 'crop_size': expected a number or {height, width}, got {\"shortest_edge\":3}"],
    [{ rescale_factor: 'x' }, "preprocessor config 'rescale_factor': expected a finite number, got \"x\""],
    [{ image_mean: [0.5, 0.5] }, "preprocessor config 'image_mean': expected a number or 3 finite numbers, got [0.5,0.5]"],
    [{ image_std: [0.5, 0, 0.5] }, "preprocessor config 'image_std': expected a number or 3 finite numbers (non-zero), got [0.5,0,0.5]"],
    [{ channel_order: 'GBR' }, "preprocessor config 'channel_order': expected 'RGB' or 'BGR', got \"GBR\""],
    [{ image_processor_type: 'SegformerImageProcessor' }, "preprocessor config 'image_processor_type': 'SegformerImageProcessor' is not supported (supported: ViTImageProcessor, ConvNextImageProcessor, DeiTImageProcessor, CLIPImageProcessor, BitImageProcessor)"],
    [{ image_processor_type: 'ConvNextImageProcessor', size: { height: 2, width: 2 } }, "preprocessor config 'size': ConvNextImageProcessor needs {shortest_edge}, got {\"height\":2,\"width\":2}"],
    [{ image_processor_type: 'ConvNextImageProcessor', crop_pct: 0 }, "preprocessor config 'crop_pct': expected a positive number, got 0"],
  ])('invalid %j → one error naming the key', (cfg, message) => {
    expect(() => ImageProcessor.fromConfig(cfg)).toThrow(ImageInputError);
    expect(() => ImageProcessor.fromConfig(cfg)).toThrow(message);
  });

  it('a non-object config is refused', () => {
    expect(() => ImageProcessor.fromConfig([] as unknown as object)).toThrow("preprocessor config: expected a JSON object, got []");
  });
});
