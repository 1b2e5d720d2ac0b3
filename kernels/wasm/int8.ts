// Runs ocellus's integer kernels (int8-module.ts) on a WebAssembly heap: the tfjs WASM backend's own (operands are
// tensors' heap memory, read and written in place) or any memory with an allocator (tests, scratch scripts). Weights
// are packed once, as 8-bit panels plus per-column terms, into a heap block kept with them (Int8Packed); activations
// are uint8 rows (a dense product) or an NHWC uint8 image (a convolution, grouped or not); outputs int32, float32 or
// uint8 (see the module's header for the arithmetic and why every engine gives the same bits). Depthwise filters
// (packDepthwiseInt8) run on a direct kernel instead of one product per channel.
//
// Relaxed SIMD is used when the engine has it (features.ts) AND its i32x4.relaxed_dot_i8x16_i7x16_add_s gives the
// exact answers on probe vectors (relaxedDotExact): Node 20's V8 11.3 (relaxed SIMD behind a flag) returns twice
// the dot product on x86-64, so there the baseline kernel runs. `relaxed: false` forces the baseline kernel;
// 'emulated' runs the I7 path with the instruction emulated in baseline SIMD (tests check that path on any engine).
// Threads: qgemm takes row (or column) ranges and qdepthwise pixel ranges, so a product splits like gemm.ts's: on a
// shared heap the kernels bind the worker pool (thread-pool.ts) with this module in its int8 slot, and each range goes to a
// thread with its own scratch. Every range computes its outputs exactly as one thread would (the same blocks of rows
// from the same packed A), so the bits do not depend on the thread count.

import { envVar } from '../../src/env.js';
import * as tf from '@tensorflow/tfjs-core';
import { hasRelaxedSimd } from './features.js';
import { int8WorkerPool, type GemmPool, type Int8Call } from './thread-pool.js';
import { DW, I16, I7, int8ModuleBytes, JOB_FIELDS, MR, NR, OUT_F32, OUT_I32, OUT_U8, packedBytes, padK, relaxedDotProbeBytes, scratchBytes } from './int8-module.js';

/** A heap the kernels run in: the memory the module imports, and its allocator. */
export interface Int8Heap { memory: WebAssembly.Memory; malloc(bytes: number): number; free(ptr: number): void }

interface Exports {
  qgemm(job: number, m0: number, m1: number, n0: number, n1: number, mcMax: number, scratch: number): void;
  minmax(x: number, n: number, out: number): void;
  qdepthwise(job: number, m0: number, m1: number): void;
  narrow(src: number, n: number, dst: number, off: number): void;
  quantize(x: number, n: number, dst: number, scaleBits: number, zp: number): void;
}

/** The integer kernels bound to one heap. */
export interface Int8Kernels {
  readonly heap: Int8Heap;
  /** Whether weights that fit 7 bits are packed for the I7 micro-kernel (relaxed SIMD, or its emulation). */
  readonly relaxed: boolean | 'emulated';
  readonly exports: Exports;
  /** The job record (JOB_FIELDS) and the scratch per row range, grown on demand. */
  job: number;
  scratch: { ptr: number; bytes: number }[];
  /** Worker threads on the same heap (shared memory, Node's threaded backend), or none. */
  pool?: GemmPool;
  /** The compiled module (the pool's workers instantiate it too), reused call lists by length for the pool. */
  module: WebAssembly.Module;
  calls: Int8Call[][];
  invoke: (call: Int8Call) => void;
}

/** Products (qgemm or qdepthwise runs of a whole output) since the process started: tests count them to know the
 *  operators took these kernels. */
export const int8Stats = { products: 0 };

/** Largest K for which every exact product Σ (a − za)(w − zw) of 8-bit values fits in int32 (255·255·K < 2^31). */
export const MAX_K = Math.floor(2 ** 31 / (255 * 255));

let dotExact: { exact: boolean; detail: string } | undefined;

/**
 * Whether the engine's relaxed dot is exact where the I7 path uses it (second operand 0…127, first any s8): probe
 * vectors with the extremes (pair sums ±2·128·127 and 2·127·127), mixed signs and an addend, against exact sums.
 * Decided once per process; `detail` says what was seen.
 */
export function relaxedDotExact(): { exact: boolean; detail: string } {
  if (dotExact) return dotExact;
  if (!hasRelaxedSimd()) return (dotExact = { exact: false, detail: 'the engine has no relaxed SIMD' });
  const memory = new WebAssembly.Memory({ initial: 1 });
  let f: (p: number) => void;
  try {
    f = new WebAssembly.Instance(new WebAssembly.Module(relaxedDotProbeBytes()), { env: { memory } }).exports.f as (p: number) => void;
  } catch (e) {
    return (dotExact = { exact: false, detail: `the probe could not be compiled here (${(e as Error).message})` });
  }
  const a = new Int8Array(memory.buffer, 0, 16), b = new Int8Array(memory.buffer, 16, 16), c = new Int32Array(memory.buffer, 32, 4), y = new Int32Array(memory.buffer, 48, 4);
  const cases: [number[], number[], number[]][] = [
    [[-128, -128, -128, -128, 127, 127, 127, 127, -128, 127, -128, 127, 0, 1, -1, 5], [127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 0, 0, 127, 1, 126, 64], [0, 0, 0, 0]],
    [[-1, -128, 127, 5, -128, -128, 100, 0, 1, 2, 3, 4, -50, 60, -70, 80], [1, 127, 127, 2, 127, 127, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [7, -1 << 30, 1 << 30, -3]],
  ];
  for (const [av, bv, cv] of cases) {
    a.set(av); b.set(bv); c.set(cv);
    f(0);
    for (let l = 0; l < 4; l++) {
      let want = cv[l]!;
      for (let i = 0; i < 4; i++) want += av[4 * l + i]! * bv[4 * l + i]!;
      if (y[l] !== (want | 0)) return (dotExact = { exact: false, detail: `i32x4.relaxed_dot_i8x16_i7x16_add_s gave ${y[l]} where the exact answer is ${want}` });
    }
  }
  return (dotExact = { exact: true, detail: 'exact on the probe vectors' });
}

/** Binds the kernels to a heap; relaxed defaults to whether the engine's relaxed dot is exact (relaxedDotExact).
 *  `threads` (a shared heap only): take the worker pool for this memory (thread-pool.ts), as the backend's kernels do. */
export function int8Kernels(heap: Int8Heap, opts: { relaxed?: boolean | 'emulated'; threads?: boolean } = {}): Int8Kernels {
  const relaxed = opts.relaxed ?? relaxedDotExact().exact;
  const shared = typeof SharedArrayBuffer !== 'undefined' && heap.memory.buffer instanceof SharedArrayBuffer;
  const module = new WebAssembly.Module(int8ModuleBytes({ shared, initialPages: 1 }, relaxed));
  const exports = new WebAssembly.Instance(module, { env: { memory: heap.memory } }).exports as unknown as Exports;
  const job = heap.malloc(JOB_FIELDS.length * 4);
  if (!job) throw new Error('int8 kernels: the heap has no room for the job record');
  const pool = shared && opts.threads ? int8WorkerPool(module, heap.memory) ?? undefined : undefined;
  const invoke = ({ fn, args: a }: Int8Call) => {
    if (fn === 'qgemm') exports.qgemm(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!);
    else exports.qdepthwise(a[0]!, a[1]!, a[2]!);
  };
  return { heap, relaxed, exports, job, scratch: [], pool, module, calls: [], invoke };
}

interface EmscriptenBackend {
  wasm: { _malloc(bytes: number): number; _free(ptr: number): void; wasmMemory?: WebAssembly.Memory; asm?: { memory?: WebAssembly.Memory } };
  getMemoryOffset(dataId: object): number;
}

let onBackend: { backend: unknown; kernels: Int8Kernels | undefined; relaxed: boolean | 'emulated' } | undefined;
let wanted: boolean | undefined;

/** Turns the quantized operators' use of these kernels on or off for steps planned from now on (undefined: back to
 *  OCELLUS_INT8, where 0 turns them off); A/B runs and tests. */
export function setInt8Kernels(enabled: boolean | undefined): void {
  wanted = enabled;
}
const int8Wanted = () => wanted ?? envVar('OCELLUS_INT8') !== '0';

/** The kernels on the running tfjs WASM backend's heap (undefined on another backend, or where the module cannot be
 *  compiled at run time). */
export function int8KernelsOnBackend(opts: { relaxed?: boolean } = {}): Int8Kernels | undefined {
  if (!int8Wanted()) return undefined;
  const backend = tf.backend() as unknown as EmscriptenBackend;
  const relaxed = opts.relaxed ?? relaxedDotExact().exact;
  if (onBackend?.backend === backend && onBackend.relaxed === relaxed) return onBackend.kernels;
  let kernels: Int8Kernels | undefined;
  const memory = tf.getBackend() === 'wasm' ? backend.wasm?.wasmMemory ?? backend.wasm?.asm?.memory : undefined;
  try {
    if (memory) kernels = int8Kernels({ memory, malloc: n => backend.wasm._malloc(n), free: p => backend.wasm._free(p) }, { relaxed, threads: true });
  } catch {
    // e.g. Cloudflare Workers, which compile no WebAssembly at run time: the quantized ops keep their tfjs path there.
    kernels = undefined;
  }
  onBackend = { backend, kernels, relaxed };
  return kernels;
}

/** A tensor's heap offset on the tfjs WASM backend. */
export const heapOffset = (t: tf.Tensor) => (tf.backend() as unknown as EmscriptenBackend).getMemoryOffset(t.dataId);

/** Weights packed for qgemm: a heap block of ours (not a tensor); dispose() frees it. */
export class Int8Packed {
  #freed = false;
  /** mode DW: a depthwise filter (K taps, N channels), for qdepthwise. */
  constructor(readonly kernels: Int8Kernels, readonly ptr: number, readonly K: number, readonly N: number,
    readonly mode: typeof I16 | typeof I7 | typeof DW, readonly bias: 'none' | 'float32' | 'int32', readonly bytes = packedBytes(K, N)) {}
  get isDisposed(): boolean { return this.#freed; }
  dispose(): void {
    if (this.#freed) return;
    this.#freed = true;
    this.kernels.heap.free(this.ptr);
  }
}

/** A weight matrix as the ONNX operators hold it: K×N row-major (N×K when transposed), 8-bit, with its zero points
 *  and scales per column (length N) or per tensor (length 1), and an optional bias per column: float32 (added after
 *  dequantizing) or int32 (added to the integer product before requantizing, as QLinearConv's). */
export interface Int8Weights {
  data: Int8Array | Uint8Array;
  K: number;
  N: number;
  transposed?: boolean;
  zeroPoint: ArrayLike<number>;
  scale?: ArrayLike<number>;
  bias?: Float32Array | Int32Array;
}

const perColumn = (v: ArrayLike<number>, n: number, what: string, N: number) => {
  if (v.length !== 1 && v.length !== N) throw new Error(`int8 weights: ${what} has ${v.length} values, expected 1 or ${N}`);
  return v[v.length === 1 ? 0 : n]!;
};

/**
 * Packs weights (see the module header for the layout): I7 when the kernels have relaxed SIMD and every column's
 * weights span at most 127, I16 otherwise (or when `mode` forces it). uint8 weights are stored as w − 128.
 */
export function packInt8(k: Int8Kernels, w: Int8Weights, mode?: typeof I16): Int8Packed {
  const { data, K, N, transposed = false } = w;
  if (data.length !== K * N) throw new Error(`int8 weights: ${data.length} values, expected ${K}×${N} = ${K * N}`);
  if (K > MAX_K) throw new Error(`int8 weights: K = ${K} exceeds ${MAX_K}, where exact int32 products end`);
  if (w.bias && w.bias.length !== N) throw new Error(`int8 weights: the bias has ${w.bias.length} values, expected ${N}`);
  const shift = data instanceof Uint8Array ? 128 : 0;
  const at = (kk: number, n: number) => data[transposed ? n * K + kk : kk * N + n]! - shift;
  const lo = new Int32Array(N).fill(127), hi = new Int32Array(N).fill(-128);
  for (let kk = 0; kk < K; kk++) for (let n = 0; n < N; n++) { const v = at(kk, n); if (v < lo[n]!) lo[n] = v; if (v > hi[n]!) hi[n] = v; }
  let fits = true;
  for (let n = 0; n < N; n++) if (K > 0 && hi[n]! - lo[n]! > 127) fits = false;
  const m = mode === undefined && k.relaxed && fits ? I7 : I16;
  const bytes = packedBytes(K, N), ptr = k.heap.malloc(bytes);
  if (!ptr) throw new Error(`int8 weights: the heap has no room for ${bytes} bytes of packed weights`);
  const Kp = padK(K), np = Math.ceil(N / NR) * NR;
  const u8 = new Uint8Array(k.heap.memory.buffer, ptr, bytes);   // views after the allocation (it may grow the heap)
  u8.fill(0);
  const tail = new DataView(k.heap.memory.buffer, ptr + np * Kp, 4 * np * 4);
  for (let n = 0; n < N; n++) {
    const zw = perColumn(w.zeroPoint, n, 'the zero point', N) - shift, o = m === I7 ? (K > 0 ? lo[n]! : 0) : 0;
    const base = Math.floor(n / NR) * NR * Kp, c = n % NR, v = c >> 2, cv = c & 3;
    let sum = 0;
    for (let kk = 0; kk < K; kk++) {
      const x = at(kk, n) - o, g = kk >> 2, kr = kk & 3;
      sum += x;
      // I7: per vector, 4 columns × 4 k; I16: [c0k0 c0k1 c1k0 c1k1 … | c0k2 c0k3 …]
      const pos = m === I7 ? cv * 4 + kr : (kr >> 1) * 8 + cv * 2 + (kr & 1);
      u8[base + g * NR * 4 + v * 16 + pos] = x & 0xff;
    }
    const beta = o - zw;
    tail.setInt32(n * 4, beta, true);
    tail.setInt32((np + n) * 4, (sum + K * beta) | 0, true);
    tail.setFloat32((2 * np + n) * 4, w.scale ? perColumn(w.scale, n, 'the scale', N) : 1, true);
    if (w.bias instanceof Float32Array) tail.setFloat32((3 * np + n) * 4, w.bias[n]!, true);
    else if (w.bias) tail.setInt32((3 * np + n) * 4, w.bias[n]!, true);
  }
  return new Int8Packed(k, ptr, K, N, m, !w.bias ? 'none' : w.bias instanceof Float32Array ? 'float32' : 'int32');
}

/**
 * Packs a depthwise filter (ONNX [C, 1, kh, kw], one per channel) for qdepthwise: the weights centred (w − zw) as i16
 * [tap][Cp], then the scales and the bias (Cp = C rounded up to 8).
 */
export function packDepthwiseInt8(k: Int8Kernels, w: { data: Int8Array | Uint8Array; C: number; kh: number; kw: number; zeroPoint: ArrayLike<number>; scale?: ArrayLike<number>; bias?: Float32Array | Int32Array }): Int8Packed {
  const { data, C, kh, kw } = w, taps = kh * kw, Cp = Math.ceil(C / 8) * 8;
  if (data.length !== C * taps) throw new Error(`int8 depthwise weights: ${data.length} values, expected ${C}×${kh}×${kw} = ${C * taps}`);
  if (w.bias && w.bias.length !== C) throw new Error(`int8 depthwise weights: the bias has ${w.bias.length} values, expected ${C}`);
  const bytes = Cp * (taps * 2 + 8), ptr = k.heap.malloc(bytes);
  if (!ptr) throw new Error(`int8 depthwise weights: the heap has no room for ${bytes} bytes`);
  new Uint8Array(k.heap.memory.buffer, ptr, bytes).fill(0);
  const dv = new DataView(k.heap.memory.buffer, ptr, bytes), sw = taps * Cp * 2, bias = sw + Cp * 4;
  for (let c = 0; c < C; c++) {
    const zw = perColumn(w.zeroPoint, c, 'the zero point', C);
    for (let t = 0; t < taps; t++) dv.setInt16((t * Cp + c) * 2, data[c * taps + t]! - zw, true);
    dv.setFloat32(sw + c * 4, w.scale ? perColumn(w.scale, c, 'the scale', C) : 1, true);
    if (w.bias instanceof Float32Array) dv.setFloat32(bias + c * 4, w.bias[c]!, true);
    else if (w.bias) dv.setInt32(bias + c * 4, w.bias[c]!, true);
  }
  return new Int8Packed(k, ptr, taps, C, DW, !w.bias ? 'none' : w.bias instanceof Float32Array ? 'float32' : 'int32', bytes);
}

/** What qgemm writes: the exact int32 product; float32 f32(P)·(sa·sw) + bias; or uint8 requantized with scale sy and
 *  zero point zy (P + the int32 bias, times sa·sw/sy, rounded half to even). ReLU for float32 and uint8. */
export interface Int8Epilogue {
  kind: 'int32' | 'float32' | 'uint8';
  /** The activations' zero point (0…255). */
  za: number;
  sa?: number;
  sy?: number;
  zy?: number;
  relu?: boolean;
}
const KINDS = { int32: OUT_I32, float32: OUT_F32, uint8: OUT_U8 } as const;
const f32Bits = (x: number) => new Int32Array(new Float32Array([x]).buffer)[0]!;

const roundHalfEven = (v: number) => { const r = Math.round(v); return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r; };

/**
 * DynamicQuantizeLinear of n floats at x into uint8 at dst, in the heap: the range widened to hold 0, scale =
 * f32(range / 255) (1 when x is all zeros), zp = round(clip(−min / scale, 0, 255)), then saturate(round(x / scale) +
 * zp) — onnxruntime's arithmetic (kernels/int-exact.ts dynamicQuantize computes the same with tfjs ops).
 * Returns the scale and zero point, which the product's epilogue takes as sa and za.
 */
export function dynamicQuantizeU8(k: Int8Kernels, x: number, n: number, dst: number): { scale: number; zp: number } {
  const f = Math.fround;
  k.exports.minmax(x, n, k.job);
  const [lo, hi] = new Float32Array(k.heap.memory.buffer, k.job, 2);
  const min = Math.min(n ? lo! : 0, 0), max = Math.max(n ? hi! : 0, 0);
  const scale = max === min ? 1 : f(f(max - min) / 255);
  const zp = roundHalfEven(Math.min(255, Math.max(0, -f(min / scale))));
  k.exports.quantize(x, n, dst, f32Bits(scale), zp);
  return { scale, zp };
}

/** n int32 at src holding uint8 values (int8 with `signed`, moved up by 128) as bytes at dst: how an 8-bit tfjs tensor
 *  (kept as int32) becomes the kernels' activations. */
export function narrowToU8(k: Int8Kernels, src: number, n: number, dst: number, signed: boolean): void {
  k.exports.narrow(src, n, dst, signed ? 128 : 0);
}

/** A 2-D convolution's window, NHWC (as gemm.ts ConvWindow). */
export interface Int8Window {
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
  padBegin: [number, number];
  out: [number, number];
}

function jobView(k: Int8Kernels): Int32Array {
  return new Int32Array(k.heap.memory.buffer, k.job, JOB_FIELDS.length);
}

function checkEpilogue(k: Int8Kernels, p: Int8Packed, e: Int8Epilogue): void {
  if (p.isDisposed) throw new Error('int8 product: the packed weights were disposed');
  if (p.kernels !== k) throw new Error('int8 product: the packed weights were packed for other kernels (another heap)');
  if (!(e.za >= 0 && e.za <= 255 && Number.isInteger(e.za))) throw new Error(`int8 product: activation zero point ${e.za}, expected an integer in 0…255`);
  const want = e.kind === 'float32' ? 'float32' : e.kind === 'uint8' ? 'int32' : 'none';
  if (p.bias !== 'none' && p.bias !== want) throw new Error(`int8 product: a ${p.bias} bias cannot go into ${e.kind} output (it takes ${want === 'none' ? 'no bias' : `a ${want} bias`})`);
}

/** Writes the job record: the product's operands and epilogue, then (conv) the geometry. */
function writeJob(k: Int8Kernels, a: number, lda: number, p: Int8Packed, out: number, ldo: number, e: Int8Epilogue, geo?: number[]): void {
  const j = jobView(k);
  j.set([a, lda, p.K, p.N, p.ptr, out, ldo, KINDS[e.kind], e.relu ? 1 : 0, e.za, f32Bits(e.sa ?? 1), f32Bits(e.sy ?? 1), e.zy ?? 0, p.bias === 'none' ? 0 : 1, p.mode]);
  j[15] = geo ? 1 : 0;
  if (geo) j.set(geo, 16);
}

/** Rows per block: a block's packed A (and im2col rows) within ~256 KiB, whole tiles, at most 256. */
const blockRows = (M: number, K: number) => Math.max(MR, Math.min(256, Math.floor(262144 / Math.max(1, padK(K)) / MR) * MR, Math.ceil(M / MR) * MR));

/** Threads for a product: the pool's threads plus this one, or the number asked for (more than that run in turns). */
const threadsOf = (k: Int8Kernels, threads: number | undefined) => Math.max(1, threads ?? (k.pool?.size ?? 0) + 1);

/** A thread's scratch of at least `bytes`. */
function scratchFor(k: Int8Kernels, t: number, bytes: number): number {
  const s = k.scratch[t] ??= { ptr: 0, bytes: 0 };
  if (s.bytes < bytes) {
    if (s.ptr) k.heap.free(s.ptr);
    s.ptr = k.heap.malloc(bytes);
    if (!s.ptr) { s.bytes = 0; throw new Error(`int8 product: the heap has no room for ${bytes} bytes of scratch`); }
    s.bytes = bytes;
  }
  return s.ptr;
}

/** A reused call list of `count` calls, each with a reused argument array. */
function callList(k: Int8Kernels, count: number, fn: Int8Call['fn']): Int8Call[] {
  const list = k.calls[count] ??= Array.from({ length: count }, () => ({ fn, args: [0, 0, 0, 0, 0, 0, 0] }));
  for (const c of list) c.fn = fn;
  return list;
}

/** Runs the calls: the first on this thread and the rest on the pool's workers at the same time, as many at once as
 *  there are threads (the workers hold one int8 module at a time: this binding's is put there first if it is not). */
function runCalls(k: Int8Kernels, calls: Int8Call[], count: number): void {
  const width = (k.pool?.size ?? 0) + 1;
  // Kernels bound again with another module (relaxed or not) replaced ours in the workers' slot: put it back.
  if (width > 1 && count > 1) k.pool!.useInt8?.(k.module);
  for (let i = 0; i < count; i += width) {
    const n = Math.min(width, count - i);
    if (n === 1) k.invoke(calls[i]!);
    else k.pool!.run(i === 0 && n === calls.length ? calls : calls.slice(i, i + n), k.invoke);
  }
}

/**
 * Runs the M×N output in `threads` ranges, each with its own scratch: by rows (whole blocks of MR, at least 2 tiles
 * per range), or by columns (whole panels of NR) when there are too few rows for that and N > M (a classifier's
 * one-row product).
 */
function runRows(k: Int8Kernels, M: number, N: number, K: number, conv: boolean, threads: number | undefined): void {
  if (M === 0 || N === 0) return;
  int8Stats.products++;
  const T = threadsOf(k, threads), mc = blockRows(M, K), bytes = scratchBytes(mc, K, conv);
  const byRows = M >= 2 * MR * T || M >= N;
  const len = byRows ? M : N, unit = byRows ? MR : NR;
  const parts = Math.max(1, Math.min(T, Math.ceil(len / (2 * unit))));
  const per = Math.ceil(len / parts / unit) * unit, count = Math.ceil(len / per);
  const calls = callList(k, count, 'qgemm');
  for (let t = 0; t < count; t++) {
    const x0 = t * per, x1 = Math.min(len, x0 + per), a = calls[t]!.args;
    a[0] = k.job; a[5] = mc; a[6] = scratchFor(k, t, bytes);
    if (byRows) { a[1] = x0; a[2] = x1; a[3] = 0; a[4] = N; } else { a[1] = 0; a[2] = M; a[3] = x0; a[4] = x1; }
  }
  runCalls(k, calls, count);
}

/**
 * out[M×N] (rows ldo elements apart) from uint8 A [M×K] at `a` (rows lda bytes apart) and packed weights: heap
 * offsets in, the epilogue's kind out (int32/float32: 4 bytes per element, uint8: 1).
 */
export function int8Dense(k: Int8Kernels, a: number, M: number, lda: number, p: Int8Packed, out: number, ldo: number, e: Int8Epilogue, threads?: number): void {
  checkEpilogue(k, p, e);
  writeJob(k, a, lda, p, out, ldo, e);
  runRows(k, M, p.N, p.K, false, threads);
}

/**
 * A convolution of the NHWC uint8 image at x ([n, H, W, C]) with one packed matrix per group (group g: K =
 * kh·kw·C/groups rows in (ky, kx, c) order, N/groups columns): out is [n, OH, OW, N] in the epilogue's kind.
 * A 1×1 window at stride 1 without padding reads the input as A (no im2col).
 */
export function int8Conv(k: Int8Kernels, x: number, shape: readonly number[], packed: readonly Int8Packed[], w: Int8Window, out: number, e: Int8Epilogue, threads?: number): void {
  const [n, H, W, C] = shape as [number, number, number, number];
  if (packed.length === 1 && packed[0]!.mode === DW) return depthwise(k, x, shape, packed[0]!, w, out, e, threads);
  const groups = packed.length, Cg = C / groups, Ng = packed[0]!.N, N = Ng * groups;
  const [OH, OW] = w.out, M = n * OH * OW, size = e.kind === 'uint8' ? 1 : 4;
  if (!Number.isInteger(Cg)) throw new Error(`int8 conv: ${C} input channels do not split into ${groups} groups`);
  for (const p of packed) {
    if (p.K !== w.kernel[0] * w.kernel[1] * Cg || p.N !== Ng) throw new Error(`int8 conv: packed weights are ${p.K}×${p.N}, the window needs ${w.kernel[0] * w.kernel[1] * Cg}×${Ng} per group`);
  }
  const pointwise = w.kernel[0] === 1 && w.kernel[1] === 1 && w.strides[0] === 1 && w.strides[1] === 1 && w.padBegin[0] === 0 && w.padBegin[1] === 0 && OH === H && OW === W;
  for (let g = 0; g < groups; g++) {
    const p = packed[g]!;
    checkEpilogue(k, p, e);
    if (pointwise) writeJob(k, x + g * Cg, C, p, out + g * Ng * size, N, e);
    else writeJob(k, x + g * Cg, 0, p, out + g * Ng * size, N, e, [H, W, C, Cg, OH, OW, ...w.kernel, ...w.strides, ...w.dilations, ...w.padBegin]);
    runRows(k, M, Ng, p.K, !pointwise, threads);
  }
}

/** int8Conv for a depthwise filter (packDepthwiseInt8): output pixels in `threads` ranges. */
function depthwise(k: Int8Kernels, x: number, shape: readonly number[], p: Int8Packed, w: Int8Window, out: number, e: Int8Epilogue, threads: number | undefined): void {
  const [n, H, W, C] = shape as [number, number, number, number];
  if (p.N !== C || p.K !== w.kernel[0] * w.kernel[1]) throw new Error(`int8 depthwise conv: the filter is ${p.N} channels × ${p.K} taps, the input has ${C} channels and the window ${w.kernel.join('×')}`);
  checkEpilogue(k, p, e);
  writeJob(k, x, 0, p, out, C, e, [H, W, C, 1, w.out[0], w.out[1], ...w.kernel, ...w.strides, ...w.dilations, ...w.padBegin]);
  const M = n * w.out[0] * w.out[1];
  if (M === 0) return;
  int8Stats.products++;
  const parts = Math.min(threadsOf(k, threads), Math.ceil(M / 8)), per = Math.ceil(M / parts), count = Math.ceil(M / per);
  const calls = callList(k, count, 'qdepthwise');
  for (let t = 0; t < count; t++) { const a = calls[t]!.args; a[0] = k.job; a[1] = t * per; a[2] = Math.min(M, (t + 1) * per); }
  runCalls(k, calls, count);
}

/** ONNX conv weights [N, C/groups, kh, kw] as one K×N matrix per group, K in (ky, kx, c) order (what int8Conv reads). */
export function convWeightsPerGroup<T extends Int8Array | Uint8Array>(w: T, N: number, Cg: number, kh: number, kw: number, groups: number): T[] {
  const Ng = N / groups, K = kh * kw * Cg, out: T[] = [];
  for (let g = 0; g < groups; g++) {
    const m = new (w.constructor as new (n: number) => T)(K * Ng);
    for (let o = 0; o < Ng; o++) {
      for (let c = 0; c < Cg; c++) for (let y = 0; y < kh; y++) for (let xx = 0; xx < kw; xx++) {
        m[((y * kw + xx) * Cg + c) * Ng + o] = w[(((g * Ng + o) * Cg + c) * kh + y) * kw + xx]!;
      }
    }
    out.push(m);
  }
  return out;
}
