// ConvTranspose (NCHW; 1-D, 2-D and 3-D; groups, strides, dilations, pads, auto_pad, output_padding, output_shape).
// 1-D and 2-D run as stride-1 convolutions on tfjs-wasm (XNNPACK) with the kernel flipped and its in/out channels
// swapped per group: with dilation 1, one per stride phase (output cells ≡ r mod stride take the kernel cells ≡ r),
// interleaved by reshape, so no zero is multiplied; with dilations, one over the input spread with (stride - 1)
// zeros. 3-D (rare) runs an exact scatter loop on the host. Pads follow onnx's reference: SAME_* split total padding
// = stride·(in - 1) + output_padding + dilation·(k - 1) + 1 - out (out = in·stride or output_shape), the odd unit at
// the end for SAME_UPPER, with floor division (a negative total extends the output; onnxruntime clamps it at 0).

import * as tf from '@tensorflow/tfjs-core';
import { conv2dNhwc, parseWindow, type WindowSpec } from './conv.js';
import { op, type NodeView, type OpDef, type PlanCtx, type RunCtx } from './types.js';
import { floatInput } from './check.js';
import { dims, numel } from './util.js';

interface ConvTAttrs { win: WindowSpec; group: number; outputPadding?: number[]; outputShape?: number[] }

/** Per spatial axis: kernel extent, stride, dilation, the pads at both ends and the output length. */
interface Axis { k: number; s: number; d: number; begin: number; end: number; outPad: number; inLen: number; out: number }

function parseConvT(n: NodeView): ConvTAttrs {
  const group = n.attrs.int('group', 1);
  if (!(group >= 1)) n.fail(`group ${group} must be ≥ 1`);
  return { win: parseWindow(n), group, outputPadding: n.attrs.optInts('output_padding'), outputShape: n.attrs.optInts('output_shape') };
}

function geometry(n: NodeView, input: readonly number[], kernel: readonly number[], a: ConvTAttrs): Axis[] {
  const r = input.length, w = a.win;
  const list = (name: string, v: number[] | undefined, dflt: number, len = r) => {
    if (!v) return new Array<number>(len).fill(dflt);
    if (v.length !== len) n.fail(`${name} has ${v.length} values but the input has ${r} spatial dims (expected ${len})`);
    return v;
  };
  const strides = list('strides', w.strides, 1), dil = list('dilations', w.dilations, 1);
  const outPad = list('output_padding', a.outputPadding, 0);
  const pads = w.autoPad === 'NOTSET' && w.pads ? list('pads', w.pads, 0, 2 * r) : undefined;
  let wanted = a.outputShape;
  if (wanted && wanted.length === r + 2) wanted = wanted.slice(2);
  if (wanted) list('output_shape', wanted, 0);
  const same = w.autoPad === 'SAME_UPPER' || w.autoPad === 'SAME_LOWER';
  return input.map((inLen, i) => {
    const k = (kernel[i]! - 1) * dil[i]! + 1, s = strides[i]!, op = outPad[i]!;
    if (op >= Math.max(s, dil[i]!)) n.fail(`output_padding ${op} on spatial dim ${i} must be smaller than its stride ${s} or dilation ${dil[i]}`);
    const full = s * (inLen - 1) + op + k;
    // As onnx's reference (op_conv_transpose.py): given pads stand; SAME_* split the total padding (the odd unit at
    // the end for SAME_UPPER, floor division); otherwise the output starts at the first cell and output_shape, when
    // given, crops or extends it at the end.
    let begin = 0;
    if (pads) begin = pads[i]!;
    else if (same) {
      const total = full - (wanted ? wanted[i]! : inLen * s), half = Math.floor(total / 2);
      begin = w.autoPad === 'SAME_UPPER' ? half : total - half;
    }
    const end = wanted ? full - begin - wanted[i]! : pads ? pads[i + r]! : same ? full - begin - inLen * s : 0;
    const out = full - begin - end;
    if (!(out >= 1)) n.fail(`spatial dim ${i}: input ${inLen}, stride ${s}, kernel ${k} and pads ${begin}+${end} leave an output of ${out}`);
    return { k, s, d: dil[i]!, begin, end, outPad: op, inLen, out };
  });
}

// ---- 1-D / 2-D as a convolution ----------------------------------------------------------------------------------

/** ONNX weight [C, M/group, kh, kw] → the conv2dNhwc filter: [kh, kw, C/group, M], or [kh, kw, C, M/C] depthwise. */
function convFilter(w: tf.Tensor, group: number, depthwise: boolean): tf.Tensor4D {
  const [c, mg, kh, kw] = w.shape as [number, number, number, number];
  const flipped = tf.reverse(tf.reshape(w, [group, c / group, mg, kh, kw]), [3, 4]);
  const t = tf.transpose(flipped, [3, 4, 1, 0, 2]);   // [kh, kw, C/group, group, M/group]
  return tf.reshape(t, depthwise ? [kh, kw, c, mg] : [kh, kw, c / group, group * mg]);
}

/** x [N, H, W, C] with (s - 1) zeros between elements along H and W. */
function dilateInput(x: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  if (sh === 1 && sw === 1) return x;
  const [n, h, w, c] = x.shape;
  const spread = tf.pad(tf.reshape(x, [n, h, 1, w, 1, c]), [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
  return tf.slice(tf.reshape(spread, [n, h * sh, w * sw, c]), 0, [n, (h - 1) * sh + 1, (w - 1) * sw + 1, c]) as tf.Tensor4D;
}

const isDepthwise = (a: ConvTAttrs, c: RunCtx) => a.group > 1 && a.group === c.inputs[0]!.shape[1];

/** Taps (rh, rw) of a stride (sh, sw) phase: kernel cells rh, rh + sh, … by rw, rw + sw, … ([0, 0, 1, 1]: all). */
type Phase = [number, number, number, number];
const ALL: Phase = [0, 0, 1, 1];

/** A step's state: its geometry and, for constant weights, the filters of its phases (by phaseKey), derived when
 *  planning and kept by the session. */
interface ConvTState { g: Axis[]; filters?: Map<string, tf.Tensor4D> }

const phaseKey = ([rh, rw, sh, sw]: Phase) => `${rh},${rw}/${sh},${sw}`;

/** The conv2dNhwc filter of (a phase of) weight w. */
function makeFilter(w: tf.Tensor, a: ConvTAttrs, c: RunCtx, [rh, rw, sh, sw]: Phase): tf.Tensor4D {
  const ws = w.shape;
  const w4 = ws.length === 3 ? tf.reshape(w, [ws[0]!, ws[1]!, 1, ws[2]!]) : tf.reshape(w, [...ws]);
  const [cIn, mg, kh, kw] = w4.shape as [number, number, number, number];
  return convFilter(sh * sw === 1 ? w4 : tf.stridedSlice(w4, [0, 0, rh, rw], [cIn, mg, kh, kw], [1, 1, sh, sw]), a.group, isDepthwise(a, c));
}

/** The filter of a phase: the one planned for constant weights, else made now (weights fed at run time). */
function filterOf(w: tf.Tensor, a: ConvTAttrs, c: RunCtx, s: ConvTState, phase: Phase = ALL): tf.Tensor4D {
  return s.filters?.get(phaseKey(phase)) ?? makeFilter(w, a, c, phase);
}

/** The phases a 1-D/2-D step convolves with: all of the kernel (spread path) or each stride phase that has taps. */
function phasesOf(ax: Axis[]): Phase[] {
  if (!usePhases(ax)) return [ALL];
  const taps = ax.map(phaseTaps), out: Phase[] = [];
  taps[0]!.forEach((kh, rh) => taps[1]!.forEach((kw, rw) => { if (kh && kw) out.push([rh, rw, ax[0]!.s, ax[1]!.s]); }));
  return out;
}

function planConvT(n: NodeView, [, w]: readonly (tf.Tensor | undefined)[], a: ConvTAttrs, c: PlanCtx): ConvTState {
  const g = geometry(n, c.inputs[0]!.shape.slice(2), c.inputs[1]!.shape.slice(2), a);
  if (!w || !c.consts[1] || g.length > 2) return { g };
  const depthwise = isDepthwise(a, c);
  const filters = new Map(phasesOf(axes2d(g)).map(p => [phaseKey(p),
    c.derive(w, `convT/${a.group}/${depthwise}/${phaseKey(p)}`, () => tf.tidy(() => makeFilter(w, a, c, p)))]));
  return { g, filters };
}

/** Per spatial axis (2 of them): the kernel cells of each output phase; [] for a phase no cell reaches. */
const phaseTaps = (v: Axis) => Array.from({ length: v.s }, (_, r) => Math.max(0, Math.ceil((v.k - r) / v.s)));

/** Dilation 1, a stride > 1: the full output q = a·stride + r splits into stride_h × stride_w phases, phase r a
 *  stride-1 convolution of the input itself with the kernel cells ≡ r (mod stride), flipped — the zeros the
 *  spread input would multiply are never visited. The phases interleave by reshape; pads and output_shape crop
 *  (or extend) the result. */
function viaPhases(x: tf.Tensor4D, b: tf.Tensor | undefined, w: tf.Tensor, ax: Axis[], a: ConvTAttrs, c: RunCtx, s: ConvTState): tf.Tensor4D {
  const [n, h, wd] = x.shape, m = c.outputs[0]!.shape[1]!, inLen = [h, wd];
  const qEnd = ax.map(v => v.begin + v.out), len = qEnd.map((q, i) => Math.max(1, Math.ceil(q / ax[i]!.s)));
  const taps = ax.map(phaseTaps), depthwise = isDepthwise(a, c);
  const rows = taps[0]!.map((kh, rh) => tf.stack(taps[1]!.map((kw, rw) => {
    if (kh === 0 || kw === 0) return tf.zeros([n, len[0]!, len[1]!, m]);
    const filter = filterOf(w, a, c, s, [rh, rw, ax[0]!.s, ax[1]!.s]);
    const end = len.map((l, i) => Math.max(0, l - inLen[i]!));
    const y = conv2dNhwc(x, filter, undefined, {
      strides: [1, 1], dilations: [1, 1], pad: [[0, 0], [kh - 1, end[0]!], [kw - 1, end[1]!], [0, 0]],
      group: a.group, depthwise, activation: '', alpha: 0,
    });
    return y.shape[1] === len[0] && y.shape[2] === len[1] ? y : tf.slice(y, 0, [n, len[0]!, len[1]!, m]);
  }), 3));
  let y = tf.reshape(tf.stack(rows, 2), [n, len[0]! * ax[0]!.s, len[1]! * ax[1]!.s, m]);   // [N, q_h, q_w, M]
  const from = ax.map(v => Math.max(0, v.begin)), lead = ax.map(v => Math.max(0, -v.begin));
  y = tf.slice(y, [0, from[0]!, from[1]!, 0], [n, qEnd[0]! - from[0]!, qEnd[1]! - from[1]!, m]);
  if (lead.some(l => l > 0)) y = tf.pad(y, [[0, 0], [lead[0]!, 0], [lead[1]!, 0], [0, 0]]);
  return (b ? tf.add(y, b) : y) as tf.Tensor4D;
}

const usePhases = (ax: Axis[]) => ax.every(v => v.d === 1) && ax.some(v => v.s > 1);

function viaConv(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor | undefined, a: ConvTAttrs, c: RunCtx, s: ConvTState): tf.Tensor {
  const xs = x.shape, g = s.g, ax = axes2d(g);
  const x4 = tf.transpose((g.length === 1 ? tf.reshape(x, [xs[0]!, xs[1]!, 1, xs[2]!]) : x) as tf.Tensor4D, [0, 2, 3, 1]);
  const y = usePhases(ax) ? viaPhases(x4, b, w, ax, a, c, s) : viaSpread(x4, b, filterOf(w, a, c, s), ax, a, c);
  return tf.reshape(tf.transpose(y, [0, 3, 1, 2]), c.outputs[0]!.shape);
}

/** 1-D geometry as 2-D with a leading axis of length 1. */
const axes2d = (g: Axis[]) => (g.length === 1 ? [{ k: 1, s: 1, d: 1, begin: 0, end: 0, outPad: 0, inLen: 1, out: 1 }, g[0]!] : g);

/** Dilations > 1 (or stride 1): one convolution of the zero-spread input. */
function viaSpread(x: tf.Tensor4D, b: tf.Tensor | undefined, filter: tf.Tensor4D, ax: Axis[], a: ConvTAttrs, c: RunCtx): tf.Tensor4D {
  const xu = dilateInput(x, ax[0]!.s, ax[1]!.s);
  // Conv padding per side: dilation·(k - 1) - pad (+ output_padding at the end). A negative one crops: the output,
  // after a stride-1 convolution, the same cells as cropping the input would (which could leave it empty).
  const padB = ax.map(v => v.k - 1 - v.begin), padE = ax.map(v => v.k - 1 - v.end + v.outPad);
  const pos = (p: number) => Math.max(0, p);
  const y = conv2dNhwc(xu, filter, b, {
    strides: [1, 1], dilations: [ax[0]!.d, ax[1]!.d], pad: [[0, 0], [pos(padB[0]!), pos(padE[0]!)], [pos(padB[1]!), pos(padE[1]!)], [0, 0]],
    group: a.group, depthwise: isDepthwise(a, c), activation: '', alpha: 0,
  });
  if (![...padB, ...padE].some(p => p < 0)) return y;
  return tf.slice(y, [0, pos(-padB[0]!), pos(-padB[1]!), 0], [-1, ax[0]!.out, ax[1]!.out, -1]);
}

// ---- any rank: exact scatter loop on the host --------------------------------------------------------------------

function scatterLoop(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor | undefined, g: Axis[], group: number, outShape: readonly number[]): tf.Tensor {
  const [nb, cIn] = x.shape as [number, number], mg = w.shape[1]!, cg = cIn / group, m = mg * group;
  const xd = x.dataSync() as Float32Array, wd = w.dataSync() as Float32Array, bd = b?.dataSync() as Float32Array | undefined;
  const inSp = g.map(v => v.inLen), kSp = w.shape.slice(2), outSp = g.map(v => v.out);
  const inPlane = numel(inSp), kPlane = numel(kSp), outPlane = numel(outSp);
  const coords = (shape: number[], i: number) => shape.map((_, j) => Math.floor(i / numel(shape.slice(j + 1))) % shape[j]!);
  const inC = Array.from({ length: inPlane }, (_, i) => coords(inSp, i)), kC = Array.from({ length: kPlane }, (_, i) => coords(kSp, i));
  // target[ip * kPlane + kp]: the output cell input cell ip reaches through kernel cell kp, or -1 outside.
  const target = new Int32Array(inPlane * kPlane);
  for (let ip = 0; ip < inPlane; ip++) {
    for (let kp = 0; kp < kPlane; kp++) {
      let at = 0, inside = true;
      g.forEach((v, j) => {
        const o = inC[ip]![j]! * v.s + kC[kp]![j]! * v.d - v.begin;
        if (o < 0 || o >= v.out) inside = false;
        at = at * v.out + o;
      });
      target[ip * kPlane + kp] = inside ? at : -1;
    }
  }
  const out = new Float64Array(nb * m * outPlane);
  for (let n = 0; n < nb; n++) {
    for (let ci = 0; ci < cIn; ci++) {
      const grp = Math.floor(ci / cg);
      for (let mo = 0; mo < mg; mo++) {
        const oBase = (n * m + grp * mg + mo) * outPlane, wBase = (ci * mg + mo) * kPlane, xBase = (n * cIn + ci) * inPlane;
        for (let ip = 0; ip < inPlane; ip++) {
          const xv = xd[xBase + ip]!;
          for (let kp = 0; kp < kPlane; kp++) {
            const t = target[ip * kPlane + kp]!;
            if (t >= 0) out[oBase + t]! += xv * wd[wBase + kp]!;
          }
        }
      }
    }
  }
  if (bd) for (let i = 0; i < out.length; i++) out[i]! += bd[Math.floor(i / outPlane) % m]!;
  return tf.tensor(Float32Array.from(out), [...outShape], 'float32');
}

// ---- the op ----------------------------------------------------------------------------------------------------

const convTranspose = op({
  opType: 'ConvTranspose', since: 1, family: 'conv',   // 11 only reworded auto_pad and output_shape; read here as 11 states them
  macs: (_a: ConvTAttrs, [x, w]) => (x && w ? numel(x.shape) * numel(w.shape.slice(1)) : 0),   // every input element scatters into W[1:]
  parse: parseConvT,
  infer: (n, [x, w, b], a) => {
    const xi = floatInput(n, x, 'input X'), wi = floatInput(n, w, 'weight W'), r = xi.shape.length;
    if (r < 3 || r > 5) n.fail(`input X must be rank 3, 4 or 5 ([N, C, spatial…]), got ${dims(xi.shape)}`);
    if (wi.shape.length !== r) n.fail(`weight W has rank ${wi.shape.length} but X has rank ${r}: expected [C, M/group, kernel…]`);
    const [nb, c] = xi.shape as [number, number], m = wi.shape[1]! * a.group;
    if (wi.shape[0] !== c) n.fail(`weight W has ${wi.shape[0]} input channels (dim 0) but X has ${c}`);
    if (c % a.group !== 0) n.fail(`${c} input channels are not divisible by group ${a.group}`);
    if (b && (b.shape.length !== 1 || b.shape[0] !== m)) n.fail(`bias B has shape ${dims(b.shape)}, expected [${m}]`);
    const kernel = wi.shape.slice(2);
    if (a.win.kernel && a.win.kernel.join() !== kernel.join()) n.fail(`kernel_shape ${dims(a.win.kernel)} does not match the weight's ${dims(kernel)}`);
    const g = geometry(n, xi.shape.slice(2), kernel, a);
    return [{ dtype: xi.dtype, shape: [nb, m, ...g.map(v => v.out)] }];
  },
  plan: planConvT,
  run: ([x, w, b], a, c, s) => [s.g.length <= 2 ? viaConv(x!, w!, b, a, c, s) : scatterLoop(x!, w!, b, s.g, a.group, c.outputs[0]!.shape)],
});

export const CONV_TRANSPOSE_OPS: OpDef<any>[] = [convTranspose];
