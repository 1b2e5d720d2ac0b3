// One function per Keras layer class, each emitting ONNX nodes through the shared LayerContext.
// Layout: Keras is channels-last; every rank-4 Keras tensor [N,H,W,C] lives in the ONNX graph as NCHW [N,C,H,W]
// (as PyTorch exports look); tensors of other ranks keep Keras's order. Shapes below are always in Keras order.

import type { GraphBuilder } from '../src/ir/builder.js';
import type { AttrInput } from '../src/ir/builder.js';
import type { ConstTensor } from '../src/ir/graph.js';
import { constTensor } from '../src/ir/tensor.js';
import type { Dim } from './keras-topology.js';
import type { TfjsWeight } from './tfjs-weights.js';

type Pads = [number, number, number, number];  // ONNX 2-D order: [top, left, bottom, right]

export interface KTensor {
  value: string;        // the ONNX value (NCHW if rank 4); for a pending zero pad: the value *before* padding
  shape: Dim[];         // Keras shape, batch first, channels last
  nonNeg: boolean;      // every element is ≥ 0 (Relu/Softmax/Sigmoid output): a zero pad may merge into MaxPool
  pad?: { pads: Pads; node: string; padded?: string };  // a ZeroPadding2D not yet emitted (merged into a Conv if possible)
}

export interface LayerCallInfo {
  node: string;                      // unique ONNX node name (the Keras layer name, suffixed for shared-layer calls)
  layer: string;                     // Keras layer name (weights are looked up by it)
  className: string;
  cfg: Record<string, unknown>;
  inputs: KTensor[];
}

export class LayerContext {
  readonly usedWeights = new Set<string>();
  private readonly nodeNames = new Set<string>();
  private readonly byLayerParam = new Map<string, string>();

  constructor(readonly b: GraphBuilder, private readonly weights: Map<string, TfjsWeight>) {
    // Also index by the last two name segments, so 'model/conv1/kernel:0' is found as 'conv1/kernel'.
    for (const name of weights.keys()) {
      const key = name.replace(/:\d+$/, '').split('/').slice(-2).join('/');
      if (!this.byLayerParam.has(key)) this.byLayerParam.set(key, name);
    }
  }

  /** Adds a single-output node; a name already taken gets a numeric suffix, so value names stay unique. */
  op(opType: string, inputs: string[], attrs: Record<string, AttrInput>, name: string): string {
    let unique = name;
    for (let k = 1; this.nodeNames.has(unique); k++) unique = `${name}_${k}`;
    this.nodeNames.add(unique);
    return this.b.op(opType, inputs, attrs, unique);
  }

  /** The ONNX value of a Keras tensor, emitting its pending zero pad as a Pad node (once) if it has one. */
  val(t: KTensor): string {
    if (!t.pad) return t.value;
    if (!t.pad.padded) {
      const [top, left, bottom, right] = t.pad.pads;
      const pads = this.ints(`${t.pad.node}_pads`, [0, 0, top, left, 0, 0, bottom, right]);
      t.pad.padded = this.op('Pad', [t.value, pads], { mode: 'constant' }, t.pad.node);  // constant_value omitted = 0
    }
    return t.pad.padded;
  }

  weight(call: LayerCallInfo, param: string, shape: number[]): TfjsWeight {
    const want = `${call.layer}/${param}`;
    const name = this.weights.has(want) ? want : this.byLayerParam.get(want);
    const w = name === undefined ? undefined : this.weights.get(name);
    if (!w || name === undefined) {
      const have = [...this.weights.keys()].filter(k => k.includes(`${call.layer}/`));
      throw new Error(`layer '${call.layer}' (${call.className}): weight '${want}' is not in the weightsManifest` +
        ` (weights for this layer: ${have.length ? have.join(', ') : 'none'})`);
    }
    if (w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`layer '${call.layer}' (${call.className}): weight '${name}' has shape [${w.shape}], expected [${shape}]`);
    }
    this.usedWeights.add(name);
    return w;
  }

  /** Adds (once) a float32 initializer; `make` runs only the first time, so shared layers reuse their weights. */
  init(name: string, make: () => ConstTensor): string {
    if (!this.b.graph.initializers.has(name)) this.b.init(name, make());
    return name;
  }

  ints(name: string, values: number[]): string {
    return this.init(name, () => constTensor('int64', [values.length], values));
  }

  floats(name: string, dims: number[], values: ArrayLike<number>): string {
    return this.init(name, () => constTensor('float32', dims, values));
  }
}

export type LayerFn = (c: LayerContext, call: LayerCallInfo) => KTensor;

// ---- small helpers ----

const fail = (call: LayerCallInfo, msg: string): never => {
  throw new Error(`layer '${call.layer}' (${call.className}): ${msg}`);
};

function pair(call: LayerCallInfo, key: string, dflt?: number | number[]): [number, number] {
  const v = call.cfg[key] ?? dflt;
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every(Number.isInteger)) return [v[0], v[1]];
  return fail(call, `${key} must be an int or two ints, got ${JSON.stringify(v)}`);
}

function one(call: LayerCallInfo, rank?: number): KTensor {
  if (call.inputs.length !== 1) fail(call, `expects 1 input, got ${call.inputs.length}`);
  const x = call.inputs[0]!;
  if (rank !== undefined && x.shape.length !== rank) {
    fail(call, `expects a rank-${rank} input (batch included), got shape [${x.shape.map(d => d ?? '?')}]`);
  }
  return x;
}

function channelsLast(call: LayerCallInfo): void {
  const f = call.cfg.data_format;
  if (f !== undefined && f !== null && f !== 'channels_last') fail(call, `data_format '${String(f)}' is not supported (only channels_last)`);
}

function known(call: LayerCallInfo, d: Dim, what: string): number {
  return d ?? fail(call, `needs a static ${what}; pass inputShape to the converter`);
}

/** The ONNX axis of Keras axis `axis` for a tensor of `rank` (rank 4 is NCHW in ONNX). */
export function onnxAxis(rank: number, axis: number): number {
  const a = axis < 0 ? rank + axis : axis;
  return rank === 4 ? [0, 2, 3, 1][a]! : a;
}

/** Keras/TF padding 'same': out = ceil(in/stride), the odd pixel of padding goes at the end. */
function samePads(size: number, k: number, s: number, d: number): [number, number] {
  const out = Math.ceil(size / s);
  const total = Math.max((out - 1) * s + (k - 1) * d + 1 - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

function windowPads(call: LayerCallInfo, x: KTensor, k: number[], s: number[], d: number[]): Pads {
  const padding = call.cfg.padding ?? 'valid';
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding !== 'same') return fail(call, `padding '${String(padding)}' is not supported (valid, same)`);
  // 'same' depends on the spatial size as Keras sees it (after any pending zero pad).
  const [t, b] = samePads(known(call, x.shape[1]!, 'input height for padding same'), k[0]!, s[0]!, d[0]!);
  const [l, r] = samePads(known(call, x.shape[2]!, 'input width for padding same'), k[1]!, s[1]!, d[1]!);
  return [t, l, b, r];
}

const addPads = (a: Pads, b: Pads): Pads => [a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]];
const NO_PADS: Pads = [0, 0, 0, 0];

function outSize(size: Dim, before: number, after: number, k: number, s: number, d: number): Dim {
  return size === null ? null : Math.floor((size + before + after - ((k - 1) * d + 1)) / s) + 1;
}

function windowed(x: KTensor, pads: Pads, k: number[], s: number[], d: number[], channels: Dim): Dim[] {
  const [h, w] = [x.shape[1]!, x.shape[2]!];
  const pre = x.pad?.pads ?? NO_PADS;
  const unpadH = h === null ? null : h - pre[0] - pre[2];
  const unpadW = w === null ? null : w - pre[1] - pre[3];
  return [null, outSize(unpadH, pads[0], pads[2], k[0]!, s[0]!, d[0]!), outSize(unpadW, pads[1], pads[3], k[1]!, s[1]!, d[1]!), channels];
}

/** Appends a Keras activation (layer `activation` config or an Activation layer) after `value`. */
function activate(c: LayerContext, call: LayerCallInfo, x: KTensor, act: unknown, node: string): KTensor {
  const v = c.val(x);
  const out = (op: string, nonNeg: boolean, attrs: Record<string, AttrInput> = {}): KTensor =>
    ({ value: c.op(op, [v], attrs, node), shape: x.shape, nonNeg });
  switch (act ?? 'linear') {
    case 'linear': return x;
    case 'relu': return out('Relu', true);
    case 'sigmoid': return out('Sigmoid', true);
    case 'tanh': return out('Tanh', false);
    case 'softmax': return out('Softmax', true, { axis: onnxAxis(x.shape.length, -1) });
    default: return fail(call, `activation '${typeof act === 'string' ? act : JSON.stringify(act)}' is not supported (linear, relu, sigmoid, tanh, softmax)`);
  }
}

const actName = (call: LayerCallInfo) => `${call.node}_${String(call.cfg.activation)}`;

// ---- weights: Keras layouts → ONNX layouts ----

/** Conv kernel HWIO [kh, kw, in, out] → OIHW [out, in, kh, kw]. */
function hwioToOihw(src: ArrayLike<number>, [kh, kw, ci, co]: number[]): Float32Array {
  const out = new Float32Array(src.length);
  for (let h = 0; h < kh!; h++) for (let w = 0; w < kw!; w++) for (let i = 0; i < ci!; i++) {
    const base = ((h * kw! + w) * ci! + i) * co!;
    for (let o = 0; o < co!; o++) out[((o * ci! + i) * kh! + h) * kw! + w] = src[base + o]!;
  }
  return out;
}

/** Dense kernel [in, out] → [out, in] (Gemm transB=1, as torch writes Linear). */
function transpose2d(src: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let r = 0; r < rows; r++) for (let col = 0; col < cols; col++) out[col * rows + r] = src[r * cols + col]!;
  return out;
}

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
