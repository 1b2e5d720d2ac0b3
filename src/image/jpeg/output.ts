// From decoded component planes to interleaved output rows: libjpeg-turbo's upsampling (jdsample.c, method chosen as
// in jinit_upsampler with do_fancy_upsampling on and full-size DCT) and colour conversion (jdcolor.c fixed-point
// YCbCr→RGB, YCCK→CMYK), then, for 4-component images, PIL's CMYK handling (rawmode "CMYK;I", Convert.c cmyk2rgb).

import { JpegError } from './errors.js';
import type { Component, Frame } from './markers.js';

/** A component's samples: `data[row * stride + col]` for col < width, row < height (the downsampled size). */
export interface Plane {
  readonly data: Uint8Array;
  readonly stride: number;
  readonly width: number;
  readonly height: number;
}

/** Produces one upsampled row of a component, `outWidth` samples long, as (buffer, offset). */
export interface RowSource {
  row(y: number): number;
  readonly buf: Uint8Array;
}

/** jinit_upsampler's choice for one component (IDCT scaling is always 8, so min_DCT_scaled_size > 1). */
export function rowSource(c: Component, plane: Plane, frame: Frame): RowSource {
  const { hmax, vmax } = frame;
  const outWidth = frame.width;
  if (c.h === hmax && c.v === vmax) return fullsize(plane);
  if (c.h * 2 === hmax && c.v === vmax) return plane.width > 2 ? h2v1Fancy(plane, outWidth) : replicate(plane, 2, 1, outWidth);
  if (c.h === hmax && c.v * 2 === vmax) return h1v2Fancy(plane, outWidth);
  if (c.h * 2 === hmax && c.v * 2 === vmax) return plane.width > 2 ? h2v2Fancy(plane, outWidth) : replicate(plane, 2, 2, outWidth);
  if (hmax % c.h === 0 && vmax % c.v === 0) return replicate(plane, hmax / c.h, vmax / c.v, outWidth);
  throw new JpegError(`fractional sampling factors are not supported (component ${c.index} is ${c.h}x${c.v}, max ${hmax}x${vmax})`);
}

function fullsize(p: Plane): RowSource {
  return { buf: p.data, row: y => y * p.stride };
}

/** int_upsample / h2v1_upsample / h2v2_upsample: box replication. */
function replicate(p: Plane, hx: number, vx: number, outWidth: number): RowSource {
  const buf = new Uint8Array(outWidth);
  const d = p.data;
  return {
    buf,
    row(y) {
      const o = ((y / vx) | 0) * p.stride;
      for (let x = 0, i = 0; x < outWidth; i++) {
        const v = d[o + i];
        for (let k = 0; k < hx && x < outWidth; k++) buf[x++] = v;
      }
      return 0;
    },
  };
}

/** h2v1_fancy_upsample: triangle filter horizontally, 3/4 nearer + 1/4 further, biases 1 and 2 alternating. */
function h2v1Fancy(p: Plane, outWidth: number): RowSource {
  const buf = new Uint8Array(Math.max(outWidth, 2 * p.width));
  const d = p.data;
  const n = p.width;
  return {
    buf,
    row(y) {
      const i0 = y * p.stride;
      let v = d[i0];
      buf[0] = v;
      buf[1] = (v * 3 + d[i0 + 1] + 2) >> 2;
      let o = 2;
      for (let i = i0 + 1; i < i0 + n - 1; i++) {
        v = d[i] * 3;
        buf[o++] = (v + d[i - 1] + 1) >> 2;
        buf[o++] = (v + d[i + 1] + 2) >> 2;
      }
      v = d[i0 + n - 1];
      buf[o++] = (v * 3 + d[i0 + n - 2] + 1) >> 2;
      buf[o] = v;
      return 0;
    },
  };
}

/** The input rows for output row y of a 2:1 vertical upsample: nearest, and next nearest (above for even y, below
 *  for odd y), clamped to the component's rows as jdmainct.c's context pointers duplicate the edge rows. */
function verticalPair(p: Plane, y: number): [number, number] {
  const r = y >> 1;
  const nb = y & 1 ? Math.min(r + 1, p.height - 1) : Math.max(r - 1, 0);
  return [r * p.stride, nb * p.stride];
}

/** h1v2_fancy_upsample (libjpeg-turbo): vertical triangle filter, bias 1 for the upper row of a pair, 2 for the lower. */
function h1v2Fancy(p: Plane, outWidth: number): RowSource {
  const buf = new Uint8Array(Math.max(outWidth, p.width));
  const d = p.data;
  return {
    buf,
    row(y) {
      const [a, b] = verticalPair(p, y);
      const bias = y & 1 ? 2 : 1;
      for (let x = 0; x < p.width; x++) buf[x] = (d[a + x] * 3 + d[b + x] + bias) >> 2;
      return 0;
    },
  };
}

/** h2v2_fancy_upsample: triangle filter in both directions (9/16, 3/16, 3/16, 1/16), biases 8 and 7 alternating. */
function h2v2Fancy(p: Plane, outWidth: number): RowSource {
  const buf = new Uint8Array(Math.max(outWidth, 2 * p.width));
  const d = p.data;
  const n = p.width;
  return {
    buf,
    row(y) {
      const [a, b] = verticalPair(p, y);
      let thisSum = d[a] * 3 + d[b];
      let nextSum = d[a + 1] * 3 + d[b + 1];
      buf[0] = (thisSum * 4 + 8) >> 4;
      buf[1] = (thisSum * 3 + nextSum + 7) >> 4;
      let lastSum = thisSum;
      thisSum = nextSum;
      let o = 2;
      for (let i = 2; i < n; i++) {
        nextSum = d[a + i] * 3 + d[b + i];
        buf[o++] = (thisSum * 3 + lastSum + 8) >> 4;
        buf[o++] = (thisSum * 3 + nextSum + 7) >> 4;
        lastSum = thisSum;
        thisSum = nextSum;
      }
      buf[o++] = (thisSum * 3 + lastSum + 8) >> 4;
      buf[o] = (thisSum * 4 + 7) >> 4;
      return 0;
    },
  };
}

// build_ycc_rgb_table: SCALEBITS 16, FIX(x) = round(x * 2^16), ONE_HALF = 2^15.
const ONE_HALF = 1 << 15;
const fix = (x: number) => Math.floor(x * 65536 + 0.5);
const CR_R = new Int32Array(256);
const CB_B = new Int32Array(256);
const CR_G = new Int32Array(256);
const CB_G = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  const x = i - 128;
  CR_R[i] = (fix(1.402) * x + ONE_HALF) >> 16;
  CB_B[i] = (fix(1.772) * x + ONE_HALF) >> 16;
  CR_G[i] = -fix(0.71414) * x;
  CB_G[i] = -fix(0.34414) * x + ONE_HALF;
}

const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);

/** ycc_rgb_convert for one row; `out` is a clamping view, so range_limit[] is the store itself. */
export function yccToRgb(
  y: Uint8Array, yo: number, cb: Uint8Array, cbo: number, cr: Uint8Array, cro: number,
  out: Uint8ClampedArray, o: number, width: number,
): void {
  for (let x = 0; x < width; x++, o += 3) {
    const Y = y[yo + x];
    const Cb = cb[cbo + x];
    const Cr = cr[cro + x];
    out[o] = Y + CR_R[Cr];
    out[o + 1] = Y + ((CB_G[Cb] + CR_G[Cr]) >> 16);
    out[o + 2] = Y + CB_B[Cb];
  }
}

/** rgb_rgb_convert: components stored as R, G, B (Adobe transform 0 or ids 'R','G','B'). */
export function interleave3(
  a: Uint8Array, ao: number, b: Uint8Array, bo: number, c: Uint8Array, co: number,
  out: Uint8ClampedArray, o: number, width: number,
): void {
  for (let x = 0; x < width; x++, o += 3) {
    out[o] = a[ao + x];
    out[o + 1] = b[bo + x];
    out[o + 2] = c[co + x];
  }
}

/**
 * Four components to RGB as PIL does it: libjpeg outputs CMYK (ycck_cmyk_convert first when YCCK), PIL reads it
 * with rawmode "CMYK;I" (every value inverted, for any 4-component JPEG) and convert('RGB') applies cmyk2rgb:
 * nk = 255 - k; channel = nk - MULDIV255(c, nk).
 */
export function cmykToRgb(
  rows: readonly [Uint8Array, number][], ycck: boolean, out: Uint8ClampedArray, o: number, width: number,
): void {
  const [[p0, o0], [p1, o1], [p2, o2], [p3, o3]] = rows;
  const muldiv255 = (a: number, b: number) => {
    const t = a * b + 128;
    return ((t >> 8) + t) >> 8;
  };
  for (let x = 0; x < width; x++, o += 3) {
    let c = p0[o0 + x];
    let m = p1[o1 + x];
    let yy = p2[o2 + x];
    if (ycck) {
      const Y = c;
      const Cb = m;
      const Cr = yy;
      c = clamp(255 - (Y + CR_R[Cr]));
      m = clamp(255 - (Y + ((CB_G[Cb] + CR_G[Cr]) >> 16)));
      yy = clamp(255 - (Y + CB_B[Cb]));
    }
    const nk = p3[o3 + x]; // 255 - (255 - k): PIL's inverted K, inverted again by cmyk2rgb
    out[o] = nk - muldiv255(255 - c, nk);
    out[o + 1] = nk - muldiv255(255 - m, nk);
    out[o + 2] = nk - muldiv255(255 - yy, nk);
  }
}
