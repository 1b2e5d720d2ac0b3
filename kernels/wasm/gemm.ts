// Runs ocellus's WASM kernels (module.ts: GEMM, convolution, Winograd, transformer and depthwise families) on tfjs
// tensors, in place in the tfjs WASM backend's heap: the module
// imports the backend's own memory, reads A and writes C at the tensors' heap offsets (no copies), and B is packed
// once per weight into a heap block kept with it (PackedWeights, kernels/derived.ts). Used where it applies —
// float32 products and convolutions with constant weights, an optional per-column bias, residual and ReLU/GELU —
// when the engine has relaxed SIMD (features.ts); tfjs/XNNPACK otherwise. With the threaded backend, row or column
// ranges go to a pool of workers on the same heap (thread-pool.ts).

import * as tf from '@tensorflow/tfjs-core';
import { envVar } from '../../src/env.js';
import { overrideOwnGemm, ownGemmWanted } from './features.js';
import { kernelStatus } from './status.js';
import { CONV_FIELDS } from './conv-kernels.js';
import { GELU, MR, NR, RELU, scratchBytes } from './gemm-kernels.js';
import { kernelModuleBytes } from './module.js';
import { attentionWorkFloats } from './transformer-kernels.js';
import { heapMemory, tensorOf, type WasmBackend } from './heap.js';
import { workerPool, type GemmCall, type GemmPool } from './thread-pool.js';
export interface GemmExports {
  dense(a: number, lda: number, m0: number, m1: number, n0: number, n1: number, mcMax: number, kcMax: number, pb: number, K: number, N: number, c: number, ldc: number, res: number, flags: number, scratch: number): void;
  conv(geo: number, m0: number, m1: number, n0: number, n1: number, mcMax: number, kcMax: number, pb: number, N: number, c: number, res: number, flags: number, rows: number, scratch: number): void;
  winograd(geo: number, m0: number, m1: number, n0: number, n1: number, mcMax: number, kcMax: number, pu: number, N: number, c: number, res: number, flags: number, work: number, scratch: number): void;
  attention(q: number, k: number, v: number, out: number, Nq: number, Nk: number, H: number, D: number, Dv: number, scaleBits: number, bh0: number, bh1: number, mcMax: number, work: number, tile: number): void;
  layernorm(x: number, out: number, rows: number, cols: number, gamma: number, beta: number, epsBits: number): void;
}

/** One thread's buffers in the heap: a partial tile and the packed A of one block (`tile`), and the im2col rows of
 *  one block (or another kernel's work area). */
export interface ThreadScratch { tile: number; tileBytes: number; rows: number; rowBytes: number }

interface Bound {
  backend: WasmBackend;
  memory: WebAssembly.Memory;
  module: WebAssembly.Module;
  exports: GemmExports;
  /** Per thread (0 = this one), made on first use. */
  scratches: ThreadScratch[];
  geo: number;
  geoView?: Int32Array;
  pool?: GemmPool;
  /** invoke() bound to this binding, for the pool; reused call arrays by length (callList). */
  invoke: (call: GemmCall) => void;
  callLists: GemmCall[][];
}

/**
 * Where an embedder that cannot compile WebAssembly at run time (Cloudflare Workers) puts the kernels module compiled
 * ahead of time: kernelModuleBytes({ shared: false }) (edge/build.mjs writes it as ocellus-kernels.wasm).
 */
export const KERNELS_MODULE_GLOBAL = '__ocellusKernelsModule';

let bound: Bound | null | undefined;   // null: not available on this backend
let boundTo: unknown;

/** Turns ocellus's GEMM on or off for this process (undefined: back to OCELLUS_OWN_GEMM); tests and A/B runs.
 *  Products already planned keep their packed weights but take the tfjs path while it is off. The XNNPACK thread
 *  count was fixed when the backend started (see kernels/backend.ts): for a fair A/B, set OCELLUS_OWN_GEMM=0 then. */
export function setOwnGemm(enabled: boolean | undefined): void {
  overrideOwnGemm(enabled);
  boundTo = undefined;
}

/** The kernel bound to the current tfjs backend, or undefined when it cannot run there. */
export function ownGemm(): Bound | undefined {
  const backend = tf.backend() as unknown as WasmBackend;
  if (boundTo === backend && bound !== undefined) return bound ?? undefined;
  boundTo = backend;
  bound = null;
  kernelStatus.active = false;
  if (tf.getBackend() !== 'wasm' || !ownGemmWanted()) return undefined;
  const memory = heapMemory(backend);
  if (!memory) return undefined;
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  let module: WebAssembly.Module, exports: GemmExports;
  try {
    const given = (globalThis as Record<string, unknown>)[KERNELS_MODULE_GLOBAL];
    module = given instanceof WebAssembly.Module && !shared ? given : new WebAssembly.Module(kernelModuleBytes({ shared, initialPages: 1 }));
    exports = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as GemmExports;
  } catch (e) {
    // e.g. Cloudflare Workers, which allow no WebAssembly compiled at run time: tfjs's kernels do the work there.
    Object.assign(kernelStatus, { active: false, reason: `its WebAssembly module could not be compiled here (${(e as Error).message})` });
    return undefined;
  }
  const heap = backend.wasm;
  const b: Bound = { backend, memory, module, exports, scratches: [], geo: heap._malloc(CONV_FIELDS.length * 4), invoke: call => invoke(b, call), callLists: [] };
  bound = b;
  if (shared) b.pool = workerPool(module, memory) ?? undefined;
  Object.assign(kernelStatus, { active: true, reason: undefined });
  return bound;
}

const offsetOf = (g: Bound, t: tf.TensorInfo) => g.backend.getMemoryOffset(t.dataId);
const f32 = (g: Bound, ptr: number, n: number) => new Float32Array(g.memory.buffer, ptr, n);

/** Floats of a packed B for K×N (the panels, then the bias padded to whole panels). */
export const packedLength = (K: number, N: number) => Math.ceil(N / NR) * NR * (K + 1);
/** Floats of a 3×3 conv's weights packed for Winograd (C in, N out): 16 packed C×N blocks, then the bias. */
export const winogradLength = (C: number, N: number) => 16 * packedLength(C, N) + N;

/** How a PackedWeights block is laid out: one B for a product (K×N), or a 3×3 conv's 16 Winograd blocks (C×N). */
export type PackedKind = 'gemm' | 'winograd';
const packedFloats = (kind: PackedKind, K: number, N: number) => (kind === 'gemm' ? packedLength(K, N) : winogradLength(K, N));

/**
 * A weight matrix packed into panels for the kernel: a block of the tfjs heap that ocellus allocates and frees
 * itself, not a tfjs tensor (so not in tf.memory(); packedStats() counts them). Packing makes one per product when a
 * session is planned, all kept; made as tensors, that burst of long-lived objects taught V8 to allocate every later
 * tensor's bookkeeping (tfjs's allocation sites, shared with each run's activations) straight into the old
 * generation (allocation-site pretenuring), and RSS crept up run after run in the 1,000-run soak.
 */
export class PackedWeights {
  // ES private: tf.tidy walks what its function returns, and must not walk into the backend's heap from here.
  readonly #g: Bound;
  #freed = false;
  constructor(g: Bound, readonly ptr: number, readonly K: number, readonly N: number, readonly kind: PackedKind = 'gemm') {
    this.#g = g;
    kernelStatus.packed.count++;
    kernelStatus.packed.bytes += packedFloats(kind, K, N) * 4;
  }
  get isDisposed(): boolean { return this.#freed; }
  /** Whether it lives in the heap of this binding (a replaced backend took its heap with it). */
  livesIn(g: Bound): boolean { return this.#g === g; }
  dispose(): void {
    if (this.#freed) return;
    this.#freed = true;
    kernelStatus.packed.count--;
    kernelStatus.packed.bytes -= packedFloats(this.kind, this.K, this.N) * 4;
    if (this.#g === bound) this.#g.backend.wasm._free(this.ptr);
  }
}

/** Packed weight blocks alive in the heap, and their bytes (engine facts report them too). */
export const packedStats = () => ({ ...kernelStatus.packed });

/**
 * Packs B (K×N row-major, or N×K when `transposed`) and an optional bias [N] into panels, straight from their heap
 * copies into a new heap block (dispose() frees it).
 */
export function packWeights(b: tf.Tensor, K: number, N: number, bias?: tf.Tensor, transposed = false): PackedWeights {
  const g = ownGemm();
  if (!g) throw new Error('ocellus GEMM is not available on this backend');
  if (b.size !== K * N || b.dtype !== 'float32') throw new Error(`packWeights: B has ${b.size} ${b.dtype} values, expected ${K}×${N} = ${K * N} float32`);
  if (bias && (bias.size !== N || bias.dtype !== 'float32')) throw new Error(`packWeights: the bias has ${bias.size} ${bias.dtype} values, expected ${N} float32`);
  const ptr = g.backend.wasm._malloc(packedLength(K, N) * 4);
  if (!ptr) throw new Error(`packWeights: the heap has no room for ${packedLength(K, N) * 4} bytes of packed weights`);
  const dst = f32(g, ptr, packedLength(K, N));   // views taken after the allocation (it may grow the heap)
  const src = f32(g, offsetOf(g, b), K * N);
  const panels = Math.ceil(N / NR);
  for (let p = 0; p < panels; p++) {   // panel p: columns j0 … j0 + w − 1 of B, zero past N
    const j0 = p * NR, w = Math.min(NR, N - j0), base = p * K * NR;
    if (transposed) {   // B stored [N, K]: read each column's K values in order
      for (let c = 0; c < w; c++) {
        const s = (j0 + c) * K;
        for (let k = 0; k < K; k++) dst[base + k * NR + c] = src[s + k]!;
      }
    } else {
      for (let k = 0; k < K; k++) {
        const o = base + k * NR, s = k * N + j0;
        for (let c = 0; c < w; c++) dst[o + c] = src[s + c]!;
      }
    }
    if (w < NR) for (let k = 0; k < K; k++) dst.fill(0, base + k * NR + w, base + (k + 1) * NR);
  }
  const tail = panels * NR * K;
  dst.fill(0, tail);
  if (bias) dst.set(f32(g, offsetOf(g, bias), N), tail);
  return new PackedWeights(g, ptr, K, N);
}

/** Winograd's G for F(2×2, 3×3): U = G·g·Gᵀ turns a 3×3 kernel g into the 4×4 one the tiles are multiplied by. */
const WINOGRAD_G = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]] as const;

/**
 * Packs a 3×3 conv's weights w [3, 3, C, N] (tfjs layout) and an optional bias [N] for winograd(): for each of the
 * 16 positions ξ = (a, b) of the 4×4 transformed kernel, U[ξ][c][n] = (G·g·Gᵀ)[a][b] with g = w[·, ·, c, n], packed
 * as a C×N B; the bias after the 16 blocks.
 */
export function packWinograd(w: tf.Tensor, C: number, N: number, bias?: tf.Tensor): PackedWeights {
  const g = ownGemm();
  if (!g) throw new Error('ocellus GEMM is not available on this backend');
  if (w.size !== 9 * C * N || w.dtype !== 'float32') throw new Error(`packWinograd: the weight has ${w.size} ${w.dtype} values, expected 3×3×${C}×${N} = ${9 * C * N} float32`);
  if (bias && (bias.size !== N || bias.dtype !== 'float32')) throw new Error(`packWinograd: the bias has ${bias.size} ${bias.dtype} values, expected ${N} float32`);
  const floats = winogradLength(C, N), L = packedLength(C, N);
  const ptr = g.backend.wasm._malloc(floats * 4);
  if (!ptr) throw new Error(`packWinograd: the heap has no room for ${floats * 4} bytes of packed weights`);
  const dst = f32(g, ptr, floats), src = f32(g, offsetOf(g, w), 9 * C * N);
  dst.fill(0);
  const k = new Float64Array(9), t = new Float64Array(12), G = Float64Array.from(WINOGRAD_G.flat());   // no row destructuring per value
  for (let c = 0; c < C; c++) {
    for (let n = 0; n < N; n++) {
      for (let i = 0; i < 9; i++) k[i] = src[(i * C + c) * N + n]!;
      for (let a = 0; a < 4; a++) {     // t = G·g (4×3)
        const g0 = G[a * 3]!, g1 = G[a * 3 + 1]!, g2 = G[a * 3 + 2]!;
        for (let j = 0; j < 3; j++) t[a * 3 + j] = g0 * k[j]! + g1 * k[3 + j]! + g2 * k[6 + j]!;
      }
      const o = (Math.floor(n / NR) * C + c) * NR + (n % NR);
      for (let a = 0; a < 4; a++) {     // U = t·Gᵀ (4×4)
        const t0 = t[a * 3]!, t1 = t[a * 3 + 1]!, t2 = t[a * 3 + 2]!;
        for (let b = 0; b < 4; b++) dst[(a * 4 + b) * L + o] = G[b * 3]! * t0 + G[b * 3 + 1]! * t1 + G[b * 3 + 2]! * t2;
      }
    }
  }
  if (bias) dst.set(f32(g, offsetOf(g, bias), N), 16 * L);
  return new PackedWeights(g, ptr, C, N, 'winograd');
}

/** Whether winograd() can run this conv: 3×3, stride 1, no dilation, channels in and out multiples of 4. */
export function winogradFits(w: Pick<ConvWindow, 'kernel' | 'strides' | 'dilations'>, C: number, N: number): boolean {
  return w.kernel[0] === 3 && w.kernel[1] === 3 && w.strides[0] === 1 && w.strides[1] === 1 && w.dilations[0] === 1 && w.dilations[1] === 1
    && C % 4 === 0 && N % 4 === 0;
}

/** The packed block's offset, checked to be live and to hold K×N of this kind. */
function packedAt(g: Bound, p: PackedWeights, K: number, N: number, kind: PackedKind = 'gemm'): number {
  if (p.isDisposed) throw new Error('the packed weights were disposed');
  if (!p.livesIn(g)) throw new Error('the packed weights belong to a tfjs backend that was replaced');
  const layout = (k: PackedKind) => (k === 'gemm' ? 'a product' : 'a Winograd 3×3 conv');
  if (p.kind !== kind) throw new Error(`the packed weights are laid out for ${layout(p.kind)}, this is ${layout(kind)}`);
  if (p.K !== K || p.N !== N) throw new Error(`the packed weights are ${p.K}×${p.N}, the product needs ${K}×${N}`);
  return p.ptr;
}

/** Blocking and threading knobs: the K chunk, how a product splits over threads ('auto': rows when M > N), and
 *  whether 3×3 convs at stride 1 go by Winograd. From OCELLUS_GEMM_KC / OCELLUS_GEMM_SPLIT / OCELLUS_WINOGRAD (0:
 *  off), read once (not per product); setGemmTuning changes them (tests, A/B runs; Winograd for convs planned after). */
export interface GemmTuning { kc: number; split: 'auto' | 'm' | 'n'; winograd: boolean }
const DEFAULT_TUNING: GemmTuning = {
  kc: Number(envVar('OCELLUS_GEMM_KC')) || 1024,
  split: envVar('OCELLUS_GEMM_SPLIT') === 'm' || envVar('OCELLUS_GEMM_SPLIT') === 'n' ? envVar('OCELLUS_GEMM_SPLIT') as 'm' | 'n' : 'auto',
  winograd: envVar('OCELLUS_WINOGRAD') !== '0',
};
let tuning: GemmTuning = { ...DEFAULT_TUNING };

/** Overrides some knobs; undefined restores the defaults. */
export function setGemmTuning(t: Partial<GemmTuning> | undefined): void {
  tuning = t ? { ...tuning, ...t } : { ...DEFAULT_TUNING };
}

/** Blocking: K in chunks of kc (a panel chunk, kc·NR floats, stays in L1); rows in blocks of mc, so a block's
 *  im2col rows stay within ~1 MiB and a dense block's K chunk within 512 KiB (L2). */
function blocking(M: number, K: number, im2col: boolean): { mc: number; kc: number } {
  const kc = Math.min(K, tuning.kc);
  const cap = im2col ? Math.floor(262144 / K) : Math.floor(131072 / kc);
  return { kc, mc: Math.max(MR, Math.min(256, Math.floor(cap / MR) * MR, Math.ceil(M / MR) * MR)) };
}

function ensureRows(g: Bound, s: ThreadScratch, bytes: number): void {
  if (s.rowBytes >= bytes || bytes === 0) return;
  if (s.rows) g.backend.wasm._free(s.rows);
  s.rows = g.backend.wasm._malloc(bytes);
  s.rowBytes = bytes;
}

/** What is applied after the bias (and residual). */
export type GemmActivation = 'linear' | 'relu' | 'gelu';
const FLAGS: Record<GemmActivation, number> = { linear: 0, relu: RELU, gelu: GELU };

/** A residual summand's heap offset, checked to have the output's size (0 = none). */
function residualAt(g: Bound, res: tf.Tensor | undefined, size: number): number {
  if (!res) return 0;
  if (res.size !== size || res.dtype !== 'float32') throw new Error(`the residual has ${res.size} ${res.dtype} values, the product ${size} float32`);
  return offsetOf(g, res);
}

/**
 * act(A·B + bias + res) for A [M, K] (any tensor holding M·K floats), B packed by packWeights and an optional
 * residual holding M·N floats: a new [M, N] tensor (or `shape`, holding M·N values).
 */
export function denseProduct(a: tf.Tensor, packed: PackedWeights, M: number, K: number, N: number, act: GemmActivation, res?: tf.Tensor, shape?: number[]): tf.Tensor {
  const g = ownGemm()!;
  const r = residualAt(g, res, M * N), pb = packedAt(g, packed, K, N);
  const out = g.backend.makeOutput(shape ?? [M, N], 'float32');
  const aPtr = offsetOf(g, a), { mc, kc } = blocking(M, K, false), c = offsetOf(g, out), flags = FLAGS[act];
  split(g, M, N, 0, scratchBytes(mc, kc), (m0, m1, n0, n1, s) => ({ fn: 'dense', args: [aPtr, K * 4, m0, m1, n0, n1, mc, kc, pb, K, N, c, N * 4, r, flags, s.tile] }));
  return tensorOf(out);
}

/** A 2-D convolution's window, NHWC: what conv() needs besides the tensors. */
export interface ConvWindow {
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
  padBegin: [number, number];
  out: [number, number];
}

/**
 * act(conv(x, W) + bias + res) for NHWC x [n, H, W, C], W [kh, kw, C, N] packed as K = kh·kw·C rows and an optional
 * residual shaped like the output: [n, OH, OW, N].
 */
export function convProduct(x: tf.Tensor, packed: PackedWeights, N: number, w: ConvWindow, act: 'linear' | 'relu', res?: tf.Tensor): tf.Tensor {
  const g = ownGemm()!;
  const xs = x.shape, n = xs[0]!, H = xs[1]!, W = xs[2]!, C = xs[3]!;
  const OH = w.out[0], OW = w.out[1], M = n * OH * OW;
  if (packed.kind === 'winograd') return winogradConv(g, x, packed, N, w, act, res);
  // A 1×1 window at stride 1 without padding reads each input pixel as it is: the input is already A.
  if (isPointwise(w) && OH === H && OW === W) return denseProduct(x, packed, M, C, N, act, res, [n, OH, OW, N]);
  const K = w.kernel[0] * w.kernel[1] * C;
  const r = residualAt(g, res, M * N), pb = packedAt(g, packed, K, N);
  const out = g.backend.makeOutput([n, OH, OW, N], 'float32');
  const { mc, kc } = blocking(M, K, true);
  const geo = geoView(g);
  geo.set([offsetOf(g, x), H, W, C, OH, OW, w.kernel[0], w.kernel[1], w.strides[0], w.strides[1], w.dilations[0], w.dilations[1], w.padBegin[0], w.padBegin[1]]);
  const c = offsetOf(g, out), flags = FLAGS[act];
  split(g, M, N, mc * K * 4, scratchBytes(mc, kc), (m0, m1, n0, n1, s) => ({ fn: 'conv', args: [g.geo, m0, m1, n0, n1, mc, kc, pb, N, c, r, flags, s.rows, s.tile] }));
  return tensorOf(out);
}

/** Tiles per block of winograd(): the block's V and M (16 × tiles × (C + N) floats) within 2 MiB, whole micro-tiles.
 *  (0.5–4 MiB measured alike: bench/RESULTS.md, "Moved from code comments".) */
function winogradBlocking(tiles: number, C: number, N: number): { mc: number; kc: number } {
  const cap = Math.floor(2 ** 21 / (64 * (C + N)));
  return { kc: Math.min(C, tuning.kc), mc: Math.max(MR, Math.min(Math.floor(cap / MR) * MR, Math.ceil(tiles / MR) * MR)) };
}

/** Whether a conv planned now should be packed for Winograd: it fits, and the tuning has it on. */
export const winogradWanted = (w: Pick<ConvWindow, 'kernel' | 'strides' | 'dilations'>, C: number, N: number) => tuning.winograd && winogradFits(w, C, N);

/** convProduct for weights packed by packWinograd: 2×2 output tiles, split over the threads by tiles or by columns. */
function winogradConv(g: Bound, x: tf.Tensor, packed: PackedWeights, N: number, w: ConvWindow, act: 'linear' | 'relu', res?: tf.Tensor): tf.Tensor {
  const xs = x.shape, n = xs[0]!, H = xs[1]!, W = xs[2]!, C = xs[3]!;
  const OH = w.out[0], OW = w.out[1];
  if (!winogradFits(w, C, N)) throw new Error(`Winograd weights for a ${w.kernel.join('×')} window at stride ${w.strides.join('/')}, dilation ${w.dilations.join('/')}, ${C} → ${N} channels: it takes 3×3, stride 1, no dilation, channels multiples of 4`);
  const r = residualAt(g, res, n * OH * OW * N), pu = packedAt(g, packed, C, N, 'winograd');
  const out = g.backend.makeOutput([n, OH, OW, N], 'float32');
  const tiles = n * Math.ceil(OH / 2) * Math.ceil(OW / 2);
  const { mc, kc } = winogradBlocking(tiles, C, N);
  geoView(g).set([offsetOf(g, x), H, W, C, OH, OW, 3, 3, 1, 1, 1, 1, w.padBegin[0], w.padBegin[1]]);
  const c = offsetOf(g, out), flags = FLAGS[act];
  split(g, tiles, N, (16 * mc * (C + N) + C) * 4, scratchBytes(mc, kc), (m0, m1, n0, n1, s) => ({ fn: 'winograd', args: [g.geo, m0, m1, n0, n1, mc, kc, pu, N, c, r, flags, s.rows, s.tile] }));
  return tensorOf(out);
}

const isPointwise = (w: ConvWindow) => w.kernel[0] === 1 && w.kernel[1] === 1 && w.strides[0] === 1 && w.strides[1] === 1
  && w.padBegin[0] === 0 && w.padBegin[1] === 0;

/** The conv geometry record as an Int32Array, made again only when the heap has grown (a view per call was garbage
 *  the soak could see). */
function geoView(g: Bound): Int32Array {
  if (g.geoView?.buffer !== g.memory.buffer) g.geoView = new Int32Array(g.memory.buffer, g.geo, CONV_FIELDS.length);
  return g.geoView;
}

/** Largest score matrix (Nq·Nk floats per thread) attentionProduct takes; longer sequences stay on tfjs. */
export const MAX_ATTENTION_SCORES = 1 << 22;

/**
 * softmax(scale·Q·Kᵀ)·V per (batch, head) for q [B, Nq, H·D], k [B, Nk, H·D], v [B, Nk, H·Dv] (heads are column
 * ranges, as Hugging Face ViT lays them out): a new [B, Nq, H·Dv]. Pairs are shared out over the threads.
 */
export function attentionProduct(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, heads: number, scale: number): tf.Tensor {
  const g = ownGemm()!;
  const [B, Nq, C] = q.shape as [number, number, number], [, Nk] = k.shape as [number, number], Cv = v.shape[2]!;
  const D = C / heads, Dv = Cv / heads;
  const out = g.backend.makeOutput([B, Nq, Cv], 'float32');
  const pairs = B * heads, mc = Math.min(256, Math.ceil(Nq / MR) * MR);
  const scaleBits = f32Bits(scale);
  const ptrs = [offsetOf(g, q), offsetOf(g, k), offsetOf(g, v), offsetOf(g, out)];
  const threads = Math.min((g.pool?.size ?? 0) + 1, pairs), per = Math.ceil(pairs / threads);
  const calls = callList(g, Math.ceil(pairs / per));
  for (let p = 0, t = 0; p < pairs; p += per, t++) {
    const s = scratchFor(g, t, attentionWorkFloats(Nq, Nk, D, Dv) * 4, scratchBytes(mc, Math.max(D, Nk)));
    calls[t] = { fn: 'attention', args: [...ptrs, Nq, Nk, heads, D, Dv, scaleBits, p, Math.min(pairs, p + per), mc, s.rows, s.tile] };
  }
  run(g, calls);
  return tensorOf(out);
}

const f32Bits = (x: number) => new Int32Array(new Float32Array([x]).buffer)[0]!;

/**
 * (x − mean) / √(var + eps) · gamma + beta over the last `cols` values of x (gamma and beta: cols floats each, or
 * undefined): a new tensor shaped like x. One pass for the mean, one for the variance, one to write.
 */
export function layerNormRows(x: tf.Tensor, cols: number, gamma: tf.Tensor | undefined, beta: tf.Tensor | undefined, eps: number): tf.Tensor {
  const g = ownGemm()!;
  for (const [what, p] of [['gamma', gamma], ['beta', beta]] as const) {
    if (p && (p.size !== cols || p.dtype !== 'float32')) throw new Error(`${what} has ${p.size} ${p.dtype} values, expected ${cols} float32`);
  }
  const out = g.backend.makeOutput([...x.shape], 'float32');
  if (x.size > 0) {
    g.exports.layernorm(offsetOf(g, x), offsetOf(g, out), x.size / cols, cols, gamma ? offsetOf(g, gamma) : 0, beta ? offsetOf(g, beta) : 0, f32Bits(eps));
  }
  return tensorOf(out);
}

function scratchFor(g: Bound, t: number, rowBytes: number, tileBytes: number): ThreadScratch {
  const s = g.scratches[t] ??= { tile: 0, tileBytes: 0, rows: 0, rowBytes: 0 };
  if (s.tileBytes < tileBytes) {
    if (s.tile) g.backend.wasm._free(s.tile);
    s.tile = g.backend.wasm._malloc(tileBytes);
    if (!s.tile) throw new Error(`the heap has no room for ${tileBytes} bytes of GEMM scratch`);
    s.tileBytes = tileBytes;
  }
  ensureRows(g, s, rowBytes);
  return s;
}

/** Runs calls[0] here and the others on the pool's workers. */
function run(g: Bound, calls: GemmCall[]): void {
  if (calls.length === 1) return invoke(g, calls[0]!);
  g.pool!.run(calls, g.invoke);
}

/** Calls an export with the call's arguments, at most 16 (thread-thread-pool.ts's MAX_ARGS; a WebAssembly function ignores extra
 *  ones): spreading or apply() would allocate an argument list per call. */
function invoke(g: Bound, { fn, args: a }: GemmCall): void {
  (g.exports[fn] as (...a: number[]) => void)(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!, a[9]!, a[10]!, a[11]!, a[12]!, a[13]!, a[14]!, a[15]!);
}

/**
 * Runs the M×N output over this thread and the pool's workers, each with its own scratch (`rowBytes` of im2col
 * rows or work area, `tileBytes` for block()'s tile and packed A): split by rows (multiples of MR) or by columns
 * (multiples of NR). `call` makes one thread's call.
 * Allocates only the calls' argument lists: a ResNet-50 run makes ~100 of these, and the soak watches what V8 keeps.
 */
function split(g: Bound, M: number, N: number, rowBytes: number, tileBytes: number, call: (m0: number, m1: number, n0: number, n1: number, s: ThreadScratch) => GemmCall): void {
  if (M === 0 || N === 0) return;
  const mode = tuning.split;
  // Split by rows, each thread reads all of B and its share of A; by columns, its share of B and all of A (and
  // gathers all im2col rows): the rows when M > N, which scaled better than rows always (bench/RESULTS.md, "Moved
  // from code comments").
  const T = (g.pool?.size ?? 0) + 1;
  const rowsOk = M >= 2 * MR * T, colsOk = N >= 2 * NR * T;
  const byRows = mode === 'm' || (mode === 'auto' && rowsOk && (M > N || !colsOk));
  const len = byRows ? M : N, unit = byRows ? MR : NR;
  const threads = Math.min(T, Math.ceil(len / (2 * unit)));
  const per = Math.ceil(len / threads / unit) * unit;
  const calls = callList(g, Math.ceil(len / per));
  for (let x = 0, t = 0; x < len; x += per, t++) {
    const s = scratchFor(g, t, rowBytes, tileBytes);
    const x1 = Math.min(len, x + per);
    calls[t] = byRows ? call(x, x1, 0, N, s) : call(0, M, x, x1, s);
  }
  run(g, calls);
}

/** A reused array for `count` calls (one per thread count). */
function callList(g: Bound, count: number): GemmCall[] {
  return g.callLists[count] ??= new Array<GemmCall>(count);
}
