// One function per Keras layer class, each emitting ONNX nodes through the shared LayerContext (keras-layer-context.ts,
// with the helpers the layers share). Layout: Keras is channels-last; every rank-4 Keras tensor [N,H,W,C] lives in the
// ONNX graph as NCHW [N,C,H,W] (as PyTorch exports look); tensors of other ranks keep Keras's order. Shapes below are
// always in Keras order.

import type { AttrInput } from '../src/ir/builder.js';
import type { Dim } from './keras-topology.js';
import {
  activate, actName, addPads, channelsLast, fail, hwioToOihw, known, LayerContext, NO_PADS, one, onnxAxis, pair, transpose2d,
  windowed, windowPads, type KTensor, type LayerCallInfo, type LayerFn, type Pads,
} from './keras-layer-context.js';

export { LayerContext, type KTensor, type LayerCallInfo, type LayerFn } from './keras-layer-context.js';

// ---- layers ----

function conv(call: LayerCallInfo, c: LayerContext, depthwise: boolean): KTensor {
  const x = one(call, 4);
  channelsLast(call);
  const k = pair(call, 'kernel_size');
  const s = pair(call, 'strides', 1);
  const d = pair(call, 'dilation_rate', 1);
  const cin = known(call, x.shape[3]!, 'channel count');
  const groups = depthwise ? cin : Number(call.cfg.groups ?? 1);
  const mult = Number(call.cfg.depth_multiplier ?? 1);
  const cout = depthwise ? cin * mult : Number(call.cfg.filters);
  if (!Number.isInteger(cout) || cout <= 0 || cin % groups !== 0 || cout % groups !== 0) {
    fail(call, `filters ${cout} / groups ${groups} do not fit ${cin} input channels`);
  }
  // Keras depthwise_kernel [kh, kw, cin, mult]: output channel c*mult+m, the same order as HWIO with in=1, out=cin*mult.
  const kshape = depthwise ? [k[0], k[1], cin, mult] : [k[0], k[1], cin / groups, cout];
  const kernel = c.weight(call, depthwise ? 'depthwise_kernel' : 'kernel', kshape);
  const w = c.floats(`${call.layer}.weight`, [cout, cin / groups, k[0], k[1]],
    hwioToOihw(kernel.data, [k[0], k[1], cin / groups, cout]));
  const inputs = [x.value, w];
  if (call.cfg.use_bias !== false) inputs.push(c.floats(`${call.layer}.bias`, [cout], c.weight(call, 'bias', [cout]).data));
  // A ZeroPadding2D right before merges into the Conv's pads; 'same' is computed on the padded size, as Keras does.
  const pads = addPads(x.pad?.pads ?? NO_PADS, windowPads(call, x, k, s, d));
  const value = c.op('Conv', inputs, { dilations: d, group: groups, kernel_shape: k, pads, strides: s }, call.node);
  const y: KTensor = { value, shape: windowed(x, pads, k, s, d, cout), nonNeg: false };
  return activate(c, call, y, call.cfg.activation, actName(call));
}

function pool(op: 'MaxPool' | 'AveragePool'): LayerFn {
  return (c, call) => {
    const x = one(call, 4);
    channelsLast(call);
    const k = pair(call, 'pool_size', 2);
    const s = pair(call, 'strides', k);   // strides null = pool_size
    const own = windowPads(call, x, k, s, [1, 1]);
    const pre = x.pad?.pads ?? NO_PADS;
    const pads = addPads(pre, own);
    const fitsKernel = pads.every((p, i) => p < k[i % 2]!);
    // Zero padding merges into MaxPool's pads (which never win a max) only if the input is ≥ 0 and every window
    // still sees a real pixel (pads < kernel); into AveragePool only when no 'same' pads must be excluded.
    const hasPre = pre.some(p => p > 0);
    const merge = hasPre && fitsKernel && (op === 'MaxPool' ? x.nonNeg : own.every(p => p === 0));
    const input = hasPre && !merge ? c.val(x) : x.value;
    const usedPads = hasPre && !merge ? own : pads;
    const attrs: Record<string, AttrInput> = op === 'MaxPool'
      ? { ceil_mode: 0, kernel_shape: k, pads: usedPads, strides: s }
      : { ceil_mode: 0, count_include_pad: merge ? 1 : 0, kernel_shape: k, pads: usedPads, strides: s };
    const value = c.op(op, [input], attrs, call.node);
    return { value, shape: windowed(x, pads, k, s, [1, 1], x.shape[3]!), nonNeg: x.nonNeg };
  };
}

function globalPool(op: 'GlobalAveragePool' | 'GlobalMaxPool'): LayerFn {
  return (c, call) => {
    const x = one(call, 4);
    channelsLast(call);
    const pooled = c.op(op, [c.val(x)], {}, call.node);   // NCHW [N, C, 1, 1]
    if (call.cfg.keepdims === true) return { value: pooled, shape: [null, 1, 1, x.shape[3]!], nonNeg: x.nonNeg };
    const value = c.op('Flatten', [pooled], { axis: 1 }, `${call.node}_flatten`);
    return { value, shape: [null, x.shape[3]!], nonNeg: x.nonNeg };
  };
}

const zeroPadding: LayerFn = (c, call) => {
  const x = one(call, 4);
  channelsLast(call);
  const p = call.cfg.padding ?? 1;
  let hw: [number, number][];
  if (typeof p === 'number') hw = [[p, p], [p, p]];
  else if (Array.isArray(p) && p.length === 2 && p.every(v => typeof v === 'number')) hw = [[p[0], p[0]], [p[1], p[1]]];
  else if (Array.isArray(p) && p.length === 2 && p.every(v => Array.isArray(v) && v.length === 2)) hw = p as [number, number][];
  else return fail(call, `padding ${JSON.stringify(p)} is not an int, [h, w] or [[top, bottom], [left, right]]`);
  const own: Pads = [hw[0]![0], hw[1]![0], hw[0]![1], hw[1]![1]];
  const pads = addPads(x.pad?.pads ?? NO_PADS, own);   // consecutive paddings add up
  const grow = (d: Dim, a: number, b: number) => (d === null ? null : d + a + b);
  return {
    value: x.value, nonNeg: x.nonNeg, pad: { pads, node: call.node },
    shape: [null, grow(x.shape[1]!, own[0], own[2]), grow(x.shape[2]!, own[1], own[3]), x.shape[3]!],
  };
};

const batchNorm: LayerFn = (c, call) => {
  const x = one(call);
  const axes = Array.isArray(call.cfg.axis) ? call.cfg.axis : [call.cfg.axis ?? -1];
  if (axes.length !== 1 || onnxAxis(x.shape.length, Number(axes[0])) !== 1) {
    fail(call, `axis ${JSON.stringify(call.cfg.axis)} on a rank-${x.shape.length} input is not the channel axis; ONNX BatchNormalization needs it`);
  }
  const ch = known(call, x.shape.at(-1)!, 'channel count');
  const param = (key: string, onnxName: string, flag: unknown, fill: number) => c.floats(`${call.layer}.${onnxName}`, [ch],
    flag === false ? new Float32Array(ch).fill(fill) : c.weight(call, key, [ch]).data);
  const inputs = [
    c.val(x),
    param('gamma', 'weight', call.cfg.scale, 1),
    param('beta', 'bias', call.cfg.center, 0),
    param('moving_mean', 'running_mean', true, 0),
    param('moving_variance', 'running_var', true, 1),
  ];
  const epsilon = { type: 'float', value: Number(call.cfg.epsilon ?? 1e-3) } as const;
  return { value: c.op('BatchNormalization', inputs, { epsilon }, call.node), shape: x.shape, nonNeg: false };
};

const dense: LayerFn = (c, call) => {
  const x = one(call);
  const units = Number(call.cfg.units);
  const fin = known(call, x.shape.at(-1)!, 'input feature count');
  const kernel = c.weight(call, 'kernel', [fin, units]);
  const bias = call.cfg.use_bias === false ? undefined : c.weight(call, 'bias', [units]);
  const shape = [...x.shape.slice(0, -1), units];
  let value: string;
  if (x.shape.length === 2) {
    const w = c.floats(`${call.layer}.weight`, [units, fin], transpose2d(kernel.data, fin, units));
    const inputs = [c.val(x), w, ...(bias ? [c.floats(`${call.layer}.bias`, [units], bias.data)] : [])];
    const unit = { type: 'float', value: 1 } as const;
    value = c.op('Gemm', inputs, { alpha: unit, beta: unit, transB: 1 }, call.node);
  } else {
    // Keras applies Dense on the last axis: channels-last views of NCHW tensors go through NHWC and back.
    const nchw = x.shape.length === 4;
    let v = nchw ? c.op('Transpose', [c.val(x)], { perm: [0, 2, 3, 1] }, `${call.node}_to_nhwc`) : c.val(x);
    v = c.op('MatMul', [v, c.floats(`${call.layer}.weight`, [fin, units], kernel.data)], {}, call.node);
    if (bias) v = c.op('Add', [v, c.floats(`${call.layer}.bias`, [units], bias.data)], {}, `${call.node}_bias`);
    value = nchw ? c.op('Transpose', [v], { perm: [0, 3, 1, 2] }, `${call.node}_to_nchw`) : v;
  }
  return activate(c, call, { value, shape, nonNeg: false }, call.cfg.activation, actName(call));
};

const activation: LayerFn = (c, call) => activate(c, call, one(call), call.cfg.activation, call.node);

const softmax: LayerFn = (c, call) => {
  const x = one(call);
  const axis = Array.isArray(call.cfg.axis) ? call.cfg.axis : [call.cfg.axis ?? -1];
  if (axis.length !== 1) fail(call, `softmax over several axes ${JSON.stringify(call.cfg.axis)} is not supported`);
  const value = c.op('Softmax', [c.val(x)], { axis: onnxAxis(x.shape.length, Number(axis[0])) }, call.node);
  return { value, shape: x.shape, nonNeg: true };
};

const relu: LayerFn = (c, call) => {
  const x = one(call);
  const max = call.cfg.max_value ?? null;
  const slope = Number(call.cfg.negative_slope ?? 0);
  if (Number(call.cfg.threshold ?? 0) !== 0) fail(call, `threshold ${String(call.cfg.threshold)} is not supported (only 0)`);
  if (slope !== 0 && max !== null) fail(call, `negative_slope together with max_value is not supported`);
  const v = c.val(x);
  if (slope !== 0) {
    return { value: c.op('LeakyRelu', [v], { alpha: { type: 'float', value: slope } }, call.node), shape: x.shape, nonNeg: false };
  }
  if (max === null) return { value: c.op('Relu', [v], {}, call.node), shape: x.shape, nonNeg: true };
  const lo = c.floats(`${call.node}_min`, [], [0]);
  const hi = c.floats(`${call.node}_max`, [], [Number(max)]);
  return { value: c.op('Clip', [v, lo, hi], {}, call.node), shape: x.shape, nonNeg: true };
};

function merge(op: 'Add' | 'Mul'): LayerFn {
  return (c, call) => {
    const xs = call.inputs;
    if (xs.length < 2) fail(call, `expects at least 2 inputs, got ${xs.length}`);
    const shape = xs[0]!.shape;
    for (const x of xs) {
      if (x.shape.length !== shape.length || x.shape.some((d, i) => d !== null && shape[i] !== null && d !== shape[i])) {
        fail(call, `input shapes differ: ${xs.map(t => `[${t.shape.map(d => d ?? '?')}]`).join(' vs ')}`);
      }
    }
    let value = c.val(xs[0]!);
    xs.slice(1).forEach((x, i) => {
      value = c.op(op, [value, c.val(x)], {}, i === 0 ? call.node : `${call.node}_${i}`);
    });
    const merged = shape.map((d, i) => d ?? xs.find(x => x.shape[i] !== null)?.shape[i] ?? null);
    return { value, shape: merged, nonNeg: xs.every(x => x.nonNeg) };
  };
}

const concatenate: LayerFn = (c, call) => {
  const xs = call.inputs;
  const rank = xs[0]!.shape.length;
  const axis = Number(call.cfg.axis ?? -1);
  const a = axis < 0 ? rank + axis : axis;
  if (a <= 0 || a >= rank || xs.some(x => x.shape.length !== rank)) {
    fail(call, `cannot concatenate on axis ${axis} inputs of ranks ${xs.map(x => x.shape.length).join(', ')}`);
  }
  const size = xs.reduce<Dim>((s, x) => (s === null || x.shape[a] === null ? null : s + x.shape[a]!), 0);
  const value = c.op('Concat', xs.map(x => c.val(x)), { axis: onnxAxis(rank, a) }, call.node);
  return { value, shape: xs[0]!.shape.map((d, i) => (i === a ? size : d)), nonNeg: xs.every(x => x.nonNeg) };
};

const flatten: LayerFn = (c, call) => {
  const x = one(call);
  channelsLast(call);
  const size = x.shape.slice(1).reduce<Dim>((s, d) => (s === null || d === null ? null : s * d), 1);
  // Keras flattens in channels-last order: go back to NHWC first, or the features come out permuted.
  const v = x.shape.length === 4 ? c.op('Transpose', [c.val(x)], { perm: [0, 2, 3, 1] }, `${call.node}_to_nhwc`) : c.val(x);
  return { value: c.op('Flatten', [v], { axis: 1 }, call.node), shape: [null, size], nonNeg: x.nonNeg };
};

const reshape: LayerFn = (c, call) => {
  const x = one(call);
  const target = call.cfg.target_shape;
  if (!Array.isArray(target) || !target.every(Number.isInteger)) fail(call, `target_shape ${JSON.stringify(target)} is not a list of ints`);
  const dims = target as number[];
  const v = x.shape.length === 4 ? c.op('Transpose', [c.val(x)], { perm: [0, 2, 3, 1] }, `${call.node}_to_nhwc`) : c.val(x);
  const shapeInit = c.ints(`${call.node}_shape`, [0, ...dims]);   // 0 = keep the batch dimension
  let value = c.op('Reshape', [v, shapeInit], {}, call.node);
  const total = x.shape.slice(1).reduce<Dim>((s, d) => (s === null || d === null ? null : s * d), 1);
  const rest = dims.reduce((s, d) => (d === -1 ? s : s * d), 1);
  const shape: Dim[] = [null, ...dims.map(d => (d !== -1 ? d : total === null ? null : total / rest))];
  if (shape.length === 4) value = c.op('Transpose', [value], { perm: [0, 3, 1, 2] }, `${call.node}_to_nchw`);
  return { value, shape, nonNeg: x.nonNeg };
};

const identity: LayerFn = (_c, call) => one(call);   // Dropout & co. do nothing at inference

export const LAYERS: Record<string, LayerFn> = {
  Conv2D: (c, call) => conv(call, c, false),
  Convolution2D: (c, call) => conv(call, c, false),
  DepthwiseConv2D: (c, call) => conv(call, c, true),
  Dense: dense,
  BatchNormalization: batchNorm,
  Activation: activation,
  ReLU: relu,
  Softmax: softmax,
  ZeroPadding2D: zeroPadding,
  MaxPooling2D: pool('MaxPool'),
  MaxPool2D: pool('MaxPool'),
  AveragePooling2D: pool('AveragePool'),
  AvgPool2D: pool('AveragePool'),
  GlobalAveragePooling2D: globalPool('GlobalAveragePool'),
  GlobalMaxPooling2D: globalPool('GlobalMaxPool'),
  Add: merge('Add'),
  Multiply: merge('Mul'),
  Concatenate: concatenate,
  Flatten: flatten,
  Reshape: reshape,
  Dropout: identity,
  SpatialDropout2D: identity,
  GaussianDropout: identity,
  GaussianNoise: identity,
  AlphaDropout: identity,
};
