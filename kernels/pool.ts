// Pooling: ONNX MaxPool / AveragePool (NCHW, any spatial rank), GlobalAveragePool / GlobalMaxPool, and the NHWC
// twins the to-nhwc pass emits (local:NhwcMaxPool, NhwcAveragePool, NhwcGlobalAveragePool, NhwcGlobalMaxPool).
// 1-D/2-D windows that each touch the input run as one tfjs-wasm (XNNPACK) call, which skips padding cells (max)
// and leaves them out of the divisor (average); dilations, Indices, 3-D and all-padding windows take an exact
// strided-slice path. One definition per op: later opsets only added attributes (read here with spec defaults).

import * as tf from '@tensorflow/tfjs-core';
import { parseWindow, windowGeometry, type Geometry, type WindowSpec } from './conv.js';
import { op, type NodeView, type OpDef, type ValueInfo } from './types.js';
import { isFloat } from './util.js';

interface PoolAttrs {
  kind: 'max' | 'avg';
  win: WindowSpec;
  kernel: number[];
  countPad: boolean;      // AveragePool count_include_pad
  storageOrder: number;   // MaxPool Indices: 0 row-major, 1 column-major
  indices: boolean;       // MaxPool's second output is wanted
}

function parsePool(n: NodeView, kind: 'max' | 'avg', local: boolean): PoolAttrs {
  const win = parseWindow(n, { ceil: true });
  if (!win.kernel) n.fail(`required attribute 'kernel_shape' is missing`);
  const storageOrder = kind === 'max' ? n.attrs.int('storage_order', 0) : 0;
  if (storageOrder !== 0 && storageOrder !== 1) n.fail(`storage_order ${storageOrder} must be 0 (row major) or 1 (column major)`);
  const indices = kind === 'max' && !!n.outputs[1];
  if (indices && local) n.fail('the Indices output is only produced by the NCHW MaxPool');
  return { kind, win, kernel: win.kernel, countPad: kind === 'avg' && n.attrs.int('count_include_pad', 0) !== 0, storageOrder, indices };
}

function checkInput(n: NodeView, x: ValueInfo | undefined, kind: 'max' | 'avg', minRank = 3): ValueInfo {
  if (!x) n.fail('input X is required');
  const intOk = kind === 'max' && (x.dtype === 'uint8' || x.dtype === 'int8');
  if (!isFloat(x.dtype) && !intOk) n.fail(`input is ${x.dtype}; ${kind === 'max' ? 'MaxPool takes float, int8 or uint8' : 'only float is supported'}`);
  if (x.shape.length < minRank) n.fail(`input must have rank ≥ ${minRank} ([N, C, spatial…]), got [${x.shape.join(', ')}]`);
  return x;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

/** True when XNNPACK's pooling computes exactly this window: 1-D/2-D, no dilation, every window touches the input. */
function xnnpackFits(g: Geometry): boolean {
  return g.kernel.length <= 2 && g.dilations.every(d => d === 1) &&
    g.kernel.every((k, i) => g.begin[i]! < k && (g.out[i]! - 1) * g.strides[i]! - g.begin[i]! < g.input[i]!);
}

/** Geometry of a 1-D window as a 2-D one with a leading axis of size 1. */
function lift(g: Geometry): Geometry {
  if (g.kernel.length === 2) return g;
  const pre = (v: number[], d: number) => [d, ...v];
  return {
    input: pre(g.input, 1), kernel: pre(g.kernel, 1), strides: pre(g.strides, 1), dilations: pre(g.dilations, 1),
    out: pre(g.out, 1), begin: pre(g.begin, 0), end: pre(g.end, 0), extra: pre(g.extra, 0),
  };
}

/** x: [N, H, W, C]. One XNNPACK pooling call; ceil_mode becomes extra trailing padding (ignored by XNNPACK). */
function xnnpackPool(x: tf.Tensor4D, g: Geometry, a: PoolAttrs): tf.Tensor4D {
  const [kh, kw] = g.kernel as [number, number], strides = g.strides as [number, number];
  if (a.kind === 'avg' && a.countPad) {
    // count_include_pad: real zero padding counts in the divisor, ceil_mode's extra cells do not.
    const padded = tf.pad(x, [[0, 0], [g.begin[0]!, g.end[0]!], [g.begin[1]!, g.end[1]!], [0, 0]]);
    return tf.avgPool(padded, [kh, kw], strides, [[0, 0], [0, g.extra[0]!], [0, g.extra[1]!], [0, 0]]);
  }
  const pad: [[0, 0], [number, number], [number, number], [0, 0]] =
    [[0, 0], [g.begin[0]!, g.end[0]! + g.extra[0]!], [g.begin[1]!, g.end[1]! + g.extra[1]!], [0, 0]];
  return a.kind === 'max' ? tf.maxPool(x, [kh, kw], strides, pad) : tf.avgPool(x, [kh, kw], strides, pad);
}

/**
 * The NCHW flat index of every element of channels-last x [N, …spatial, C] (what MaxPool's Indices report), held in
 * float32 (exact below 2^24 elements): tfjs-wasm's StridedSlice mislabels int32 results as float32.
 */
function flatIndex(shape: readonly number[], storageOrder: number): tf.Tensor {
  const r = shape.length - 2, sp = shape.slice(1, -1), plane = sp.reduce((p, d) => p * d, 1);
  const n = shape[0]!, c = shape[r + 1]!;
  const axis = (len: number, step: number, at: number) =>
    tf.reshape(tf.range(0, len * step, step, 'float32'), shape.map((_, i) => (i === at ? len : 1)));
  let t = tf.add(axis(n, c * plane, 0), axis(c, plane, r + 1));
  sp.forEach((len, i) => {
    const step = storageOrder === 0 ? sp.slice(i + 1).reduce((p, d) => p * d, 1) : sp.slice(0, i).reduce((p, d) => p * d, 1);
    t = tf.add(t, axis(len, step, i + 1));
  });
  return t;
}

/** Every kernel offset of a window, e.g. [[0,0],[0,1],[1,0],[1,1]] for 2×2. */
function offsets(kernel: readonly number[]): number[][] {
  return kernel.reduce<number[][]>((acc, k) => acc.flatMap(o => range(0, k).map(j => [...o, j])), [[]]);
}

/** Exact pooling of channels-last x [N, …spatial, C] for any rank and dilation: one strided slice per offset. */
function slicedPool(x: tf.Tensor, g: Geometry, a: PoolAttrs): tf.Tensor[] {
  const r = g.kernel.length, n = x.shape[0]!, c = x.shape[r + 1]!;
  const padding = [[0, 0], ...range(0, r).map(i => [g.begin[i]!, g.end[i]! + g.extra[i]!]), [0, 0]] as [number, number][];
  const window = (t: tf.Tensor, o: number[]) => tf.stridedSlice(t,
    [0, ...o.map((k, i) => k * g.dilations[i]!), 0],
    [t.shape[0]!, ...o.map((k, i) => k * g.dilations[i]! + (g.out[i]! - 1) * g.strides[i]! + 1), t.shape[r + 1]!],
    [1, ...g.strides, 1]);
  const sum = (t: tf.Tensor) => tf.addN(offsets(g.kernel).map(o => window(t, o)));
  if (a.kind === 'avg') {
    // Divisor per output cell: cells of the window inside the input (or inside input + pads with count_include_pad).
    const mask = a.countPad
      ? tf.pad(tf.ones([1, ...g.input.map((d, i) => d + g.begin[i]! + g.end[i]!), 1]), [[0, 0], ...g.extra.map(e => [0, e] as [number, number]), [0, 0]])
      : tf.pad(tf.ones([1, ...g.input, 1]), padding);
    return [tf.div(sum(tf.pad(x, padding)), sum(mask))];
  }
  const xp = tf.pad(x, padding, -Infinity);
  const idx = a.indices ? tf.pad(flatIndex([n, ...g.input, c], a.storageOrder), padding, -1) : undefined;
  const [first, ...rest] = offsets(g.kernel);
  let best = window(xp, first!), at = idx && window(idx, first!);
  for (const o of rest) {
    const v = window(xp, o);
    if (idx) at = tf.where(tf.greater(v, best), window(idx, o), at!);   // first maximum wins, as in onnxruntime
    best = tf.maximum(best, v);
  }
  return at ? [best, tf.cast(at, 'int32')] : [best];
}

/** Pools channels-last x [N, …spatial, C]; int8/uint8 MaxPool computes in float (exact) and converts back. */
function poolChannelsLast(x: tf.Tensor, g: Geometry, a: PoolAttrs): tf.Tensor[] {
  const xf = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
  let outs: tf.Tensor[];
  if (!a.indices && xnnpackFits(g)) {
    const l = lift(g), s = xf.shape;
    const y = xnnpackPool(tf.reshape(xf, [s[0]!, l.input[0]!, l.input[1]!, s.at(-1)!]), l, a);
    outs = [tf.reshape(y, [s[0]!, ...g.out, s.at(-1)!])];
  } else {
    outs = slicedPool(xf, g, a);
  }
  if (x.dtype !== 'float32') outs[0] = tf.cast(outs[0]!, x.dtype);
  return outs;
}

function poolOp(opType: 'MaxPool' | 'AveragePool') {
  const kind = opType === 'MaxPool' ? 'max' : 'avg';
  return op({
    opType, since: 1, family: 'pool',
    parse: n => parsePool(n, kind, false),
    infer: (n, [x], a) => {
      const xi = checkInput(n, x, kind);
      if (a.kernel.length !== xi.shape.length - 2) n.fail(`kernel_shape has ${a.kernel.length} dims but the input [${xi.shape.join(', ')}] has ${xi.shape.length - 2} spatial dims`);
      const g = windowGeometry(n, xi.shape.slice(2), a.kernel, a.win);
      const y = { dtype: xi.dtype, shape: [...xi.shape.slice(0, 2), ...g.out] };
      return a.indices ? [y, { dtype: 'int64', shape: y.shape }] : [y];
    },
    plan: (n, _x, a, c) => windowGeometry(n, c.inputs[0]!.shape.slice(2), a.kernel, a.win),
    run: ([x], a, c, g) => {
      const r = c.inputs[0]!.shape.length - 2;
      const outs = poolChannelsLast(tf.transpose(x!, [0, ...range(2, r + 2), 1]), g, a);
      return outs.map(t => tf.transpose(t, [0, r + 1, ...range(1, r + 1)]));
    },
  });
}

function nhwcPoolOp(opType: 'NhwcMaxPool' | 'NhwcAveragePool') {
  const kind = opType === 'NhwcMaxPool' ? 'max' : 'avg';
  return op({
    opType, domain: 'local', since: 1, family: 'pool',
    parse: n => parsePool(n, kind, true),
    infer: (n, [x], a) => {
      const xi = checkInput(n, x, kind);
      if (a.kernel.length !== xi.shape.length - 2) n.fail(`kernel_shape has ${a.kernel.length} dims but the input [${xi.shape.join(', ')}] has ${xi.shape.length - 2} spatial dims`);
      const g = windowGeometry(n, xi.shape.slice(1, -1), a.kernel, a.win);
      return [{ dtype: xi.dtype, shape: [xi.shape[0]!, ...g.out, xi.shape.at(-1)!] }];
    },
    plan: (n, _x, a, c) => windowGeometry(n, c.inputs[0]!.shape.slice(1, -1), a.kernel, a.win),
    run: ([x], a, _c, g) => poolChannelsLast(x!, g, a),
  });
}

function globalOp(opType: string, kind: 'max' | 'avg', layout: 'NCHW' | 'NHWC') {
  return op({
    opType, since: 1, domain: layout === 'NHWC' ? 'local' : '', family: 'pool',
    parse: () => ({}),
    infer: (n, [x]) => {
      const xi = checkInput(n, x, kind);
      const spatial = layout === 'NCHW' ? range(2, xi.shape.length) : range(1, xi.shape.length - 1);
      return [{ dtype: xi.dtype, shape: xi.shape.map((d, i) => (spatial.includes(i) ? 1 : d)) }];
    },
    run: ([x], _a, c) => {
      const s = c.inputs[0]!.shape;
      const xf = x!.dtype === 'float32' ? x! : tf.cast(x!, 'float32');
      let y: tf.Tensor;
      if (layout === 'NCHW') {
        y = kind === 'avg' ? tf.mean(xf, range(2, s.length), true) : tf.max(xf, range(2, s.length), true);
      } else {
        // NHWC: a whole-plane XNNPACK pooling window, no transpose (tfjs-wasm's mean would transpose H,W last).
        const plane = s.slice(1, -1).reduce((p, d) => p * d, 1);
        const x4 = tf.reshape(xf, [s[0]!, 1, plane, s.at(-1)!]) as tf.Tensor4D, win: [number, number] = [1, plane];
        y = tf.reshape(kind === 'avg' ? tf.avgPool(x4, win, 1, 'valid') : tf.maxPool(x4, win, 1, 'valid'), c.outputs[0]!.shape);
      }
      return [x!.dtype === 'float32' ? y : tf.cast(y, x!.dtype)];
    },
  });
}

export const POOL_OPS: OpDef<any>[] = [
  poolOp('MaxPool'), poolOp('AveragePool'),
  globalOp('GlobalAveragePool', 'avg', 'NCHW'), globalOp('GlobalMaxPool', 'max', 'NCHW'),
  nhwcPoolOp('NhwcMaxPool'), nhwcPoolOp('NhwcAveragePool'),
  globalOp('NhwcGlobalAveragePool', 'avg', 'NHWC'), globalOp('NhwcGlobalMaxPool', 'max', 'NHWC'),
];
