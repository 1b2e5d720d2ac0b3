// What keras-layers.ts's layer functions share: the tensors and calls they see, the LayerContext they emit ONNX
// nodes through, and helpers (arguments, padding and window sizes, activations, Keras → ONNX weight layouts).
// Layout: Keras is channels-last; every rank-4 Keras tensor [N,H,W,C] lives in the ONNX graph as NCHW [N,C,H,W]
// (as PyTorch exports look); tensors of other ranks keep Keras's order. Shapes below are always in Keras order.

import type { GraphBuilder } from '../src/ir/builder.js';
import type { AttrInput } from '../src/ir/builder.js';
import type { ConstTensor } from '../src/ir/graph.js';
import { constTensor } from '../src/ir/tensor.js';
import type { Dim } from './keras-topology.js';
import type { TfjsWeight } from './tfjs-weights.js';

export type Pads = [number, number, number, number];  // ONNX 2-D order: [top, left, bottom, right]

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

export const fail = (call: LayerCallInfo, msg: string): never => {
  throw new Error(`layer '${call.layer}' (${call.className}): ${msg}`);
};

export function pair(call: LayerCallInfo, key: string, dflt?: number | number[]): [number, number] {
  const v = call.cfg[key] ?? dflt;
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every(Number.isInteger)) return [v[0], v[1]];
  return fail(call, `${key} must be an int or two ints, got ${JSON.stringify(v)}`);
}

export function one(call: LayerCallInfo, rank?: number): KTensor {
  if (call.inputs.length !== 1) fail(call, `expects 1 input, got ${call.inputs.length}`);
  const x = call.inputs[0]!;
  if (rank !== undefined && x.shape.length !== rank) {
    fail(call, `expects a rank-${rank} input (batch included), got shape [${x.shape.map(d => d ?? '?')}]`);
  }
  return x;
}

export function channelsLast(call: LayerCallInfo): void {
  const f = call.cfg.data_format;
  if (f !== undefined && f !== null && f !== 'channels_last') fail(call, `data_format '${String(f)}' is not supported (only channels_last)`);
}

export function known(call: LayerCallInfo, d: Dim, what: string): number {
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

export function windowPads(call: LayerCallInfo, x: KTensor, k: number[], s: number[], d: number[]): Pads {
  const padding = call.cfg.padding ?? 'valid';
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding !== 'same') return fail(call, `padding '${String(padding)}' is not supported (valid, same)`);
  // 'same' depends on the spatial size as Keras sees it (after any pending zero pad).
  const [t, b] = samePads(known(call, x.shape[1]!, 'input height for padding same'), k[0]!, s[0]!, d[0]!);
  const [l, r] = samePads(known(call, x.shape[2]!, 'input width for padding same'), k[1]!, s[1]!, d[1]!);
  return [t, l, b, r];
}

export const addPads = (a: Pads, b: Pads): Pads => [a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]];
export const NO_PADS: Pads = [0, 0, 0, 0];

function outSize(size: Dim, before: number, after: number, k: number, s: number, d: number): Dim {
  return size === null ? null : Math.floor((size + before + after - ((k - 1) * d + 1)) / s) + 1;
}

export function windowed(x: KTensor, pads: Pads, k: number[], s: number[], d: number[], channels: Dim): Dim[] {
  const [h, w] = [x.shape[1]!, x.shape[2]!];
  const pre = x.pad?.pads ?? NO_PADS;
  const unpadH = h === null ? null : h - pre[0] - pre[2];
  const unpadW = w === null ? null : w - pre[1] - pre[3];
  return [null, outSize(unpadH, pads[0], pads[2], k[0]!, s[0]!, d[0]!), outSize(unpadW, pads[1], pads[3], k[1]!, s[1]!, d[1]!), channels];
}

/** Appends a Keras activation (layer `activation` config or an Activation layer) after `value`. */
export function activate(c: LayerContext, call: LayerCallInfo, x: KTensor, act: unknown, node: string): KTensor {
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

export const actName = (call: LayerCallInfo) => `${call.node}_${String(call.cfg.activation)}`;

// ---- weights: Keras layouts → ONNX layouts ----

/** Conv kernel HWIO [kh, kw, in, out] → OIHW [out, in, kh, kw]. */
export function hwioToOihw(src: ArrayLike<number>, [kh, kw, ci, co]: number[]): Float32Array {
  const out = new Float32Array(src.length);
  for (let h = 0; h < kh!; h++) for (let w = 0; w < kw!; w++) for (let i = 0; i < ci!; i++) {
    const base = ((h * kw! + w) * ci! + i) * co!;
    for (let o = 0; o < co!; o++) out[((o * ci! + i) * kh! + h) * kw! + w] = src[base + o]!;
  }
  return out;
}

/** Dense kernel [in, out] → [out, in] (Gemm transB=1, as torch writes Linear). */
export function transpose2d(src: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let r = 0; r < rows; r++) for (let col = 0; col < cols; col++) out[col * rows + r] = src[r * cols + col]!;
  return out;
}
