// Convolution: ONNX Conv (NCHW, 1-D and 2-D, any group) and ocellus's local:NhwcConv (NHWC input, weights laid out
// for tfjs at load by the to-nhwc pass, bias + activation fused into one tfjs-wasm XNNPACK call). The NCHW Conv
// transposes input, output and weights on every call: it is the fallback; NhwcConv is the fast path.
// Also holds the sliding-window arithmetic (kernel/strides/dilations/pads/auto_pad/ceil_mode) pool.ts shares.

import * as tf from '@tensorflow/tfjs-core';
import type { NodeView, PlanCtx, ValueInfo } from './types.js';
import { op, type OpDef } from './types.js';
import { floatInput } from './check.js';
import { gelu } from './norm.js';
import { convProduct, ownGemm, packWeights, packWinograd, winogradWanted, type ConvWindow, type PackedWeights } from './wasm/gemm.js';
import { depthwiseConv, groupedConv, packDepthwise, packGrouped, PackedConv } from './wasm/depthwise.js';
import type { Activation } from './wasm/activations.js';
import { numel } from './util.js';

// ---- sliding windows -------------------------------------------------------------------------------------------

export type AutoPad = 'NOTSET' | 'SAME_UPPER' | 'SAME_LOWER' | 'VALID';
const AUTO_PADS: readonly string[] = ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'];

/** Window attributes as the node states them; lengths are checked against the spatial rank in `windowGeometry`. */
export interface WindowSpec {
  kernel?: number[];          // kernel_shape (conv: optional, else from the weight)
  strides?: number[];
  dilations?: number[];
  pads?: number[];            // [x1_begin, x2_begin, …, x1_end, x2_end, …]
  autoPad: AutoPad;
  ceil: boolean;
}

/** Per spatial axis: output size, padding before/after, and extra padding after that ceil_mode needs. */
export interface Geometry {
  input: number[];
  kernel: number[];
  strides: number[];
  dilations: number[];
  out: number[];
  begin: number[];
  end: number[];
  extra: number[];
}

export function parseWindow(n: NodeView, opts: { ceil?: boolean } = {}): WindowSpec {
  const autoPad = n.attrs.string('auto_pad', 'NOTSET');
  if (!AUTO_PADS.includes(autoPad)) n.fail(`auto_pad '${autoPad}' is not one of ${AUTO_PADS.join(', ')}`);
  const spec: WindowSpec = {
    kernel: n.attrs.optInts('kernel_shape'), strides: n.attrs.optInts('strides'), dilations: n.attrs.optInts('dilations'),
    pads: n.attrs.optInts('pads'), autoPad: autoPad as AutoPad, ceil: opts.ceil ? n.attrs.int('ceil_mode', 0) !== 0 : false,
  };
  for (const [name, v, min] of [['kernel_shape', spec.kernel, 1], ['strides', spec.strides, 1], ['dilations', spec.dilations, 1], ['pads', spec.pads, 0]] as const) {
    if (v?.some(x => !Number.isInteger(x) || x < min)) n.fail(`${name} [${v.join(', ')}] must hold integers ≥ ${min}`);
  }
  return spec;
}

/** Output size and padding for input spatial dims `input` and kernel `kernel`, per the ONNX Conv/Pool formulas. */
export function windowGeometry(n: NodeView, input: readonly number[], kernel: readonly number[], w: WindowSpec): Geometry {
  const r = input.length;
  const list = (name: string, v: number[] | undefined, dflt: number, len = r): number[] => {
    if (!v) return new Array<number>(len).fill(dflt);
    if (v.length !== len) n.fail(`${name} has ${v.length} values but the input has ${r} spatial dims (expected ${len})`);
    return v;
  };
  const strides = list('strides', w.strides, 1), dilations = list('dilations', w.dilations, 1);
  const pads = w.autoPad === 'NOTSET' ? list('pads', w.pads, 0, 2 * r) : new Array<number>(2 * r).fill(0);
  const g: Geometry = { input: [...input], kernel: [...kernel], strides, dilations, out: [], begin: [], end: [], extra: [] };
  for (let i = 0; i < r; i++) {
    const k = (kernel[i]! - 1) * dilations[i]! + 1, s = strides[i]!, len = input[i]!;
    let out: number, b = pads[i]!, e = pads[i + r]!;
    if (w.autoPad === 'SAME_UPPER' || w.autoPad === 'SAME_LOWER') {
      out = Math.ceil(len / s);
      const total = Math.max(0, (out - 1) * s + k - len);
      b = w.autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
      e = total - b;
    } else {
      const span = len + b + e - k;
      out = (w.ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
      // ceil_mode: the last window must start inside the input or its leading padding (PyTorch's and ORT's rule).
      if (w.ceil && (out - 1) * s >= len + b) out--;
    }
    if (!(out >= 1)) n.fail(`spatial dim ${i}: input ${len} with padding ${b}+${e} is smaller than the ${dilations[i]! > 1 ? 'dilated ' : ''}kernel ${k} (output would be ${out})`);
    g.out.push(out); g.begin.push(b); g.end.push(e);
    g.extra.push(Math.max(0, (out - 1) * s + k - len - b - e));
  }
  return g;
}

// ---- convolution -----------------------------------------------------------------------------------------------

/** Activations tfjs-wasm fuses into its conv kernels ('' = none). */
export type FusedActivation = '' | 'relu' | 'relu6' | 'sigmoid' | 'leakyrelu' | 'elu';
/** NhwcConv's activations: tfjs's, and those only ocellus's kernels fuse (clip(min, max), hardsigmoid(alpha, beta),
 *  hardswish, silu, gelu), applied after the tfjs conv on the fallback path. */
export type ConvActivation = FusedActivation | 'clip' | 'hardsigmoid' | 'hardswish' | 'silu' | 'gelu';
const TFJS_ACTIVATIONS: readonly string[] = ['', 'relu', 'relu6', 'sigmoid', 'leakyrelu', 'elu'];
const ACTIVATIONS: readonly string[] = [...TFJS_ACTIVATIONS, 'linear', 'clip', 'hardsigmoid', 'hardswish', 'silu', 'gelu'];

interface ConvAttrs {
  win: WindowSpec;
  group: number;
  activation: ConvActivation;
  alpha: number;
  /** clip's bounds (min, max) and hardsigmoid's beta */
  min: number;
  max: number;
  beta: number;
}

/** How a 2-D NHWC conv is called: the window (2 spatial dims) plus which tfjs kernel by weight layout. */
interface Conv2dCall {
  strides: [number, number];
  dilations: [number, number];
  pad: [[0, 0], [number, number], [number, number], [0, 0]];
  group: number;
  depthwise: boolean;
  activation: FusedActivation;
  alpha: number;
}

function parseConv(n: NodeView, local: boolean): ConvAttrs {
  const group = n.attrs.int('group', 1);
  if (!(group >= 1)) n.fail(`group ${group} must be ≥ 1`);
  const activation = local ? n.attrs.string('activation', '') : '';
  if (!ACTIVATIONS.includes(activation)) n.fail(`activation '${activation}' is not one of ${ACTIVATIONS.map(a => `'${a}'`).join(', ')}`);
  const act = (activation === 'linear' ? '' : activation) as ConvActivation;
  return {
    win: parseWindow(n), group, activation: act, alpha: n.attrs.float('alpha', act === 'hardsigmoid' ? 0.2 : 0.01),
    min: n.attrs.float('min', -Infinity), max: n.attrs.float('max', Infinity), beta: n.attrs.float('beta', 0.5),
  };
}

/** The activation as ocellus's kernels take it, or undefined for those only tfjs has (sigmoid, leakyrelu, elu). */
function ownActivation(a: ConvAttrs): Activation | undefined {
  switch (a.activation) {
    case '': return { kind: 'linear' };
    case 'relu': case 'hardswish': case 'silu': case 'gelu': return { kind: a.activation };
    case 'relu6': return { kind: 'clip', lo: 0, hi: 6 };
    case 'clip': return { kind: 'clip', lo: a.min, hi: a.max };
    case 'hardsigmoid': return { kind: 'hardsigmoid', alpha: a.alpha, beta: a.beta };
    default: return undefined;
  }
}

/** The activations tfjs does not fuse, after its conv (the fallback path). */
function activate(y: tf.Tensor, a: ConvAttrs): tf.Tensor {
  switch (a.activation) {
    case 'clip': return tf.clipByValue(y, a.min, a.max);
    case 'hardsigmoid': return tf.clipByValue(tf.add(tf.mul(y, a.alpha), a.beta), 0, 1);
    case 'hardswish': return tf.mul(y, tf.clipByValue(tf.add(tf.mul(y, 1 / 6), 0.5), 0, 1));
    case 'silu': return tf.mul(y, tf.sigmoid(y));
    case 'gelu': return gelu(y);
    default: return y;
  }
}

function call2d(g: Geometry, a: ConvAttrs, depthwise: boolean): Conv2dCall {
  const two = (v: number[], pad: number) => (v.length === 1 ? [pad, v[0]!] : v) as [number, number];
  const [bh, bw] = two(g.begin, 0), [eh, ew] = two(g.end, 0);
  return {
    strides: two(g.strides, 1), dilations: two(g.dilations, 1), pad: [[0, 0], [bh, eh], [bw, ew], [0, 0]],
    group: a.group, depthwise, activation: TFJS_ACTIVATIONS.includes(a.activation) ? a.activation as FusedActivation : '', alpha: a.alpha,
  };
}

function fusedConv(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor | undefined, p: Conv2dCall, strides: [number, number], depthwise: boolean): tf.Tensor4D {
  const args = {
    x, filter, bias, strides, pad: p.pad, dilations: p.dilations, dataFormat: 'NHWC' as const,
    activation: (p.activation || 'linear') as tf.fused.Activation, leakyreluAlpha: p.alpha,
  };
  // tfjs types depthwise pads as 'valid' | 'same' | number, but its kernels take explicit pads like conv2d.
  return depthwise ? tf.fused.depthwiseConv2d(args as unknown as Parameters<typeof tf.fused.depthwiseConv2d>[0]) as tf.Tensor4D : tf.fused.conv2d(args);
}

/**
 * 2-D convolution of NHWC `x` with a filter in tfjs layout: [kh, kw, C/group, M], or [kh, kw, C, M/C] when
 * depthwise (group = C). tfjs refuses strides > 1 together with dilations > 1: then stride 1 and subsample.
 */
export function conv2dNhwc(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor | undefined, p: Conv2dCall): tf.Tensor4D {
  const both = p.strides.some(s => s > 1) && p.dilations.some(d => d > 1);
  const strides: [number, number] = both ? [1, 1] : p.strides;
  let y: tf.Tensor4D;
  if (p.group === 1 || p.depthwise) {
    y = fusedConv(x, filter, bias, p, strides, p.depthwise);
  } else {
    const xs = tf.split(x, p.group, 3), fs = tf.split(filter, p.group, 3), bs = bias ? tf.split(bias, p.group, 0) : [];
    y = tf.concat(xs.map((xi, i) => fusedConv(xi as tf.Tensor4D, fs[i] as tf.Tensor4D, bs[i], p, strides, false)), 3) as tf.Tensor4D;
  }
  return both ? tf.stridedSlice(y, [0, 0, 0, 0], y.shape, [1, p.strides[0], p.strides[1], 1]) as tf.Tensor4D : y;
}

/** ONNX weight [M, C/group, kh, kw] → the tfjs filter conv2dNhwc takes (the to-nhwc pass does the same on the host). */
function tfFilter(w: tf.Tensor4D, group: number, depthwise: boolean): tf.Tensor4D {
  if (!depthwise) return tf.transpose(w, [2, 3, 1, 0]);
  const [m, , kh, kw] = w.shape;
  return tf.transpose(tf.reshape(w, [group, m / group, kh, kw]), [2, 3, 0, 1]);
}

function checkBias(n: NodeView, b: ValueInfo | undefined, m: number): void {
  if (b && (b.shape.length !== 1 || b.shape[0] !== m)) n.fail(`bias B has shape [${b.shape.join(', ')}], expected [${m}]`);
}

function checkKernel(n: NodeView, spec: WindowSpec, kernel: number[]): void {
  if (spec.kernel && spec.kernel.join() !== kernel.join()) n.fail(`kernel_shape [${spec.kernel.join(', ')}] does not match the weight's [${kernel.join(', ')}]`);
}

const conv = op({
  opType: 'Conv', since: 1, family: 'conv',   // Conv-11 only reworded auto_pad SAME (output = ceil(input / stride), as implemented)
  macs: (_a: ConvAttrs, [, w], [y]) => (w && y ? numel(y.shape) * numel(w.shape.slice(1)) : 0),   // W [M, C/group, k…]
  parse: n => parseConv(n, false),
  infer: (n, [x, w, b], a) => {
    const xi = floatInput(n, x, 'input X'), wi = floatInput(n, w, 'weight W');
    const rank = xi.shape.length;
    if (rank === 5) n.fail('3-D convolution (input rank 5) is not supported; ocellus runs 1-D and 2-D Conv');
    if (rank !== 3 && rank !== 4) n.fail(`input X must be rank 3 (1-D conv) or 4 (2-D conv), got [${xi.shape.join(', ')}]`);
    if (wi.shape.length !== rank) n.fail(`weight W has rank ${wi.shape.length} but X has rank ${rank}: expected [M, C/group, ${rank === 3 ? 'k' : 'kh, kw'}]`);
    const [nb, c] = xi.shape as [number, number], [m, cg] = wi.shape as [number, number];
    if (cg * a.group !== c) n.fail(`weight in-channels×group = ${cg}×${a.group} = ${cg * a.group} but input has ${c} channels`);
    if (m % a.group !== 0) n.fail(`weight has ${m} output channels, not divisible by group ${a.group}`);
    checkBias(n, b, m);
    checkKernel(n, a.win, wi.shape.slice(2));
    const g = windowGeometry(n, xi.shape.slice(2), wi.shape.slice(2), a.win);
    return [{ dtype: xi.dtype, shape: [nb, m, ...g.out] }];
  },
  plan: (n, _x, a, c) => {
    const ws = c.inputs[1]!.shape, depthwise = a.group > 1 && ws[1] === 1;
    return { depthwise, call: call2d(windowGeometry(n, c.inputs[0]!.shape.slice(2), ws.slice(2), a.win), a, depthwise) };
  },
  run: ([x, w, b], a, c, { depthwise, call }) => {
    const xs = c.inputs[0]!.shape, ws = c.inputs[1]!.shape;
    const oneD = xs.length === 3;   // [N, C, L] runs as [N, C, 1, L]
    const x4 = (oneD ? tf.reshape(x!, [xs[0]!, xs[1]!, 1, xs[2]!]) : x!) as tf.Tensor4D;
    const w4 = (oneD ? tf.reshape(w!, [ws[0]!, ws[1]!, 1, ws[2]!]) : w!) as tf.Tensor4D;
    const y = conv2dNhwc(tf.transpose(x4, [0, 2, 3, 1]), tfFilter(w4, a.group, depthwise), b, call);
    return [tf.reshape(tf.transpose(y, [0, 3, 1, 2]), c.outputs[0]!.shape)];
  },
});

/**
 * local:NhwcConv — X [N, H, W, C]; W [kh, kw, C/group, M], or [kh, kw, C, M/C] when group = C > 1 (depthwise);
 * optional B [M]; optional Z shaped like the output, added before the activation (a residual: fuse-conv-residual).
 * Attributes: ONNX Conv's (2-D) plus `activation` ('' | relu | relu6 | sigmoid | leakyrelu(alpha) | elu | clip(min,
 * max) | hardsigmoid(alpha, beta) | hardswish | silu | gelu; '' or relu with Z). Grouped and depthwise convs, and
 * ungrouped ones with an activation the GEMM does not fuse, run on kernels/wasm/depthwise.ts when it is available.
 */
const nhwcConv = op({
  opType: 'NhwcConv', domain: 'local', since: 1, family: 'conv',
  macs: (a: ConvAttrs, [x, w], [y]) => (x && w && y ? numel(y.shape) * w.shape[0]! * w.shape[1]! * (x.shape[3]! / a.group) : 0),   // W [kh, kw, ·, ·]
  parse: n => parseConv(n, true),
  infer: (n, [x, w, b, z], a) => {
    const xi = floatInput(n, x, 'input X'), wi = floatInput(n, w, 'weight W');
    if (xi.shape.length !== 4 || wi.shape.length !== 4) n.fail(`expects X [N, H, W, C] and W [kh, kw, Cin, Cout]; got [${xi.shape.join(', ')}] and [${wi.shape.join(', ')}]`);
    const c = xi.shape[3]!, [kh, kw, wi2, wo] = wi.shape as [number, number, number, number];
    const depthwise = a.group > 1 && a.group === c;
    if (depthwise ? wi2 !== c : wi2 * a.group !== c) n.fail(`weight [${wi.shape.join(', ')}] with group ${a.group} does not fit ${c} input channels`);
    const m = depthwise ? c * wo : wo;
    if (m % a.group !== 0) n.fail(`${m} output channels are not divisible by group ${a.group}`);
    checkBias(n, b, m);
    checkKernel(n, a.win, [kh, kw]);
    const g = windowGeometry(n, xi.shape.slice(1, 3), [kh, kw], a.win);
    const shape = [xi.shape[0]!, ...g.out, m];
    if (z) {
      const zi = floatInput(n, z, 'residual Z');
      if (zi.shape.join() !== shape.join()) n.fail(`residual Z has shape [${zi.shape.join(', ')}], expected the output's [${shape.join(', ')}]`);
      if (a.activation !== '' && a.activation !== 'relu') n.fail(`activation '${a.activation}' with a residual Z is not supported ('' or 'relu')`);
    }
    return [{ dtype: xi.dtype, shape }];
  },
  plan: (n, [, w, b], a, c) => {
    const g = windowGeometry(n, c.inputs[0]!.shape.slice(1, 3), c.inputs[1]!.shape.slice(0, 2), a.win);
    const window = convWindow(g, c.inputs[1]!.shape);
    return { window, call: call2d(g, a, a.group > 1 && a.group === c.inputs[0]!.shape[3]), packed: ownConvWeights(w, b, a, window, c) };
  },
  run: ([x, w, b, z], a, c, { window, call: p, packed }) => {
    if (packed instanceof PackedConv && ownGemm()) {
      const act = ownActivation(a)!;
      return [packed.kind === 'depthwise' ? depthwiseConv(x!, packed, window, act, z) : groupedConv(x!, packed, window, act, z)];
    }
    if (packed && !(packed instanceof PackedConv) && ownGemm()) return [convProduct(x!, packed, c.inputs[1]!.shape[3]!, window, a.activation === 'relu' ? 'relu' : 'linear', z)];
    if (!z) return [activate(conv2dNhwc(x as tf.Tensor4D, w as tf.Tensor4D, b, p), a)];
    const y = tf.add(conv2dNhwc(x as tf.Tensor4D, w as tf.Tensor4D, b, { ...p, activation: '' }), z);
    return [a.activation === 'relu' ? tf.relu(y) : y];
  },
});

/** ocellus's GEMM's view of an NhwcConv window (2 spatial dims). */
function convWindow(g: Geometry, ws: readonly number[]): ConvWindow {
  const two = (v: number[], pad: number) => (v.length === 1 ? [pad, v[0]!] : v) as [number, number];
  return { kernel: [ws[0]!, ws[1]!], strides: two(g.strides, 1), dilations: two(g.dilations, 1), padBegin: two(g.begin, 0), out: two(g.out, 1) };
}

/** The packed weights when ocellus's kernels take this conv: float32, constant weights and bias, an activation they
 *  fuse. Grouped and depthwise convs, and ungrouped ones with an activation other than ReLU, go to depthwise.ts
 *  (one call per layer); the rest to the GEMM (kernels/wasm/gemm.ts), which reads the NHWC input in place. 3×3
 *  convs at stride 1 are packed for Winograd (measured on ResNet-50's 16: 1.2–3× faster each than im2col, ~1.8× all told at batch 1 and 8);
 *  the rest as one B. Decided and packed when planning; the session keeps the block. */
function ownConvWeights(w: tf.Tensor | undefined, b: tf.Tensor | undefined, a: ConvAttrs, window: ConvWindow, c: PlanCtx): PackedWeights | PackedConv | undefined {
  const fits = !!ownActivation(a) && c.inputs[0]!.dtype === 'float32' && !!w && !!c.consts[1] && (!c.inputs[2] || (!!b && !!c.consts[2]));
  if (!fits || !ownGemm()) return undefined;
  const [kh, kw, cin, m] = c.inputs[1]!.shape as [number, number, number, number];
  if (a.group > 1 || (a.activation !== '' && a.activation !== 'relu')) {
    // group = C: [kh, kw, C, m/C] (one output per channel: depthwise(), else as C groups of one input channel)
    const C = c.inputs[0]!.shape[3]!;
    if (a.group > 1 && a.group === C) {
      return m === 1 ? c.derive(w, `depthwise/${b?.id ?? ''}`, () => packDepthwise(w, b))
        : c.derive(w, `grouped/${b?.id ?? ''}`, () => packGrouped(w, C, b, [kh, kw, 1, C * m]));
    }
    return c.derive(w, `grouped/${b?.id ?? ''}`, () => packGrouped(w, a.group, b));
  }
  return winogradWanted(window, cin, m)
    ? c.derive(w, `winograd/${b?.id ?? ''}`, () => packWinograd(w, cin, m, b))
    : c.derive(w, `gemm/${b?.id ?? ''}`, () => packWeights(w, kh * kw * cin, m, b));
}

export const CONV_OPS: OpDef<any>[] = [conv, nhwcConv];
