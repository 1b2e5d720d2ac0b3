// Pillow 9.4's `Image.resize` for 8-bit images, bit for bit: libImaging/Resample.c (two separable passes with
// integer coefficients) for every filter but NEAREST, which PIL sends through its affine scale (Geometry.c).
// Channels are resampled independently; PIL premultiplies alpha for LA/RGBA first, which we don't (the
// preprocessor converts to RGB before resizing). There is no `reducing_gap` step: Hugging Face passes None.

import type { RawImage } from './types.js';

/** PIL's `Image.Resampling` numbers, as stored in `preprocessor_config.json`'s `resample`. */
export const Resample = { NEAREST: 0, LANCZOS: 1, BILINEAR: 2, BICUBIC: 3, BOX: 4, HAMMING: 5 } as const;
export type ResampleFilter = (typeof Resample)[keyof typeof Resample];

export const RESAMPLE_NAMES: Record<ResampleFilter, string> = {
  0: 'NEAREST', 1: 'LANCZOS', 2: 'BILINEAR', 3: 'BICUBIC', 4: 'BOX', 5: 'HAMMING',
};

interface Filter { weight: (x: number) => number; support: number }

// Each kernel is written with the C expression order so the doubles come out identical.
function boxWeight(x: number): number {
  return x > -0.5 && x <= 0.5 ? 1.0 : 0.0;
}

function bilinearWeight(x: number): number {
  if (x < 0.0) x = -x;
  return x < 1.0 ? 1.0 - x : 0.0;
}

const HAMMING_A = Math.fround(0.54); // C: 0.54f + 0.46f * cos(x), float constants widened to double
const HAMMING_B = Math.fround(0.46);
function hammingWeight(x: number): number {
  if (x < 0.0) x = -x;
  if (x === 0.0) return 1.0;
  if (x >= 1.0) return 0.0;
  x = x * Math.PI;
  return (Math.sin(x) / x) * (HAMMING_A + HAMMING_B * Math.cos(x));
}

function bicubicWeight(x: number): number {
  const a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

function sinc(x: number): number {
  if (x === 0.0) return 1.0;
  x = x * Math.PI;
  return Math.sin(x) / x;
}

function lanczosWeight(x: number): number {
  return -3.0 <= x && x < 3.0 ? sinc(x) * sinc(x / 3) : 0.0;
}

const FILTERS: Record<Exclude<ResampleFilter, 0>, Filter> = {
  [Resample.BOX]: { weight: boxWeight, support: 0.5 },
  [Resample.BILINEAR]: { weight: bilinearWeight, support: 1.0 },
  [Resample.HAMMING]: { weight: hammingWeight, support: 1.0 },
  [Resample.BICUBIC]: { weight: bicubicWeight, support: 2.0 },
  [Resample.LANCZOS]: { weight: lanczosWeight, support: 3.0 },
};

// 8 bits of result, 2 bits of headroom for negative lobes and sums above 1.0 in a 32-bit int.
const PRECISION_BITS = 32 - 8 - 2;
const HALF = 1 << (PRECISION_BITS - 1);

interface Coeffs {
  ksize: number;        // coefficients per output pixel (the tail past `bounds[2i+1]` is zero)
  bounds: Int32Array;   // (outSize, 2): first input index, number of inputs used
  kk: Int32Array;       // (outSize, ksize): fixed-point weights
}

/** precompute_coeffs + normalize_coeffs_8bpc: weights of every output pixel over the input line [in0, in1). */
function precomputeCoeffs(inSize: number, in0: number, in1: number, outSize: number, filter: Filter): Coeffs {
  const scale = (in1 - in0) / outSize;
  const filterscale = scale < 1.0 ? 1.0 : scale;       // upscaling keeps the kernel's own width
  const support = filter.support * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  const ss = 1.0 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = in0 + (xx + 0.5) * scale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let ww = 0.0;
    for (let x = 0; x < xmax; x++) {
      const w = filter.weight((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const v = ww !== 0.0 ? k[x]! / ww : k[x]!;
      kk[xx * ksize + x] = v < 0 ? Math.trunc(-0.5 + v * (1 << PRECISION_BITS)) : Math.trunc(0.5 + v * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, kk };
}

function clip8(ss: number): number {
  const v = ss >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** Horizontal pass over input rows [offset, offset + outHeight): out is (outHeight, outWidth, c). */
function resampleHorizontal(src: RawImage, outWidth: number, outHeight: number, offset: number, co: Coeffs): Uint8Array {
  const c = src.channels;
  const { ksize, bounds, kk } = co;
  const out = new Uint8Array(outWidth * outHeight * c);
  const sums = new Float64Array(c);
  for (let yy = 0; yy < outHeight; yy++) {
    const row = (yy + offset) * src.width * c;
    for (let xx = 0; xx < outWidth; xx++) {
      const xmin = bounds[xx * 2]!;
      const xmax = bounds[xx * 2 + 1]!;
      const kbase = xx * ksize;
      sums.fill(HALF);
      for (let x = 0; x < xmax; x++) {
        const w = kk[kbase + x]!;
        const p = row + (x + xmin) * c;
        for (let ch = 0; ch < c; ch++) sums[ch] += src.data[p + ch]! * w;
      }
      const o = (yy * outWidth + xx) * c;
      for (let ch = 0; ch < c; ch++) out[o + ch] = clip8(sums[ch]!);
    }
  }
  return out;
}

/** Vertical pass: out row yy mixes input rows bounds[2yy] .. + bounds[2yy+1]. */
function resampleVertical(src: RawImage, outHeight: number, co: Coeffs): Uint8Array {
  const c = src.channels;
  const rowLen = src.width * c;
  const { ksize, bounds, kk } = co;
  const out = new Uint8Array(rowLen * outHeight);
  for (let yy = 0; yy < outHeight; yy++) {
    const ymin = bounds[yy * 2]!;
    const ymax = bounds[yy * 2 + 1]!;
    const kbase = yy * ksize;
    for (let i = 0; i < rowLen; i++) {
      let ss = HALF;
      for (let y = 0; y < ymax; y++) ss += src.data[(y + ymin) * rowLen + i]! * kk[kbase + y]!;
      out[yy * rowLen + i] = clip8(ss);
    }
  }
  return out;
}

/** ImagingResampleInner: vertical coefficients first, so the horizontal pass only covers the rows they use. */
function resampleConvolution(img: RawImage, width: number, height: number, filter: Filter): RawImage {
  const needHorizontal = width !== img.width;
  const needVertical = height !== img.height;
  const vert = precomputeCoeffs(img.height, 0, img.height, height, filter);
  const yFirst = vert.bounds[0]!;
  const yLast = vert.bounds[height * 2 - 2]! + vert.bounds[height * 2 - 1]!;
  let cur: RawImage = img;
  if (needHorizontal) {
    const horiz = precomputeCoeffs(img.width, 0, img.width, width, filter);
    for (let i = 0; i < height; i++) vert.bounds[i * 2] -= yFirst;
    const rows = yLast - yFirst;
    cur = { data: resampleHorizontal(img, width, rows, yFirst, horiz), width, height: rows, channels: img.channels };
  }
  if (needVertical) {
    cur = { data: resampleVertical(cur, height, vert), width: cur.width, height, channels: img.channels };
  }
  return cur;
}

/** ImagingScaleAffine with a = [w_in/w_out, 0, 0, 0, h_in/h_out, 0]: pixel centres, accumulated in doubles. */
function resampleNearest(img: RawImage, width: number, height: number): RawImage {
  const c = img.channels;
  const ax = img.width / width;
  const ay = img.height / height;
  const xintab = new Int32Array(width).fill(-1);
  let xo = ax * 0.5;
  for (let x = 0; x < width; x++) {
    const xin = xo < 0.0 ? -1 : Math.trunc(xo);
    if (xin >= 0 && xin < img.width) xintab[x] = xin;
    xo += ax;
  }
  const out = new Uint8Array(width * height * c);  // fill = 1: pixels mapped outside stay 0
  let yo = ay * 0.5;
  for (let y = 0; y < height; y++) {
    const yi = yo < 0.0 ? -1 : Math.trunc(yo);
    if (yi >= 0 && yi < img.height) {
      for (let x = 0; x < width; x++) {
        const xin = xintab[x]!;
        if (xin < 0) continue;
        const s = (yi * img.width + xin) * c;
        const o = (y * width + x) * c;
        for (let ch = 0; ch < c; ch++) out[o + ch] = img.data[s + ch]!;
      }
    }
    yo += ay;
  }
  return { data: out, width, height, channels: c };
}

/** `image.resize((width, height), resample=filter, reducing_gap=None)` as Pillow 9.4 computes it. */
export function resize(img: RawImage, width: number, height: number, filter: ResampleFilter = Resample.BICUBIC): RawImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`resize: target size must be positive integers, got ${width}×${height}`);
  }
  if (!(filter in RESAMPLE_NAMES)) throw new RangeError(`resize: unknown resample filter ${filter} (expected 0–5)`);
  if (width === img.width && height === img.height) {
    return { data: img.data.slice(), width, height, channels: img.channels };
  }
  if (filter === Resample.NEAREST) return resampleNearest(img, width, height);
  return resampleConvolution(img, width, height, FILTERS[filter]);
}
