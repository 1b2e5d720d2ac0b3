// Resize (10, 11–19) and the deprecated Upsample (7, 9), exact to the ONNX reference (onnx/reference/ops/
// op_resize.py): every mode (nearest, linear, cubic), coordinate transformation, nearest rounding, cubic_coeff_a,
// exclude_outside, extrapolation_value, antialias (18), axes and keep_aspect_ratio_policy (18), half_pixel_symmetric
// (19).
// The reference interpolates each output point over its neighbours axis by axis; the weights along one axis depend
// only on that axis's coordinate, so this runs as one 1-D host pass per resized axis, in float64 as the reference
// (nearest copies, any dtype). Where the reference and the operator text differ, the reference wins: an output
// length of 1 under pytorch_half_pixel samples at -0.5 (the text says 0; linear gives the same, cubic does not).
// Resize-10 and Upsample map coordinates asymmetrically and round nearest down when enlarging, up when shrinking
// (the only rule those opsets had; onnxruntime's). roi/scales/sizes must be known when planning.

import * as tf from '@tensorflow/tfjs-core';
import type { ConstTensor } from '../src/ir/graph.js';
import { kindOf } from './check.js';
import { op, type InferView, type NodeView, type OpDef, type RunCtx, type ValueInfo } from './types.js';
import { normAxis, numel } from './util.js';

type Mode = 'nearest' | 'linear' | 'cubic';
type Policy = 'stretch' | 'not_larger' | 'not_smaller';
const COORDS = ['half_pixel', 'half_pixel_symmetric', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn', 'tf_crop_and_resize'] as const;
const NEARESTS = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'] as const;
type Coord = typeof COORDS[number];
type Nearest = typeof NEARESTS[number] | 'legacy';

interface ResizeAttrs {
  mode: Mode; coord: Coord; nearest: Nearest; cubicA: number; excludeOutside: boolean; extrapolation: number;
  antialias: boolean; axes?: number[]; policy: Policy;
  scalesAttr?: number[];                                  // Upsample-7
  roi: number; scales: number; sizes: number;             // input slots (-1: the op has none)
}

/** Per axis: input and output length, the scale the coordinates use, and the roi span (tf_crop_and_resize). */
interface AxisPlan { axis: number; inLen: number; outLen: number; scale: number; roi: [number, number] }
interface ResizePlan { outShape: number[]; axes: AxisPlan[] }

const oneOf = <T extends string>(n: NodeView, name: string, v: string, allowed: readonly string[]): T => {
  if (!allowed.includes(v)) n.fail(`${name} '${v}' is not one of ${allowed.map(a => `'${a}'`).join(', ')}${n.opType === 'Resize' ? ` at opset ${n.opset}` : ''}`);
  return v as T;
};

function parseResize(n: NodeView, legacy: boolean): ResizeAttrs {
  const modes = n.opset >= 11 && !legacy ? ['nearest', 'linear', 'cubic'] : ['nearest', 'linear'];
  const mode = oneOf<Mode>(n, 'mode', n.attrs.string('mode', 'nearest'), modes);
  const base = { mode, cubicA: -0.75, excludeOutside: false, extrapolation: 0, antialias: false, policy: 'stretch' as Policy };
  if (legacy) {
    const upsample7 = n.opType === 'Upsample' && n.opset < 9;
    return { ...base, coord: 'asymmetric', nearest: 'legacy', scalesAttr: upsample7 ? n.attrs.floats('scales') : undefined,
      roi: -1, scales: upsample7 ? -1 : 1, sizes: -1 };
  }
  const coords = COORDS.filter(c => c !== 'half_pixel_symmetric' || n.opset >= 19);
  const v18 = n.opset >= 18;
  for (const a of ['antialias', 'axes', 'keep_aspect_ratio_policy']) n.check(v18 || !n.attrs.has(a), () => `attribute '${a}' needs opset 18 (the model imports ${n.opset})`);
  return {
    ...base,
    coord: oneOf<Coord>(n, 'coordinate_transformation_mode', n.attrs.string('coordinate_transformation_mode', 'half_pixel'), coords),
    nearest: oneOf<Nearest>(n, 'nearest_mode', n.attrs.string('nearest_mode', 'round_prefer_floor'), NEARESTS),
    cubicA: n.attrs.float('cubic_coeff_a', -0.75),
    excludeOutside: n.attrs.int('exclude_outside', 0) !== 0,
    extrapolation: n.attrs.float('extrapolation_value', 0),
    antialias: n.attrs.int('antialias', 0) !== 0,
    axes: n.attrs.optInts('axes'),
    policy: oneOf<Policy>(n, 'keep_aspect_ratio_policy', n.attrs.string('keep_aspect_ratio_policy', 'stretch'), ['stretch', 'not_larger', 'not_smaller']),
    roi: 1, scales: 2, sizes: 3,
  };
}

const values = (c: ConstTensor | undefined) => (c ? Array.from(c.data as ArrayLike<number | bigint>, Number) : []);

/** Output shape and per-axis scales from scales or sizes, as the reference's _interpolate_nd works them out. */
function planResize(n: NodeView, shape: readonly number[], a: ResizeAttrs, input: (i: number) => ConstTensor | undefined, given: (i: number) => boolean): ResizePlan {
  const r = shape.length;
  const axes = a.axes ? a.axes.map(x => normAxis(n, x, r, 'axes entry')) : shape.map((_, i) => i);
  n.check(new Set(axes).size === axes.length, () => `axes [${a.axes}] name an axis twice`);
  const need = (i: number, what: string) => {
    if (i < 0 || !given(i)) return [];
    const c = input(i);
    if (!c) n.fail(`${what} (input ${i}) must be a constant when planning: the output shape depends on it`);
    return values(c);
  };
  const scalesIn = a.scalesAttr ?? need(a.scales, 'scales'), sizesIn = need(a.sizes, 'sizes');
  n.check(!(scalesIn.length && sizesIn.length), () => 'scales and sizes are both given; only one may be');
  n.check(scalesIn.length || sizesIn.length, () => 'neither scales nor sizes is given');
  const list = scalesIn.length ? scalesIn : sizesIn, what = scalesIn.length ? 'scales' : 'sizes';
  n.check(list.length === axes.length, () => `${what} has ${list.length} values, expected ${axes.length} (${a.axes ? 'one per axes entry' : `the input's rank`})`);
  const scale = shape.map(() => 1), out = [...shape];
  if (scalesIn.length) {
    axes.forEach((ax, i) => {
      n.check(scalesIn[i]! > 0, () => `scales [${scalesIn.join(', ')}] must be positive`);
      scale[ax] = scalesIn[i]!;
      out[ax] = Math.floor(scalesIn[i]! * shape[ax]!);
    });
  } else {
    axes.forEach((ax, i) => {
      n.check(sizesIn[i]! >= 0 && Number.isInteger(sizesIn[i]), () => `sizes [${sizesIn.join(', ')}] must be non-negative integers`);
      out[ax] = sizesIn[i]!;
      scale[ax] = sizesIn[i]! / shape[ax]!;
    });
    if (a.policy !== 'stretch') {
      const s = (a.policy === 'not_larger' ? Math.min : Math.max)(...axes.map(ax => scale[ax]!));
      for (const ax of axes) { scale[ax] = s; out[ax] = Math.floor(s * shape[ax]! + 0.5); }
    }
  }
  const roiIn = a.coord === 'tf_crop_and_resize' ? need(a.roi, 'roi') : [];
  n.check(!roiIn.length || roiIn.length === 2 * axes.length, () => `roi has ${roiIn.length} values, expected ${2 * axes.length} (starts then ends)`);
  const roi = (ax: number): [number, number] => {
    const i = axes.indexOf(ax);
    return roiIn.length && i >= 0 ? [roiIn[i]!, roiIn[axes.length + i]!] : [0, 1];
  };
  return { outShape: out, axes: shape.map((d, ax) => ({ axis: ax, inLen: d, outLen: out[ax]!, scale: scale[ax]!, roi: roi(ax) })) };
}

// ---- one axis: which input indices each output index reads, with which weights ---------------------------------

/** The input coordinate of output index x (undefined: outside the crop, take extrapolation_value). */
function sourceCoord(x: number, p: AxisPlan, coord: Coord): number | undefined {
  const s = p.scale, inLen = p.inLen, outWidth = s * inLen;   // the reference's float output width
  switch (coord) {
    case 'half_pixel': return (x + 0.5) / s - 0.5;
    case 'half_pixel_symmetric': {
      const offset = (inLen / 2) * (1 - p.outLen / outWidth);
      return offset + (x + 0.5) / s - 0.5;
    }
    case 'pytorch_half_pixel': return outWidth === 1 ? -0.5 : (x + 0.5) / s - 0.5;
    case 'align_corners': return outWidth === 1 ? 0 : (x * (inLen - 1)) / (outWidth - 1);
    case 'asymmetric': return x / s;
    case 'tf_half_pixel_for_nn': return (x + 0.5) / s;
    case 'tf_crop_and_resize': {
      const [r0, r1] = p.roi;
      const v = (outWidth === 1 ? ((r1 - r0) * (inLen - 1)) / 2 : (x * (r1 - r0) * (inLen - 1)) / (outWidth - 1)) + r0 * (inLen - 1);
      return v < 0 || v > inLen - 1 ? undefined : v;
    }
  }
}

function cubic(x: number, A: number): number {
  x = Math.abs(x);
  if (x <= 1) return ((A + 2) * x - (A + 3)) * x * x + 1;
  if (x < 2) return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
  return 0;
}

/** Weights of the neighbours i0 + start … i0 + start + n - 1 for ratio = x - i0 in (0, 1]. */
function coefficients(ratio: number, scale: number, a: ResizeAttrs, downsample: boolean): { start: number; w: number[] } {
  if (a.mode === 'nearest') {
    const pick = ratio === 1 ? 1 : a.nearest === 'round_prefer_floor' ? +(ratio > 0.5) : a.nearest === 'round_prefer_ceil' ? +(ratio >= 0.5)
      : a.nearest === 'floor' ? 0 : a.nearest === 'ceil' ? 1 : +downsample;   // legacy: ceil when shrinking
    return { start: 0, w: pick ? [0, 1] : [1, 0] };
  }
  const s = a.antialias ? Math.min(scale, 1) : 1;
  if (a.mode === 'linear') {
    if (!a.antialias) return { start: 0, w: [1 - ratio, ratio] };
    const start = Math.floor(-1 / s) + 1, w = Array.from({ length: 2 - 2 * start }, (_, i) => Math.min(1, Math.max(0, 1 - Math.abs((start + i - ratio) * s))));
    return { start, w: normalised(w) };
  }
  if (!a.antialias) return { start: -1, w: [1 + ratio, ratio, 1 - ratio, 2 - ratio].map(v => cubic(v, a.cubicA)) };
  const start = Math.floor(-2 / s) + 1;
  return { start, w: normalised(Array.from({ length: 2 - 2 * start }, (_, i) => cubic(s * (start + i - ratio), a.cubicA))) };
}

function normalised(w: number[]): number[] {
  const sum = w.reduce((p, v) => p + v, 0);
  return w.map(v => v / sum);
}

/** Per output index: input indices (clamped to the edge, as the reference's edge padding) and weights, or null. */
type Taps = ({ idx: number[]; w: number[] } | null)[];

function axisTaps(p: AxisPlan, a: ResizeAttrs): Taps {
  const downsample = p.scale < 1;
  // tf_half_pixel_for_nn (which the reference does not implement) shifts even an axis of scale 1 by half a cell:
  // as TensorFlow and onnxruntime, such an axis (batch, channels) stays as it is.
  if (a.coord === 'tf_half_pixel_for_nn' && p.scale === 1) return Array.from({ length: p.outLen }, (_, x) => ({ idx: [x], w: [1] }));
  return Array.from({ length: p.outLen }, (_, x) => {
    const xo = sourceCoord(x, p, a.coord);
    if (xo === undefined) return null;
    const i0 = Number.isInteger(xo) ? xo - 1 : Math.floor(xo);
    const { start, w } = coefficients(xo - i0, p.scale, a, downsample);
    const raw = w.map((_, k) => i0 + start + k);
    let weights = w;
    if (a.excludeOutside && a.mode !== 'nearest') weights = normalised(w.map((v, k) => (raw[k]! < 0 || raw[k]! >= p.inLen ? 0 : v)));
    const idx: number[] = [], ws: number[] = [];
    raw.forEach((j, k) => { if (weights[k] !== 0) { idx.push(Math.min(Math.max(j, 0), p.inLen - 1)); ws.push(weights[k]!); } });
    return { idx, w: ws };
  });
}

/** True when the taps copy the axis unchanged. */
const isIdentity = (t: Taps, p: AxisPlan) => p.inLen === p.outLen && t.every((e, x) => e && e.idx.length === 1 && e.idx[0] === x && e.w[0] === 1);

// ---- running ---------------------------------------------------------------------------------------------------

type HostArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/** An axis's taps packed flat: output x reads idx[x·t + k] with weight w[x·t + k], k < t (unused taps weigh 0);
 *  fill[x] = 1 where it takes extrapolation_value instead. */
interface Packed { axis: AxisPlan; t: number; idx: Int32Array; w: Float64Array; fill: Uint8Array; pick: Int32Array }

function pack(axis: AxisPlan, taps: Taps): Packed {
  const t = Math.max(1, ...taps.map(e => e?.idx.length ?? 0)), n = taps.length;
  const p: Packed = { axis, t, idx: new Int32Array(n * t), w: new Float64Array(n * t), fill: new Uint8Array(n), pick: new Int32Array(n) };
  taps.forEach((e, x) => {
    if (!e) { p.fill[x] = 1; return; }
    e.idx.forEach((j, k) => { p.idx[x * t + k] = j; p.w[x * t + k] = e.w[k]!; });
    p.pick[x] = e.idx[e.w.indexOf(Math.max(...e.w))] ?? 0;   // nearest: the one tap there is
  });
  return p;
}

/** One axis of src [outer, inLen, inner] interpolated into dst [outer, outLen, inner] (zeros on entry). */
function interpolateAxis(src: HostArray, dst: Float64Array, outer: number, inner: number, p: Packed, fillValue: number): void {
  const { t, idx, w, fill } = p, inLen = p.axis.inLen, outLen = p.axis.outLen;
  for (let o = 0; o < outer; o++) {
    const sb = o * inLen, db = o * outLen;
    for (let x = 0; x < outLen; x++) {
      const d = (db + x) * inner;
      if (fill[x]) { dst.fill(fillValue, d, d + inner); continue; }
      if (inner === 1) {
        let acc = 0;
        for (let k = x * t; k < x * t + t; k++) acc += w[k]! * src[sb + idx[k]!]!;
        dst[d] = acc;
        continue;
      }
      for (let k = x * t; k < x * t + t; k++) {
        const s = (sb + idx[k]!) * inner, wk = w[k]!;
        if (wk !== 0) for (let i = 0; i < inner; i++) dst[d + i]! += wk * src[s + i]!;
      }
    }
  }
}

/** Nearest along one axis: a copy of the chosen input index per output index (any dtype, exact), or the fill. */
function gatherAxis(src: HostArray, dst: HostArray, outer: number, inner: number, p: Packed, fillValue: number): void {
  const inLen = p.axis.inLen, outLen = p.axis.outLen, pick = p.pick, fill = p.fill;
  for (let o = 0; o < outer; o++) {
    for (let x = 0; x < outLen; x++) {
      const s = (o * inLen + pick[x]!) * inner, d = (o * outLen + x) * inner;
      if (fill[x]) dst.fill(fillValue, d, d + inner);
      else if (inner === 1) dst[d] = src[s]!;
      else dst.set(src.subarray(s, s + inner), d);
    }
  }
}

/** A step's state: the packed taps of each axis that changes, worked out when planning. */
function planSteps(n: NodeView, a: ResizeAttrs, c: RunCtx): Packed[] {
  const plan = planResize(n, c.inputs[0]!.shape, a, i => c.consts[i], i => !!c.inputs[i] && numel(c.inputs[i]!.shape) > 0);
  return plan.axes.map(axis => ({ axis, taps: axisTaps(axis, a) })).filter(s => !isIdentity(s.taps, s.axis)).map(s => pack(s.axis, s.taps));
}

function resizeRun(x: tf.Tensor, a: ResizeAttrs, work: Packed[]): tf.Tensor {
  const shape = [...x.shape];
  let data = x.dataSync() as HostArray;
  if (work.length === 0) return tf.tensor(data.slice(), shape, x.dtype);
  for (const p of work) {
    const outer = numel(shape.slice(0, p.axis.axis)), inner = numel(shape.slice(p.axis.axis + 1));
    shape[p.axis.axis] = p.axis.outLen;
    if (a.mode === 'nearest') {
      const dst = new (data.constructor as new (n: number) => HostArray)(numel(shape));
      gatherAxis(data, dst, outer, inner, p, a.extrapolation);
      data = dst;
    } else {
      const dst = new Float64Array(numel(shape));   // the reference interpolates in float64 and rounds once
      interpolateAxis(data, dst, outer, inner, p, a.extrapolation);
      data = dst;
    }
  }
  return tf.tensor(data instanceof Float64Array ? Float32Array.from(data) : data, shape, x.dtype);
}

function inferResize(n: InferView, inputs: readonly (ValueInfo | undefined)[], a: ResizeAttrs): ValueInfo[] {
  const x = inputs[0];
  if (!x) n.fail('input X is required');
  const kind = kindOf(x.dtype);
  n.check(kind && (kind === 'float' || a.mode === 'nearest'), () => `input X is ${x.dtype}: ${a.mode} resizing takes float tensors (nearest any numeric or bool)`);
  const plan = planResize(n, x.shape, a, i => n.constant(i), i => n.has(i) && numel(inputs[i]?.shape ?? [0]) > 0);
  return [{ dtype: x.dtype, shape: plan.outShape }];
}

function resizeOp(opType: 'Resize' | 'Upsample', since: number, legacy: boolean) {
  return op({
    opType, since, dataDependent: legacy ? (since >= 9 ? [1] : undefined) : [1, 2, 3],
    parse: (n: NodeView) => parseResize(n, legacy),
    infer: inferResize,
    plan: (n, _x, a, c) => planSteps(n, a, c),
    run: ([x], a, _c, work) => [resizeRun(x!, a, work)],
  });
}

// Resize-13 only made roi and scales optional (11 is read as leniently); 18 added antialias, axes and
// keep_aspect_ratio_policy, 19 half_pixel_symmetric: parse admits each from its opset on.
export const RESIZE_OPS: OpDef<any>[] = [
  resizeOp('Resize', 10, true), resizeOp('Resize', 11, false), resizeOp('Resize', 18, false), resizeOp('Resize', 19, false),
  resizeOp('Upsample', 7, true), resizeOp('Upsample', 9, true),
];
