// The exact-integer machinery of the quantized operators (kernels/quant.ts): 8-bit weights kept on the host and
// widened to float32 a slice at a time straight into the tfjs WASM heap (wasm/heap.ts), DynamicQuantizeLinear's
// arithmetic, and integer products and convolutions that are exact: chunks whose Σ|terms| ≤ 2^24 (exact in float32
// in any order) run as XNNPACK float products and are added in int32; each product puts its smaller operand on the
// side XNNPACK packs.

import * as tf from '@tensorflow/tfjs-core';
import type { DType } from '../src/ir/dtype.js';
import type { ConstTensor } from '../src/ir/graph.js';
import { conv2dNhwc, type Geometry } from './conv.js';
import { tensorOf, wasmBackend } from './wasm/heap.js';
import { numel } from './util.js';

const f32 = Math.fround;

// ---- value ranges, heap views -------------------------------------------------------------------------------------

export const RANGE: Partial<Record<DType, readonly [number, number]>> = { uint8: [0, 255], int8: [-128, 127] };

/** Largest |v − zp| for v in the 8-bit type's range, over the given zero points. */
export function spread(dtype: DType, zps: ArrayLike<number>): number {
  const [lo, hi] = RANGE[dtype]!;
  let b = 0;
  for (let i = 0; i < zps.length; i++) b = Math.max(b, Math.abs(lo - zps[i]!), Math.abs(hi - zps[i]!));
  return b;
}

type IntArray = Int8Array | Uint8Array | Int32Array;

/** A new float32 tensor whose values `fill` writes, given a view of `src`'s values (float32) when asked. On the WASM
 *  backend it writes straight into heap memory (8-bit weights widen natively through Float32Array.set): no JS-side
 *  copy, where a fresh array per slice per call would leave tens of MB of garbage behind every inference. */
function filledTensor(shape: number[], fill: (out: Float32Array, src?: Float32Array) => void, src?: tf.Tensor): tf.Tensor {
  const b = wasmBackend();
  if (b) {
    const info = b.makeOutput(shape, 'float32');
    // Views taken after the allocation, which may have grown (and so replaced) the heap's buffer.
    fill(b.typedArrayFromHeap(info), src && b.typedArrayFromHeap(src));
    return tensorOf(info);
  }
  const data = new Float32Array(numel(shape));
  fill(data, src?.dataSync() as Float32Array | undefined);
  return tf.tensor(data, shape, 'float32');
}

/** x[from:to] along axis 0 (contiguous) or the last axis, for float32 x: a copy between heap views (tfjs-wasm's Slice
 *  copies its whole input out to JS on every call, and its Gather is slower still). */
function range(x: tf.Tensor, axis: 0 | 'last', from: number, to: number): tf.Tensor {
  const shape = [...x.shape];
  if (axis === 0) {
    const row = x.size / shape[0]!;
    shape[0] = to - from;
    return filledTensor(shape, (out, src) => out.set(src!.subarray(from * row, to * row)), x);
  }
  const c = shape[shape.length - 1]!, w = to - from, rows = x.size / c;
  shape[shape.length - 1] = w;
  return filledTensor(shape, (out, src) => { for (let r = 0; r < rows; r++) out.set(src!.subarray(r * c + from, r * c + to), r * w); }, x);
}

/** t − zp on the backend (SIMD), zp one value or one per position of `shape` (numpy broadcasting); disposes t. */
function minusZeroPoint(t: tf.Tensor, zp: Int32Array, shape: number[]): tf.Tensor {
  if (zp.every(z => z === 0)) return t;
  const r = tf.sub(t, zp.length === 1 ? tf.scalar(zp[0]!) : tf.tensor(Float32Array.from(zp), shape));
  t.dispose();
  return r;
}

/** Subtracts a zero point tensor as float: float32 holds the 8-bit differences exactly. */
export function centred(t: tf.Tensor, zp: tf.Tensor | undefined, zpShape?: number[]): tf.Tensor {
  const f = tf.cast(t, 'float32');
  if (!zp) return f;
  return tf.sub(f, tf.cast(zpShape ? tf.reshape(zp, zpShape) : zp, 'float32'));
}

// ---- quantize, requantize ------------------------------------------------------------------------------------------

/** Nearest integer, ties to even (std::nearbyint, tf.round). */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** DynamicQuantizeLinear's scale and zero point for x, as onnxruntime computes them (float32, on the host from x's
 *  min and max): the range widened to hold 0, scale = range/255 (1 for an all-zero x), zp = round(clip(−min/scale,
 *  0, 255)). And x quantized minus zp, as float32 integers: clip(round(x/scale), −zp, 255 − zp). */
export function dynamicQuantize(x: tf.Tensor): { xc: tf.Tensor; scale: number; zp: number } {
  const minMax = tf.tidy(() => tf.stack([tf.min(x), tf.max(x)]));
  const [lo, hi] = minMax.dataSync() as Float32Array;
  minMax.dispose();
  const min = Math.min(lo!, 0), max = Math.max(hi!, 0);
  const scale = max === min ? 1 : f32(f32(max - min) / 255);
  const zp = roundHalfEven(Math.min(255, Math.max(0, -f32(min / scale))));
  return { xc: tf.tidy(() => tf.clipByValue(tf.round(tf.div(x, scale)), -zp, 255 - zp)), scale, zp };
}

/** saturate(round(v) + zp): round half to even (tf.round), saturated to the 8-bit type `dtype`; int32 result. */
export function saturate(v: tf.Tensor, zp: tf.Tensor | undefined, dtype: DType): tf.Tensor {
  const [lo, hi] = RANGE[dtype]!;
  const r = tf.round(v);
  return tf.cast(tf.clipByValue(zp ? tf.add(r, tf.cast(zp, 'float32')) : r, lo, hi), 'int32');
}

/** An integer accumulator requantized: saturate(round(acc · scale) + zp). */
export function requantize(acc: tf.Tensor, scale: tf.Tensor, zp: tf.Tensor | undefined, dtype: DType): tf.Tensor {
  return saturate(tf.mul(tf.cast(acc, 'float32'), scale), zp, dtype);
}

// ---- exactness --------------------------------------------------------------------------------------------------------

/** float32 holds every integer up to 2^24 exactly: a chunk whose Σ|terms| ≤ EXACT sums exactly in any order. */
export const EXACT = 2 ** 24;

/** How a reduction of `steps` steps (each `taps` terms of |x| ≤ xBound times |w| ≤ wBound) stays exact: chunks of
 *  `per` steps, on x itself or — when a single step could already overflow (a kernel over 258 taps at full 8-bit
 *  ranges) — on its two base-16 digits. */
function exactPlan(xBound: number, wBound: number, taps: number, steps: number): { split: boolean; per: number } {
  const per = (b: number) => (b * wBound * taps === 0 ? steps : Math.floor(EXACT / (b * wBound * taps)));
  return per(xBound) >= 1 ? { split: false, per: per(xBound) } : { split: true, per: Math.max(1, per(16)) };
}

/** x as the terms the plan multiplies: itself, or its base-16 digits (x = 16·hi + lo, hi = floor(x/16), lo ∈ [0, 15]). */
function digits(x: tf.Tensor, split: boolean): tf.Tensor[] {
  if (!split) return [x];
  const hi = tf.floor(tf.div(x, 16));
  return [hi, tf.sub(x, tf.mul(hi, 16))];
}

/** Per-digit exact results (float32 or int32) combined into one: 16·hi + lo in int32. */
function undigit(parts: tf.Tensor[]): tf.Tensor {
  if (parts.length === 1) return parts[0]!;
  const [h, l] = parts.map(p => tf.cast(p, 'int32')) as [tf.Tensor, tf.Tensor];
  return tf.add(tf.mul(h, tf.scalar(16, 'int32')), l);   // a plain 16 would make tfjs compute in float32
}

/** Chunk results (float32 with exact integers) summed in int32; a single chunk is returned as it is. */
function accumulate(acc: tf.Tensor | undefined, part: tf.Tensor, chunked: boolean): tf.Tensor {
  if (!chunked) return part;
  const p = tf.cast(part, 'int32');
  part.dispose();
  if (!acc) return p;
  const s = tf.add(acc, p);
  acc.dispose();
  p.dispose();
  return s;
}

/** Σ over chunks [k0, k1) of `per` steps and over x's digits of product(x-digit, k0, k1, widened weight chunk),
 *  exactly. `weights(k0, k1)` is widened once per chunk and shared by the digits. */
function chunkedProduct(xs: tf.Tensor[], steps: number, per: number, weights: (k0: number, k1: number) => tf.Tensor,
  product: (x: tf.Tensor, k0: number, k1: number, w: tf.Tensor, chunked: boolean) => tf.Tensor): tf.Tensor {
  const chunked = per < steps;
  const acc: (tf.Tensor | undefined)[] = xs.map(() => undefined);
  for (let k0 = 0; k0 < steps; k0 += per) {
    const k1 = Math.min(steps, k0 + per), w = weights(k0, k1);
    xs.forEach((xd, d) => { acc[d] = accumulate(acc[d], tf.tidy(() => product(xd, k0, k1, w, chunked)), chunked); });
    w.dispose();
  }
  return undigit(acc as tf.Tensor[]);
}

// ---- matrix products ------------------------------------------------------------------------------------------------

/** B on the host: [batch, k, n] integers and zero points (1, n per column, or batch·n). */
export interface HostMatrix { data: IntArray; zp: Int32Array; batch: number; k: number; n: number; bound: number }

export function hostMatrix(b: ConstTensor, zp: Int32Array, shape: readonly number[]): HostMatrix {
  const bs = shape.length === 1 ? [shape[0]!, 1] : shape;
  const [k, n] = bs.slice(-2) as [number, number];
  return { data: b.data as IntArray, zp, batch: numel(bs.slice(0, -2)), k, n, bound: spread(b.dtype, zp) };
}

/** Rows [k0, k1) of every batch of B − zp, as float32 [batch, k1−k0, n]. */
function bRows(b: HostMatrix, k0: number, k1: number): tf.Tensor3D {
  const { data, zp, batch, k, n } = b, kc = k1 - k0;
  const raw = filledTensor([batch, kc, n], out => {
    for (let p = 0; p < batch; p++) out.set(data.subarray((p * k + k0) * n, (p * k + k1) * n), p * kc * n);
  });
  return minusZeroPoint(raw, zp, zp.length === n ? [n] : [batch, 1, n]) as tf.Tensor3D;
}

/** Exact a·(B − zp) for a (float32 integers, |a| ≤ aBound) [P, K] — or [batch, M, K] with a batched B: float32 when
 *  a single chunk holds it, else int32. With one B and fewer rows P than B has columns it computes (Bᵀ·aᵀ)ᵀ, so
 *  XNNPACK packs aᵀ rather than the larger B. */
export function intMatMul(a: tf.Tensor, b: HostMatrix, aBound: number): tf.Tensor {
  const plan = exactPlan(aBound, b.bound, 1, b.k);
  if (b.batch === 1 && a.shape[0]! < b.n) {
    const aT = tf.transpose(a), xs = digits(aT, plan.split);
    const yT = chunkedProduct(xs, b.k, plan.per,
      (k0, k1) => tf.tidy(() => tf.transpose(tf.reshape(bRows(b, k0, k1), [k1 - k0, b.n]))),
      (x, k0, k1, w, chunked) => tf.matMul(w as tf.Tensor2D, (chunked ? range(x, 0, k0, k1) : x) as tf.Tensor2D));
    tf.dispose([aT, ...xs]);
    return tf.transpose(yT);
  }
  const xs = digits(a, plan.split);
  const y = chunkedProduct(xs, b.k, plan.per, (k0, k1) => bRows(b, k0, k1), (x, k0, k1, w, chunked) => {
    const xc = chunked ? range(x, 'last', k0, k1) : x;
    return b.batch === 1 ? tf.matMul(xc as tf.Tensor2D, tf.reshape(w, [k1 - k0, b.n]) as tf.Tensor2D) : tf.matMul(xc as tf.Tensor3D, w as tf.Tensor3D);
  });
  if (plan.split) tf.dispose(xs);
  return y;
}

// ---- convolution ------------------------------------------------------------------------------------------------------

/** Conv weights on the host in ONNX layout [M, C/group, kh, kw] (a 1-D conv's [M, C/group, k] as kh = 1). */
export interface HostFilter { data: IntArray; zp: Int32Array; m: number; cg: number; kh: number; kw: number; bound: number }

export function hostFilter(w: ConstTensor, zp: Int32Array, shape: readonly number[]): HostFilter {
  const [m, cg, kh, kw] = (shape.length === 3 ? [shape[0]!, shape[1]!, 1, shape[2]!] : shape) as [number, number, number, number];
  return { data: w.data as IntArray, zp, m, cg, kh, kw, bound: spread(w.dtype, zp) };
}

/** Input channels [c0, c1) × output channels [m0, m1) of W − zp as a tfjs filter [kh, kw, c1−c0, m1−m0]: one
 *  contiguous run per output channel widened natively, then transposed and shifted by the zero point on the backend. */
function filterChunk(f: HostFilter, c0: number, c1: number, m0: number, m1: number): tf.Tensor4D {
  const { data, zp, cg, kh, kw } = f, cc = c1 - c0, mm = m1 - m0, khw = kh * kw;
  const raw = filledTensor([mm, cc, kh, kw], out => {
    for (let j = m0; j < m1; j++) out.set(data.subarray((j * cg + c0) * khw, (j * cg + c1) * khw), (j - m0) * cc * khw);
  });
  const hwio = tf.transpose(raw, [2, 3, 1, 0]);
  raw.dispose();
  return minusZeroPoint(hwio, zp.length === 1 ? zp : zp.subarray(m0, m1), [mm]) as tf.Tensor4D;
}

/** Columns [k0, k1) of W − zp seen as [M, C·kh·kw] (ONNX order: channel, then tap), as float32 [M, k1−k0]. */
function filterColumns(f: HostFilter, k0: number, k1: number): tf.Tensor2D {
  const { data, zp, m, cg, kh, kw } = f, k = cg * kh * kw, kc = k1 - k0;
  const raw = filledTensor([m, kc], out => { for (let j = 0; j < m; j++) out.set(data.subarray(j * k + k0, j * k + k1), j * kc); });
  return minusZeroPoint(raw, zp, [m, 1]) as tf.Tensor2D;
}

type Conv2dCall = Parameters<typeof conv2dNhwc>[3];

function convCall(g: Geometry, group: number, depthwise: boolean): Conv2dCall {
  const two = (v: number[], pad: number) => (v.length === 1 ? [pad, v[0]!] : v) as [number, number];
  const [bh, bw] = two(g.begin, 0), [eh, ew] = two(g.end, 0);
  return {
    strides: two(g.strides, 1), dilations: two(g.dilations, 1), pad: [[0, 0], [bh, eh], [bw, ew], [0, 0]],
    group, depthwise, activation: '', alpha: 0,
  };
}

/** im2col, transposed: [C·kh·kw, P] with rows in ONNX weight order (channel, then tap) and one column per output
 *  position; taps falling in the padding stay 0 (x is already minus its zero point, so that is the zero point). */
function patchesT(x: tf.Tensor4D, f: HostFilter, call: Conv2dCall, [oh, ow]: [number, number]): tf.Tensor2D {
  const [nb, h, w, c] = x.shape, p = nb * oh * ow, [sh, sw] = call.strides, [dh, dw] = call.dilations;
  const top = call.pad[1][0], left = call.pad[2][0];
  return filledTensor([c * f.kh * f.kw, p], (out, src) => {
    out.fill(0);
    for (let ci = 0; ci < c; ci++) {
      for (let i = 0; i < f.kh; i++) {
        for (let j = 0; j < f.kw; j++) {
          const row = ((ci * f.kh + i) * f.kw + j) * p;
          for (let b = 0; b < nb; b++) {
            for (let oy = 0; oy < oh; oy++) {
              const iy = oy * sh - top + i * dh;
              if (iy < 0 || iy >= h) continue;
              const o = row + (b * oh + oy) * ow, s = (b * h + iy) * w;
              for (let ox = 0; ox < ow; ox++) {
                const ix = ox * sw - left + j * dw;
                if (ix >= 0 && ix < w) out[o + ox] = src![(s + ix) * c + ci]!;
              }
            }
          }
        }
      }
    }
  }, x) as tf.Tensor2D;
}

/** x: NHWC float32 integers with |x| ≤ xBound. Exact convolution with `f`, NHWC: float32 when a single chunk holds
 *  it, else int32. When output positions are fewer than output channels (late CNN layers) it is Wᵀ·im2col(x)ᵀ
 *  chunked along C·kh·kw, so XNNPACK packs the patches rather than the larger weights; otherwise a tfjs conv chunked
 *  along input channels. */
export function intConv(x: tf.Tensor4D, f: HostFilter, group: number, g: Geometry, xBound: number): tf.Tensor {
  const call = convCall(g, group, false), [oh, ow] = (g.out.length === 1 ? [1, g.out[0]!] : g.out) as [number, number];
  const positions = x.shape[0] * oh * ow, khw = f.kh * f.kw;
  if (group === 1 && positions < f.m) {
    const pt = patchesT(x, f, call, [oh, ow]), k = f.cg * khw, plan = exactPlan(xBound, f.bound, 1, k), xs = digits(pt, plan.split);
    const yT = chunkedProduct(xs, k, plan.per, (k0, k1) => filterColumns(f, k0, k1),
      (xd, k0, k1, w, chunked) => tf.matMul(w as tf.Tensor2D, (chunked ? range(xd, 0, k0, k1) : xd) as tf.Tensor2D));
    tf.dispose([pt, ...xs]);
    return tf.reshape(tf.transpose(yT), [x.shape[0], oh, ow, f.m]);
  }
  if (group > 1 && f.cg === 1 && khw * xBound * f.bound <= EXACT) {   // depthwise: one window per output
    const filter = tf.reshape(filterChunk(f, 0, 1, 0, f.m), [f.kh, f.kw, group, f.m / group]) as tf.Tensor4D;
    return conv2dNhwc(x, filter, undefined, { ...call, depthwise: true });
  }
  const plan = exactPlan(xBound, f.bound, khw, f.cg), xs = digits(x, plan.split), mg = f.m / group, one = { ...call, group: 1 };
  const outs = Array.from({ length: group }, (_, gi) => chunkedProduct(xs, f.cg, plan.per,
    (c0, c1) => filterChunk(f, c0, c1, gi * mg, (gi + 1) * mg),
    (xd, c0, c1, w, chunked) => conv2dNhwc((group > 1 || chunked ? range(xd, 'last', gi * f.cg + c0, gi * f.cg + c1) : xd) as tf.Tensor4D, w as tf.Tensor4D, undefined, one)));
  if (plan.split) tf.dispose(xs);
  return outs.length === 1 ? outs[0]! : tf.concat(outs, 3);
}

