// Reductions (ReduceMean/Sum/Max/Min/Prod/L1/L2/SumSquare/LogSum/LogSumExp), ArgMax/ArgMin, and the normalisers
// Softmax/LogSoftmax/Hardmax. Axes come from an attribute before opset 18 (ReduceSum: 13) and from an optional
// input after, which must be constant when planning because it decides the output shape.

import * as tf from '@tensorflow/tfjs-core';
import type { DType } from '../src/ir/dtype.js';
import { FLOAT, NUM, typed, type Kind } from './check.js';
import { op, type InferView, type NodeView, type OpDef, type ValueInfo } from './types.js';
import { hostInts, normAxis, numel, tfDtype } from './util.js';

type ReduceFn = (x: tf.Tensor, axes: number[], keep: boolean) => tf.Tensor;
interface ReduceAttrs { axes?: number[]; keepdims: boolean; noop: boolean }

/** The axes reduced (non-negative); [] when none are (no axes and noop_with_empty_axes=1). */
function reducedAxes(given: readonly number[] | undefined, rank: number, noop: boolean): number[] {
  if (!given || given.length === 0) return noop ? [] : [...Array(rank).keys()];
  return given.map(a => (a < 0 ? a + rank : a));
}

/** Axes a node asks for: the attribute, or input 1 (absent, constant, or empty by shape) from the axes-input versions. */
function askedAxes(n: InferView, a: ReduceAttrs, fromInput: boolean, axesIn: ValueInfo | undefined): number[] | undefined {
  if (!fromInput || !axesIn) return a.axes;
  if (numel(axesIn.shape) === 0) return [];
  const c = n.constant(1);
  if (!c) n.fail(`axes (input 1, '${n.inputs[1]}') must be a constant when planning: the output shape depends on it`);
  return Array.from(c.data as ArrayLike<number | bigint>, Number);
}

function reduceOp(opType: string, since: number, fromInput: boolean, kinds: readonly Kind[], f: ReduceFn): OpDef<ReduceAttrs> {
  return op({
    opType, since, dataDependent: fromInput ? [1] : undefined, ...(opType === 'ReduceMean' && { family: 'norm' as const }),   // LayerNorm's pieces
    parse: (n: NodeView) => ({
      axes: fromInput ? undefined : n.attrs.optInts('axes'),
      keepdims: n.attrs.int('keepdims', 1) === 1,
      noop: fromInput && n.attrs.int('noop_with_empty_axes', 0) === 1,
    }),
    infer: (n: InferView, [x, axesIn], a) => {
      const { dtype, shape } = typed(n, x, 0, kinds);
      const asked = askedAxes(n, a, fromInput, axesIn);
      asked?.forEach(ax => normAxis(n, ax, shape.length, 'axes entry'));
      const axes = reducedAxes(asked, shape.length, a.noop);
      n.check(new Set(axes).size === axes.length, () => `axes [${asked}] name an axis twice`);
      const out = a.keepdims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
      return [{ dtype, shape: out }];
    },
    run: (x, a, c) => {
      // With no axes reduced (noop) the elementwise part still applies: ReduceSumSquare gives x², ReduceLogSum log x.
      const axes = reducedAxes(fromInput ? hostInts(x, c.consts, 1) : a.axes, c.inputs[0]!.shape.length, a.noop);
      const y = f(x[0]!, axes, a.keepdims), dt = tfDtype(c.outputs[0]!.dtype);
      return [y.dtype === dt ? y : tf.cast(y, dt)];   // tf.mean of int32 is float32
    },
  });
}

const REDUCERS: [string, ReduceFn, readonly Kind[]][] = [
  ['ReduceMean', (x, ax, k) => tf.mean(x, ax, k), NUM],
  ['ReduceSum', (x, ax, k) => tf.sum(x, ax, k), NUM],
  ['ReduceMax', (x, ax, k) => tf.max(x, ax, k), NUM],
  ['ReduceMin', (x, ax, k) => tf.min(x, ax, k), NUM],
  ['ReduceProd', (x, ax, k) => tf.prod(x, ax, k), NUM],
  ['ReduceL1', (x, ax, k) => tf.sum(tf.abs(x), ax, k), NUM],
  ['ReduceL2', (x, ax, k) => tf.sqrt(tf.sum(tf.square(x), ax, k)), FLOAT],
  ['ReduceSumSquare', (x, ax, k) => tf.sum(tf.square(x), ax, k), NUM],
  ['ReduceLogSum', (x, ax, k) => tf.log(tf.sum(x, ax, k)), FLOAT],
  ['ReduceLogSumExp', (x, ax, k) => tf.logSumExp(x, ax, k), FLOAT],
];

const REDUCE: OpDef<any>[] = REDUCERS.flatMap(([t, f, kinds]) =>
  [reduceOp(t, 1, false, kinds, f), reduceOp(t, t === 'ReduceSum' ? 13 : 18, true, kinds, f)]);

// ---- ArgMax / ArgMin (int64 indices; select_last_index picks the last of tied extremes)

function argOp(opType: string, f: (x: tf.Tensor, axis: number) => tf.Tensor): OpDef<{ axis: number; keepdims: boolean; last: boolean }> {
  return op({
    opType, since: 1,
    parse: n => ({ axis: n.attrs.int('axis', 0), keepdims: n.attrs.int('keepdims', 1) === 1, last: n.attrs.int('select_last_index', 0) === 1 }),
    infer: (n, [x], a) => {
      const { shape } = typed(n, x, 0, NUM);
      const ax = normAxis(n, a.axis, shape.length);
      return [{ dtype: 'int64' as DType, shape: a.keepdims ? shape.map((d, i) => (i === ax ? 1 : d)) : shape.filter((_, i) => i !== ax) }];
    },
    run: ([x], a) => {
      const ax = a.axis < 0 ? a.axis + x!.rank : a.axis;
      const i = a.last ? tf.sub(tf.scalar(x!.shape[ax]! - 1, 'int32'), f(tf.reverse(x!, ax), ax)) : f(x!, ax);
      return [a.keepdims ? tf.expandDims(i, ax) : i];
    },
  });
}

// ---- Softmax / LogSoftmax / Hardmax. Opset < 13: the input is seen as 2-D [prod(dims[:axis]), prod(dims[axis:])]
// and normalised over the flattened trailing block (axis default 1). Opset 13: over the single `axis` (default -1).

type Normaliser = (x: tf.Tensor, axis: number) => tf.Tensor;   // axis is non-negative

const softmax: Normaliser = (x, ax) => {
  if (ax === x.rank - 1) return tf.softmax(x);                  // tf's kernel handles the last axis only
  const e = tf.exp(tf.sub(x, tf.max(x, ax, true)));
  return tf.div(e, tf.sum(e, ax, true));
};

const logSoftmax: Normaliser = (x, ax) => {
  if (ax === x.rank - 1) return tf.logSoftmax(x);
  const s = tf.sub(x, tf.max(x, ax, true));
  return tf.sub(s, tf.log(tf.sum(tf.exp(s), ax, true)));
};

/** 1.0 at the first maximum along the axis, 0 elsewhere. */
const hardmax: Normaliser = (x, ax) => {
  const last = x.rank - 1;
  const perm = [...Array(x.rank).keys()].map(i => (i === ax ? last : i === last ? ax : i));   // swap ax and last
  const t = ax === last ? x : tf.transpose(x, perm);
  const y = tf.cast(tf.oneHot(tf.argMax(t, last), t.shape[last]!), 'float32');   // wasm oneHot is int32-only
  return ax === last ? y : tf.transpose(y, perm);
};

function normaliser(opType: string, f: Normaliser): OpDef<{ axis: number }>[] {
  const infer = (n: InferView, [x]: readonly (ValueInfo | undefined)[], a: { axis: number }) => {
    const y = typed(n, x, 0, FLOAT);
    normAxis(n, a.axis, y.shape.length);
    return [y];
  };
  return [
    op({
      opType, since: 1, infer, ...(opType === 'Softmax' && { family: 'attn' as const }),
      parse: n => ({ axis: n.attrs.int('axis', 1) }),
      run: ([x], { axis }) => {
        const ax = axis < 0 ? axis + x!.rank : axis;
        if (ax === x!.rank - 1) return [f(x!, ax)];
        const outer = x!.shape.slice(0, ax).reduce((p, d) => p * d, 1);
        return [tf.reshape(f(tf.reshape(x!, [outer, x!.size / outer]), 1), x!.shape)];
      },
    }),
    op({
      opType, since: 13, infer, ...(opType === 'Softmax' && { family: 'attn' as const }),
      parse: n => ({ axis: n.attrs.int('axis', -1) }),
      run: ([x], { axis }) => [f(x!, axis < 0 ? axis + x!.rank : axis)],
    }),
  ];
}

export const REDUCE_OPS: OpDef<any>[] = [
  ...REDUCE,
  argOp('ArgMax', (x, ax) => tf.argMax(x, ax)),
  argOp('ArgMin', (x, ax) => tf.argMin(x, ax)),
  ...normaliser('Softmax', softmax),
  ...normaliser('LogSoftmax', logSoftmax),
  ...normaliser('Hardmax', hardmax),
];
