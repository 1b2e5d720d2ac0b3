// Runs depthwise-module.ts's kernels on tfjs tensors, in place in the tfjs WASM heap (the module gemm.ts binds):
// depthwise convolutions (group = C, one output per input channel) and grouped convolutions (any group count, one
// call per layer), NHWC, float32, with bias, an optional residual and any activation of activations.ts fused.
// Weights are packed once into heap blocks of their own (PackedConv, counted with the GEMM's packed weights); the
// work is split over the GEMM's worker pool by output rows (depthwise) or pixels (grouped).

import * as tf from '@tensorflow/tfjs-core';
import { activationParams, ACT_CODES, type Activation } from './activations.js';
import { DW_FIELDS, GROUPED_FIELDS } from './depthwise-module.js';
import { MR, NR, scratchBytes } from './gemm-kernels.js';
import { ownGemm, packedLength, type ConvWindow, type ThreadScratch } from './gemm.js';
import type { ConvCall } from './thread-pool.js';
import { kernelStatus } from './status.js';

type Bound = NonNullable<ReturnType<typeof ownGemm>>;

const offsetOf = (g: Bound, t: tf.TensorInfo) => g.backend.getMemoryOffset(t.dataId);
const f32 = (g: Bound, ptr: number, n: number) => new Float32Array(g.memory.buffer, ptr, n);

/** Floats of a depthwise conv's packed weights: per block of 4 channels the bias and KH·KW taps, then a zero pixel. */
export const depthwiseLength = (taps: number, C: number) => Math.ceil(C / 4) * 4 * (taps + 2);
/** Floats of a grouped conv's packed weights: one packed K×N block (bias included) per group. */
export const groupedLength = (taps: number, Cg: number, Ng: number, G: number) => G * packedLength(taps * Cg, Ng);

/**
 * A conv's weights packed for depthwise() or grouped(): a block of the tfjs heap ocellus allocates and frees itself
 * (not a tensor; counted in kernels/wasm/status.ts's packed blocks like gemm.ts's PackedWeights).
 */
export class PackedConv {
  readonly #g: Bound;
  #freed = false;
  constructor(g: Bound, readonly ptr: number, readonly floats: number, readonly kind: 'depthwise' | 'grouped',
    readonly kernel: readonly [number, number], readonly C: number, readonly N: number, readonly groups: number) {
    this.#g = g;
    kernelStatus.packed.count++;
    kernelStatus.packed.bytes += floats * 4;
  }
  get isDisposed(): boolean { return this.#freed; }
  /** The heap offset, checked to be live, in this binding's heap, and laid out for this kind. */
  at(g: Bound, kind: 'depthwise' | 'grouped'): number {
    if (this.#freed) throw new Error('the packed conv weights were disposed');
    if (this.#g !== g) throw new Error('the packed conv weights belong to a tfjs backend that was replaced');
    if (this.kind !== kind) throw new Error(`the packed conv weights are laid out for a ${this.kind} conv, this is a ${kind} one`);
    return this.ptr;
  }
  dispose(): void {
    if (this.#freed) return;
    this.#freed = true;
    kernelStatus.packed.count--;
    kernelStatus.packed.bytes -= this.floats * 4;
    if (ownGemm() === this.#g) this.#g.backend.wasm._free(this.ptr);
  }
}

function alloc(g: Bound, floats: number, what: string): number {
  const ptr = g.backend.wasm._malloc(floats * 4);
  if (!ptr) throw new Error(`${what}: the heap has no room for ${floats * 4} bytes of packed weights`);
  return ptr;
}

function checkBias(bias: tf.Tensor | undefined, N: number, what: string): void {
  if (bias && (bias.size !== N || bias.dtype !== 'float32')) throw new Error(`${what}: the bias has ${bias.size} ${bias.dtype} values, expected ${N} float32`);
}

/** Packs a depthwise filter w [KH, KW, C, 1] (tfjs layout) and an optional bias [C] for depthwiseConv. */
export function packDepthwise(w: tf.Tensor, bias?: tf.Tensor): PackedConv {
  const g = ownGemm();
  if (!g) throw new Error('ocellus WASM kernels are not available on this backend');
  const [KH, KW, C, mult] = w.shape as [number, number, number, number];
  if (w.rank !== 4 || mult !== 1 || w.dtype !== 'float32') throw new Error(`packDepthwise: the filter is [${w.shape.join(', ')}] ${w.dtype}, expected [KH, KW, C, 1] float32`);
  checkBias(bias, C, 'packDepthwise');
  const K = KH * KW, floats = depthwiseLength(K, C), ptr = alloc(g, floats, 'packDepthwise');
  const dst = f32(g, ptr, floats), src = f32(g, offsetOf(g, w), K * C), b = bias ? f32(g, offsetOf(g, bias), C) : undefined;
  dst.fill(0);
  for (let c = 0; c < C; c++) {
    const o = (c >> 2) * (K + 1) * 4 + (c & 3);
    dst[o] = b ? b[c]! : 0;
    for (let k = 0; k < K; k++) dst[o + (k + 1) * 4] = src[k * C + c]!;
  }
  return new PackedConv(g, ptr, floats, 'depthwise', [KH, KW], C, C, C);
}

/**
 * Packs a grouped conv's filter w [KH, KW, C/G, N] (tfjs conv2d layout; output channel o belongs to group
 * ⌊o / (N/G)⌋) and an optional bias [N] for groupedConv: per group, its KH·KW·C/G × N/G matrix as gemm.ts packs
 * one B. A depthwise filter with a channel multiplier, [KH, KW, C, m], is the same array read as `shape`
 * [KH, KW, 1, C·m] with G = C.
 */
export function packGrouped(w: tf.Tensor, groups: number, bias?: tf.Tensor, shape: readonly number[] = w.shape): PackedConv {
  const g = ownGemm();
  if (!g) throw new Error('ocellus WASM kernels are not available on this backend');
  const [KH, KW, Cg, N] = shape as [number, number, number, number];
  if (shape.length !== 4 || w.size !== KH * KW * Cg * N || w.dtype !== 'float32' || !(groups >= 1) || N % groups !== 0) throw new Error(`packGrouped: the filter is [${shape.join(', ')}] ${w.dtype} with ${groups} groups, expected [KH, KW, C/G, N] float32 with N divisible by G`);
  checkBias(bias, N, 'packGrouped');
  const K = KH * KW, Kg = K * Cg, Ng = N / groups, L = packedLength(Kg, Ng), panels = Math.ceil(Ng / NR);
  const floats = groups * L, ptr = alloc(g, floats, 'packGrouped');
  const dst = f32(g, ptr, floats), src = f32(g, offsetOf(g, w), K * Cg * N), b = bias ? f32(g, offsetOf(g, bias), N) : undefined;
  dst.fill(0);
  for (let gi = 0; gi < groups; gi++) {
    const base = gi * L;
    for (let kk = 0; kk < Kg; kk++) {
      for (let j = 0; j < Ng; j++) dst[base + (Math.floor(j / NR) * Kg + kk) * NR + (j % NR)] = src[kk * N + gi * Ng + j]!;
    }
    if (b) for (let j = 0; j < Ng; j++) dst[base + panels * NR * Kg + j] = b[gi * Ng + j]!;
  }
  return new PackedConv(g, ptr, floats, 'grouped', [KH, KW], Cg * groups, N, groups);
}

/** Per binding: the geometry record (GROUPED_FIELDS is the longer) and reused call lists by length. */
interface State { geo: number; calls: ConvCall[][]; invoke: (call: ConvCall) => void }
interface ConvExports {
  depthwise(geo: number, r0: number, r1: number): void;
  grouped(geo: number, m0: number, m1: number, mcMax: number, kcMax: number, rows: number, scratch: number): void;
}
const states = new WeakMap<Bound, State>();

function stateOf(g: Bound): State {
  let s = states.get(g);
  if (!s) {
    const geo = g.backend.wasm._malloc(GROUPED_FIELDS.length * 4);
    if (!geo) throw new Error('the heap has no room for a conv geometry record');
    const ex = g.exports as unknown as ConvExports;
    // Arguments by position: spreading would allocate an argument list per call.
    const invoke = ({ fn, args: a }: ConvCall) => (fn === 'depthwise' ? ex.depthwise(a[0]!, a[1]!, a[2]!) : ex.grouped(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!));
    states.set(g, (s = { geo, calls: [], invoke }));
  }
  return s;
}

/** Writes a geometry record (after any allocation: a view of the heap is taken here). */
function writeGeo(g: Bound, s: State, fields: readonly string[], values: Record<string, number>, act: Activation): void {
  const i32 = new Int32Array(g.memory.buffer, s.geo, fields.length), fl = new Float32Array(g.memory.buffer, s.geo, fields.length);
  fields.forEach((k, i) => { if (k !== 'p0' && k !== 'p1') i32[i] = values[k]!; });
  const [p0, p1] = activationParams(act);
  fl[fields.indexOf('p0')] = p0;
  fl[fields.indexOf('p1')] = p1;
}

function residualAt(g: Bound, res: tf.Tensor | undefined, shape: number[]): number {
  if (!res) return 0;
  if (res.shape.join() !== shape.join() || res.dtype !== 'float32') throw new Error(`the residual is [${res.shape.join(', ')}] ${res.dtype}, the output [${shape.join(', ')}] float32`);
  return offsetOf(g, res);
}

function geometry(x: tf.Tensor, C: number, w: ConvWindow, kernel: readonly [number, number]): Record<string, number> {
  const [n, H, W, xc] = x.shape as [number, number, number, number];
  if (x.rank !== 4 || xc !== C || x.dtype !== 'float32') throw new Error(`the input is [${x.shape.join(', ')}] ${x.dtype}, expected [n, H, W, ${C}] float32`);
  if (kernel[0] !== w.kernel[0] || kernel[1] !== w.kernel[1]) throw new Error(`the packed weights are for a ${kernel.join('×')} window, the conv has ${w.kernel.join('×')}`);
  return { n, x: 0, H, W, C, OH: w.out[0], OW: w.out[1], KH: w.kernel[0], KW: w.kernel[1], SH: w.strides[0], SW: w.strides[1], DH: w.dilations[0], DW: w.dilations[1], PT: w.padBegin[0], PL: w.padBegin[1] };
}

/** Runs calls[0] here and the rest on the pool's workers. */
function run(g: Bound, s: State, calls: ConvCall[]): void {
  if (calls.length === 1) return s.invoke(calls[0]!);
  g.pool!.run(calls, s.invoke);
}

/** Multiply-adds below which a conv stays on one thread: a thread's share would take well under 0.1 ms, less than
 *  handing it over can cost (measured, 14×14×576 depthwise 3×3 at stride 2, 0.25 M: 0.09 ms on one thread). */
const MIN_SPLIT_MACS = 1 << 19;

/** Splits `len` units (rows or pixels) over the threads in multiples of `unit`, at most one part per 2 units, and
 *  none for less than MIN_SPLIT_MACS of work (`macs`). */
function parts(g: Bound, len: number, unit: number, macs: number): { threads: number; per: number } {
  const T = macs < MIN_SPLIT_MACS ? 1 : (g.pool?.size ?? 0) + 1;
  const threads = Math.max(1, Math.min(T, Math.ceil(len / (2 * unit))));
  return { threads, per: Math.ceil(len / threads / unit) * unit };
}

function callList(s: State, count: number): ConvCall[] {
  return s.calls[count] ??= Array.from({ length: count }, () => ({ fn: 'depthwise', args: [] }) as ConvCall);
}

/**
 * act(depthwise(x, W) + bias + res) for NHWC x [n, H, W, C] and weights packed by packDepthwise: [n, OH, OW, C].
 * Output rows are shared out over the threads.
 */
export function depthwiseConv(x: tf.Tensor, packed: PackedConv, w: ConvWindow, act: Activation = { kind: 'linear' }, res?: tf.Tensor): tf.Tensor {
  const g = ownGemm();
  if (!g) throw new Error('ocellus WASM kernels are not available on this backend');
  const geo = geometry(x, packed.C, w, packed.kernel);
  const shape = [geo.n!, w.out[0], w.out[1], packed.C];
  const s = stateOf(g);
  const out = g.backend.makeOutput(shape, 'float32');
  writeGeo(g, s, DW_FIELDS, { ...geo, x: offsetOf(g, x), pw: packed.at(g, 'depthwise'), out: offsetOf(g, out), res: residualAt(g, res, shape), act: ACT_CODES[act.kind] }, act);
  const rows = geo.n! * w.out[0];
  const { threads, per } = parts(g, rows, 1, rows * w.out[1] * packed.C * packed.kernel[0] * packed.kernel[1]);
  const calls = callList(s, Math.ceil(rows / per));
  for (let r = 0, t = 0; r < rows; r += per, t++) calls[t] = { fn: 'depthwise', args: [s.geo, r, Math.min(rows, r + per)] };
  if (rows > 0 && threads > 0) run(g, s, calls);
  return tf.engine().makeTensorFromTensorInfo(out);
}

function scratchFor(g: Bound, t: number, rowBytes: number, tileBytes: number): ThreadScratch {
  const s = g.scratches[t] ??= { tile: 0, tileBytes: 0, rows: 0, rowBytes: 0 };
  const grow = (ptr: 'tile' | 'rows', size: 'tileBytes' | 'rowBytes', bytes: number) => {
    if (s[size] >= bytes || bytes === 0) return;
    if (s[ptr]) g.backend.wasm._free(s[ptr]);
    s[ptr] = g.backend.wasm._malloc(bytes);
    if (!s[ptr]) throw new Error(`the heap has no room for ${bytes} bytes of conv scratch`);
    s[size] = bytes;
  };
  grow('tile', 'tileBytes', tileBytes);
  grow('rows', 'rowBytes', rowBytes);
  return s;
}

/**
 * act(conv(x, W) + bias + res) with W in `groups` groups, packed by packGrouped, for NHWC x [n, H, W, C]:
 * [n, OH, OW, N], one call for all groups. Output pixels are shared out over the threads.
 */
export function groupedConv(x: tf.Tensor, packed: PackedConv, w: ConvWindow, act: Activation = { kind: 'linear' }, res?: tf.Tensor): tf.Tensor {
  const g = ownGemm();
  if (!g) throw new Error('ocellus WASM kernels are not available on this backend');
  const geo = geometry(x, packed.C, w, packed.kernel);
  const G = packed.groups, Cg = packed.C / G, Ng = packed.N / G, Kg = w.kernel[0] * w.kernel[1] * Cg;
  const shape = [geo.n!, w.out[0], w.out[1], packed.N], M = geo.n! * w.out[0] * w.out[1];
  const kc = Math.min(Kg, 1024);
  const mc = Math.max(MR, Math.min(256, Math.floor(Math.floor(262144 / Kg) / MR) * MR, Math.ceil(M / MR) * MR));
  const s = stateOf(g);
  const { per } = parts(g, M, MR, M * Kg * Ng * G);
  const count = M > 0 ? Math.ceil(M / per) : 0;
  const scratch = Array.from({ length: count }, (_, t) => scratchFor(g, t, mc * Kg * 4, scratchBytes(mc, kc)));
  const out = g.backend.makeOutput(shape, 'float32');
  writeGeo(g, s, GROUPED_FIELDS, { ...geo, x: offsetOf(g, x), G, Cg, Ng, pb: packed.at(g, 'grouped'), out: offsetOf(g, out), res: residualAt(g, res, shape), act: ACT_CODES[act.kind] }, act);
  const calls = callList(s, count);
  for (let m = 0, t = 0; m < M; m += per, t++) calls[t] = { fn: 'grouped', args: [s.geo, m, Math.min(M, m + per), mc, kc, scratch[t]!.rows, scratch[t]!.tile] };
  if (count > 0) run(g, s, calls);
  return tf.engine().makeTensorFromTensorInfo(out);
}
