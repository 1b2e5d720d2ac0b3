// Hugging Face image-processor semantics as data: `ImageProcessor.fromConfig(preprocessor_config.json)` turns a
// RawImage into the float32 NCHW `pixel_values` the slow (PIL + numpy) processors produce, bit for bit.
//
// Steps, in Hugging Face's order: convert to RGB → resize → centre crop → rescale → normalise → channel order → CHW.
//
// Keys read (Hugging Face names and meanings; absent keys take the class's default, see CLASS_DEFAULTS):
//   image_processor_type  ViTImageProcessor | ConvNextImageProcessor | DeiTImageProcessor | CLIPImageProcessor |
//                         BitImageProcessor (older configs: feature_extractor_type '…FeatureExtractor'). Picks the
//                         defaults and the meaning of a bare-number `size`. Absent: ConvNext when `crop_pct` is
//                         present, else ViT. Any other type is refused (its semantics are not modelled).
//   do_convert_rgb        boolean. Images are always converted (PIL `convert('RGB')`: grey replicated, alpha
//                         DROPPED, no compositing), because transformers' pipeline `load_image` converts every image
//                         before the processor sees it; the key is validated, not obeyed.
//   do_resize, size       {height, width}: exact size. {shortest_edge}: keep the aspect ratio, short side = s, long
//                         side int(s * long / short). A number: square {height: n, width: n} for ViT/DeiT,
//                         {shortest_edge: n} for ConvNext/CLIP/BiT (`get_size_dict(default_to_square=…)`).
//   crop_pct              ConvNext only: shortest_edge < 384 → resize the short side to int(shortest_edge / crop_pct),
//                         then centre-crop shortest_edge²; shortest_edge ≥ 384 → warp to shortest_edge² (no crop).
//   resample              PIL filter number: 0 NEAREST, 1 LANCZOS, 2 BILINEAR, 3 BICUBIC, 4 BOX, 5 HAMMING.
//   do_center_crop, crop_size   top = (h - ch) // 2, left = (w - cw) // 2; zero padding when the crop is larger.
//   do_rescale, rescale_factor  float64 multiply, then float32 (numpy `astype(float64) * f`, `astype(float32)`).
//   do_normalize, image_mean, image_std   (x - mean) / std in float32; a single number is used for all channels.
// Our own key (not Hugging Face's):
//   channel_order         'RGB' (default) | 'BGR'. Reverses the output channels as the very last step, after
//                         normalisation; `image_mean` / `image_std` are always given in RGB order.
// With it, Keras ResNet-50's "caffe" preprocessing is plain data: KERAS_RESNET50_CAFFE_CONFIG below.
// Unknown keys are ignored; a known key with an invalid value is an ImageInputError naming the key.

import { Tensor } from '../runtime/tensor.js';
import { toRGB } from './convert.js';
import { ImageInputError } from './errors.js';
import { resize, Resample, RESAMPLE_NAMES, type ResampleFilter } from './resize.js';
import type { RawImage } from './types.js';

const IMAGENET_STANDARD = [0.5, 0.5, 0.5];
const OPENAI_CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
const OPENAI_CLIP_STD = [0.26862954, 0.26130258, 0.27577711];

type SizeSpec = { height: number; width: number } | { shortestEdge: number };

interface ClassDefaults {
  size: SizeSpec;
  defaultToSquare: boolean;     // meaning of a bare-number `size`
  resample: ResampleFilter;
  doCenterCrop: boolean;
  cropSize?: { height: number; width: number };
  mean: number[];
  std: number[];
  cropPct?: number;             // ConvNext's crop rule applies when this is set
}

const CROP_224 = { height: 224, width: 224 };
const CLIP_LIKE: ClassDefaults = {
  size: { shortestEdge: 224 }, defaultToSquare: false, resample: Resample.BICUBIC, doCenterCrop: true, cropSize: CROP_224,
  mean: OPENAI_CLIP_MEAN, std: OPENAI_CLIP_STD,
};

/** Defaults of the transformers classes we model (their `__init__` defaults). */
export const CLASS_DEFAULTS: Record<string, ClassDefaults> = {
  ViTImageProcessor: {
    size: { height: 224, width: 224 }, defaultToSquare: true, resample: Resample.BILINEAR, doCenterCrop: false,
    mean: IMAGENET_STANDARD, std: IMAGENET_STANDARD,
  },
  ConvNextImageProcessor: {
    size: { shortestEdge: 384 }, defaultToSquare: false, resample: Resample.BILINEAR, doCenterCrop: false,
    mean: IMAGENET_STANDARD, std: IMAGENET_STANDARD, cropPct: 224 / 256,
  },
  DeiTImageProcessor: {
    size: { height: 256, width: 256 }, defaultToSquare: true, resample: Resample.BICUBIC, doCenterCrop: true,
    cropSize: CROP_224, mean: IMAGENET_STANDARD, std: IMAGENET_STANDARD,
  },
  CLIPImageProcessor: CLIP_LIKE,
  BitImageProcessor: CLIP_LIKE,
};

/** Keras ResNet-50 ("caffe" mode): shortest edge 256 bilinear, centre crop 224, RGB→BGR, minus the BGR means, 0–255. */
export const KERAS_RESNET50_CAFFE_CONFIG = Object.freeze({
  do_resize: true,
  size: { shortest_edge: 256 },
  resample: Resample.BILINEAR,
  do_center_crop: true,
  crop_size: { height: 224, width: 224 },
  do_rescale: false,
  do_normalize: true,
  image_mean: [123.68, 116.779, 103.939],
  image_std: [1, 1, 1],
  channel_order: 'BGR',
});

export type ResizeSpec =
  | { kind: 'exact'; height: number; width: number }
  | { kind: 'shortest-edge'; shortestEdge: number }
  | { kind: 'convnext'; shortestEdge: number; cropPct: number };

/** A validated, normalised config: what `process` does, step by step. */
export interface ProcessorSpec {
  type: string;
  resize: ResizeSpec | null;
  resample: ResampleFilter;
  crop: { height: number; width: number } | null;
  rescaleFactor: number | null;
  normalize: { mean: number[]; std: number[] } | null;   // float32 values
  channelOrder: 'RGB' | 'BGR';
}

// ---------------------------------------------------------------- config reading

type Json = Record<string, unknown>;

function fail(key: string, detail: string): never {
  throw new ImageInputError(`preprocessor config '${key}'`, detail);
}

function show(v: unknown): string {
  return JSON.stringify(v) ?? String(v);
}

function readBool(cfg: Json, key: string, fallback: boolean): boolean {
  const v = cfg[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') fail(key, `expected true or false, got ${show(v)}`);
  return v;
}

function positiveInt(key: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) fail(key, `expected a positive integer, got ${show(v)}`);
  return v;
}

function readSize(cfg: Json, key: string, defaultToSquare: boolean): SizeSpec | undefined {
  const v = cfg[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') {
    const n = positiveInt(key, v);
    return defaultToSquare ? { height: n, width: n } : { shortestEdge: n };
  }
  if (typeof v !== 'object' || Array.isArray(v)) fail(key, `expected a number or an object, got ${show(v)}`);
  const o = v as Json;
  const keys = Object.keys(o).filter(k => o[k] !== null && o[k] !== undefined).sort().join(',');
  if (keys === 'height,width') return { height: positiveInt(`${key}.height`, o.height), width: positiveInt(`${key}.width`, o.width) };
  if (keys === 'shortest_edge') return { shortestEdge: positiveInt(`${key}.shortest_edge`, o.shortest_edge) };
  fail(key, `expected {height, width} or {shortest_edge}, got ${show(v)}`);
}

function readCropSize(cfg: Json, fallback: { height: number; width: number } | undefined) {
  const size = readSize(cfg, 'crop_size', true);
  if (size && 'shortestEdge' in size) fail('crop_size', `expected a number or {height, width}, got ${show(cfg.crop_size)}`);
  return size ?? fallback;
}

function readResample(cfg: Json, fallback: ResampleFilter): ResampleFilter {
  const v = cfg.resample;
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !(v in RESAMPLE_NAMES)) {
    fail('resample', `expected a PIL filter number (${Object.entries(RESAMPLE_NAMES).map(([k, n]) => `${k} ${n}`).join(', ')}), got ${show(v)}`);
  }
  return v as ResampleFilter;
}

function readNumber(cfg: Json, key: string, fallback: number, check: (n: number) => boolean, expected: string): number {
  const v = cfg[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) fail(key, `expected ${expected}, got ${show(v)}`);
  return v;
}

function readTriple(cfg: Json, key: string, fallback: number[], nonZero: boolean): number[] {
  const v = cfg[key];
  if (v === undefined || v === null) return fallback;
  const arr = typeof v === 'number' ? [v, v, v] : v;
  const ok = Array.isArray(arr) && arr.length === 3 && arr.every(x => typeof x === 'number' && Number.isFinite(x) && (!nonZero || x !== 0));
  if (!ok) fail(key, `expected a number or 3 finite numbers${nonZero ? ' (non-zero)' : ''}, got ${show(v)}`);
  return arr as number[];
}

function readType(cfg: Json): string {
  const t = cfg.image_processor_type ?? cfg.feature_extractor_type;
  const key = cfg.image_processor_type !== undefined ? 'image_processor_type' : 'feature_extractor_type';
  if (t === undefined || t === null) return cfg.crop_pct !== undefined ? 'ConvNextImageProcessor' : 'ViTImageProcessor';
  if (typeof t !== 'string') fail(key, `expected a string, got ${show(t)}`);
  const type = t.replace(/FeatureExtractor$/, 'ImageProcessor').replace(/ImageProcessorFast$/, 'ImageProcessor');
  if (!CLASS_DEFAULTS[type]) fail(key, `'${t}' is not supported (supported: ${Object.keys(CLASS_DEFAULTS).join(', ')})`);
  return type;
}

function readResize(cfg: Json, d: ClassDefaults, type: string): ResizeSpec | null {
  if (!readBool(cfg, 'do_resize', true)) return null;
  const size = readSize(cfg, 'size', d.defaultToSquare) ?? d.size;
  if (d.cropPct === undefined) {
    return 'shortestEdge' in size ? { kind: 'shortest-edge', shortestEdge: size.shortestEdge } : { kind: 'exact', ...size };
  }
  if (!('shortestEdge' in size)) fail('size', `${type} needs {shortest_edge}, got ${show(cfg.size)}`);
  const cropPct = readNumber(cfg, 'crop_pct', d.cropPct, n => n > 0, 'a positive number');
  if (size.shortestEdge >= 384) return { kind: 'exact', height: size.shortestEdge, width: size.shortestEdge };
  return { kind: 'convnext', shortestEdge: size.shortestEdge, cropPct };
}

function readChannelOrder(cfg: Json): 'RGB' | 'BGR' {
  const v = cfg.channel_order ?? 'RGB';
  if (v !== 'RGB' && v !== 'BGR') fail('channel_order', `expected 'RGB' or 'BGR', got ${show(v)}`);
  return v;
}

/** Validate a `preprocessor_config.json` object into a ProcessorSpec. */
export function parseProcessorConfig(json: object): ProcessorSpec {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ImageInputError('preprocessor config', `expected a JSON object, got ${show(json)}`);
  }
  const cfg = json as Json;
  const type = readType(cfg);
  const d = CLASS_DEFAULTS[type]!;
  readBool(cfg, 'do_convert_rgb', true);
  const crop = readBool(cfg, 'do_center_crop', d.doCenterCrop) ? readCropSize(cfg, d.cropSize) : null;
  if (crop === undefined) fail('crop_size', 'do_center_crop is true but crop_size is missing');
  const rescale = readBool(cfg, 'do_rescale', true);
  const factor = readNumber(cfg, 'rescale_factor', 1 / 255, () => true, 'a finite number');
  const normalize = readBool(cfg, 'do_normalize', true);
  const mean = readTriple(cfg, 'image_mean', d.mean, false);
  const std = readTriple(cfg, 'image_std', d.std, true);
  return {
    type,
    resize: readResize(cfg, d, type),
    resample: readResample(cfg, d.resample),
    crop,
    rescaleFactor: rescale ? factor : null,
    normalize: normalize ? { mean: mean.map(Math.fround), std: std.map(Math.fround) } : null,
    channelOrder: readChannelOrder(cfg),
  };
}

// ---------------------------------------------------------------- pixel steps

/** get_resize_output_image_size(default_to_square=False): short side → s, long side int(s * long / short). */
function shortestEdgeSize(width: number, height: number, s: number): { width: number; height: number } {
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  const newLong = Math.trunc((s * long) / short);
  return width <= height ? { width: s, height: newLong } : { width: newLong, height: s };
}

/**
 * transformers.image_transforms.center_crop on HWC uint8: top = (h - ch) // 2, left = (w - cw) // 2 (floor division).
 * When the crop is larger, HF pads with zeros by ceil(missing / 2) first and then crops, which lands on the same
 * offsets: output (r, c) = input (top + r, left + c), or 0 where that falls outside the image.
 */
export function centerCrop(img: RawImage, cropHeight: number, cropWidth: number): RawImage {
  const { width: w, height: h, channels: c } = img;
  const top = Math.floor((h - cropHeight) / 2);
  const left = Math.floor((w - cropWidth) / 2);
  const out = new Uint8Array(cropHeight * cropWidth * c);
  const x0 = Math.max(0, -left);
  const x1 = Math.min(cropWidth, w - left);
  for (let r = 0; r < cropHeight; r++) {
    const y = top + r;
    if (y < 0 || y >= h || x1 <= x0) continue;
    const src = (y * w + left + x0) * c;
    out.set(img.data.subarray(src, src + (x1 - x0) * c), (r * cropWidth + x0) * c);
  }
  return { data: out, width: cropWidth, height: cropHeight, channels: c };
}

function applyResize(img: RawImage, spec: ResizeSpec, resample: ResampleFilter): RawImage {
  switch (spec.kind) {
    case 'exact':
      return resize(img, spec.width, spec.height, resample);
    case 'shortest-edge': {
      const size = shortestEdgeSize(img.width, img.height, spec.shortestEdge);
      return resize(img, size.width, size.height, resample);
    }
    case 'convnext': {
      const size = shortestEdgeSize(img.width, img.height, Math.trunc(spec.shortestEdge / spec.cropPct));
      return centerCrop(resize(img, size.width, size.height, resample), spec.shortestEdge, spec.shortestEdge);
    }
  }
}

/** Per channel, the float32 value of every uint8 level after rescale and normalise (256 entries per channel). */
function levelTable(spec: ProcessorSpec): Float32Array {
  const table = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) {
    for (let v = 0; v < 256; v++) {
      let x = spec.rescaleFactor !== null ? Math.fround(v * spec.rescaleFactor) : v;
      if (spec.normalize) x = Math.fround(Math.fround(x - spec.normalize.mean[c]!) / spec.normalize.std[c]!);
      table[c * 256 + v] = x;
    }
  }
  return table;
}

export class ImageProcessor {
  readonly spec: ProcessorSpec;
  private readonly levels: Float32Array;

  private constructor(spec: ProcessorSpec) {
    this.spec = spec;
    this.levels = levelTable(spec);
  }

  static fromConfig(json: object): ImageProcessor {
    return new ImageProcessor(parseProcessorConfig(json));
  }

  /** The uint8 RGB image after conversion, resize and crop: what rescale/normalise then turn into floats. */
  prepare(image: RawImage): RawImage {
    let img = toRGB(image);
    if (this.spec.resize) img = applyResize(img, this.spec.resize, this.spec.resample);
    if (this.spec.crop) img = centerCrop(img, this.spec.crop.height, this.spec.crop.width);
    return img;
  }

  /** One image → float32 [1, 3, H, W]. */
  process(image: RawImage): Tensor {
    return this.processBatch([image]);
  }

  /** Images → float32 [N, 3, H, W]; every image must come out the same size (they do whenever size or crop is fixed). */
  processBatch(images: RawImage[]): Tensor {
    if (images.length === 0) throw new RangeError('processBatch: no images');
    const prepared = images.map(img => this.prepare(img));
    const { width, height } = prepared[0]!;
    const plane = width * height;
    const out = new Float32Array(prepared.length * 3 * plane);
    prepared.forEach((img, n) => {
      if (img.width !== width || img.height !== height) {
        throw new ImageInputError(`image ${n}`, `preprocesses to ${img.width}×${img.height}, image 0 to ${width}×${height}; a batch needs one size`);
      }
      this.writeCHW(img, out.subarray(n * 3 * plane, (n + 1) * 3 * plane));
    });
    return new Tensor('float32', out, [prepared.length, 3, height, width]);
  }

  private writeCHW(img: RawImage, out: Float32Array): void {
    const plane = img.width * img.height;
    const bgr = this.spec.channelOrder === 'BGR';
    for (let c = 0; c < 3; c++) {
      const dst = (bgr ? 2 - c : c) * plane;
      const table = this.levels.subarray(c * 256, c * 256 + 256);
      for (let i = 0; i < plane; i++) out[dst + i] = table[img.data[i * 3 + c]!]!;
    }
  }
}
