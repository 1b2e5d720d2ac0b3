// Matrix products: Gemm, MatMul (numpy batching, 1-D operands promoted then squeezed) and local:FusedMatMul
// (MatMul + bias + optional relu/gelu). The tfjs WASM backend multiplies through XNNPACK only when neither operand is
// transposed and both batches are 1; otherwise a naive loop runs 10–15× slower. So batch dims are folded into rows
// when B is a plain matrix, small batched products (attention heads) go slice by slice, and a bias is fused only there.

import * as tf from '@tensorflow/tfjs-core';
import { sizeOf } from '../src/ir/dtype.js';
import { op, type InferView, type NodeView, type OpDef, type PlanCtx, type RunCtx, type ValueInfo } from './types.js';
import { floatInput } from './check.js';
import { gelu } from './norm.js';
import { broadcastShapes, dims, matrices, numel, same } from './util.js';
import { denseProduct, ownGemm, packWeights, type PackedWeights } from './wasm/gemm.js';

// ---- MatMul planning: shapes are static, so each step decides its strategy once -------------------------------

interface MatMulPlan {
  rows: boolean;            // B is one matrix: A's batch dims fold into its rows → a single XNNPACK product
  a: number[];              // A reshaped to [rows, K] or [P, M, K] (after broadcasting to `aFull` if set)
  b: number[];              // B reshaped to [K, N] or [P, K, N]
  aFull?: number[];         // broadcast target of A's batch dims (batched only)
  bFull?: number[];
  slices: number;           // > 1: compute the P products one by one (faster than the naive batched loop)
  out: number[];
}

// Per-slice XNNPACK beats the naive batched loop from ~64k MACs per slice at any count; below it the per-call cost
// (operator creation, upload) wins (the measurements: bench/RESULTS.md, "Moved from code comments").
const MIN_SLICE_MACS = 1 << 16;

function matmulShape(n: NodeView, as: readonly number[], bs: readonly number[]): { batch: number[]; m: number; k: number; n: number; out: number[] } {
  n.check(as.length >= 1 && bs.length >= 1, () => `operands must have rank ≥ 1, got ${dims(as)} and ${dims(bs)}`);
  const a = as.length === 1 ? [1, as[0]!] : as, b = bs.length === 1 ? [bs[0]!, 1] : bs;
  const [m, k] = a.slice(-2) as [number, number], [k2, nn] = b.slice(-2) as [number, number];
  n.check(k === k2, () => `inner dimensions differ: A ${dims(as)} has ${k} columns, B ${dims(bs)} has ${k2} rows`);
  const batch = broadcastShapes(a.slice(0, -2), b.slice(0, -2));
  if (!batch) n.fail(`batch dims of A ${dims(as)} and B ${dims(bs)} do not broadcast`);
  const out = [...batch, ...(as.length > 1 ? [m] : []), ...(bs.length > 1 ? [nn] : [])];
  return { batch, m, k, n: nn, out };
}

function matmulPlan(v: NodeView, as: readonly number[], bs: readonly number[]): MatMulPlan {
  const { batch, m, k, n, out } = matmulShape(v, as, bs);
  const bBatch = bs.length > 2 ? sizeOf(bs.slice(0, -2)) : 1;
  if (bBatch === 1) return { rows: true, a: [sizeOf(as.slice(0, -1)), k], b: [k, n], slices: 1, out };
  const p = sizeOf(batch);
  const full = (s: readonly number[], tail: number[]) => {
    const own = s.length > 2 ? s.slice(0, -2) : [];
    return own.length === batch.length && own.every((d, i) => d === batch[i]) ? undefined : [...batch, ...tail];
  };
  const slices = p > 1 && m * k * n >= MIN_SLICE_MACS ? p : 1;
  return { rows: false, a: [p, m, k], b: [p, k, n], aFull: full(as, [m, k]), bFull: full(bs, [k, n]), slices, out };
}

function product(a: tf.Tensor, b: tf.Tensor, p: MatMulPlan): tf.Tensor {
  const a3 = tf.reshape(p.aFull ? tf.broadcastTo(a, p.aFull) : a, p.a);
  const b3 = tf.reshape(p.bFull ? tf.broadcastTo(b, p.bFull) : b, p.b);
  if (p.slices === 1) return tf.matMul(a3, b3);
  const am = matrices(a3), bm = matrices(b3);
  return tf.stack(Array.from({ length: p.slices }, (_, i) => tf.tidy(() => tf.matMul(am(i), bm(i)))));
}

/** B packed for ocellus's GEMM (kernels/wasm/gemm.ts) when it runs here, B is a constant matrix and the bias, if
 *  any, a constant per output column (packed with it); else undefined. Made when planning, kept by the session. */
function ownWeights(b: tf.Tensor | undefined, bias: tf.Tensor | undefined, p: MatMulPlan, c: PlanCtx, fuse: boolean): PackedWeights | undefined {
  const [m, k] = p.a as [number, number], n = p.b[1]!;
  const fits = p.rows && c.inputs[0]!.dtype === 'float32' && !!b && !!c.consts[1] && (!c.inputs[2] || (fuse && !!bias && !!c.consts[2]))
    && m > 0 && k > 0 && n > 0;
  if (!fits || !ownGemm()) return undefined;
  return c.derive(b, `gemm/${bias?.id ?? ''}`, () => packWeights(b, k, n, bias));
}

function ownProduct(a: tf.Tensor, packed: PackedWeights, p: MatMulPlan, act: Activation, res?: tf.Tensor): tf.Tensor {
  return denseProduct(a, packed, p.a[0]!, p.a[1]!, p.b[1]!, act, res);
}

/** Every operand given is float (the products run in float32). */
function checkFloat(n: NodeView, ...xs: (ValueInfo | undefined)[]): void {
  for (const [i, x] of xs.entries()) if (x) floatInput(n, x, `input ${i}`);
}

/** MatMul (numpy semantics) and local:FusedMatMul: out_elems × K, K = A's last dim. */
const matMulMacs = (_a: unknown, [a]: readonly (ValueInfo | undefined)[], [y]: readonly (ValueInfo | undefined)[]) =>
  (a && y ? numel(y.shape) * a.shape.at(-1)! : 0);

const matMul = op({
  opType: 'MatMul', since: 1, family: 'matmul', macs: matMulMacs,
  parse: () => ({}),
  infer: (n: InferView, [a, b]) => {
    checkFloat(n, same(a, n), same(b, n, 1));
    return [{ dtype: a!.dtype, shape: matmulShape(n, a!.shape, b!.shape).out }];
  },
  plan: (n, [, b], _a, c) => {
    const p = matmulPlan(n, c.inputs[0]!.shape, c.inputs[1]!.shape);
    return { p, packed: ownWeights(b, undefined, p, c, false) };
  },
  run: ([a, b], _a, _c, { p, packed }) => {
    if (packed && ownGemm()) return [tf.reshape(ownProduct(a!, packed, p, 'linear'), p.out)];
    return [tf.reshape(p.rows ? tf.matMul(tf.reshape(a!, p.a), tf.reshape(b!, p.b)) : product(a!, b!, p), p.out)];
  },
});

// ---- local:FusedMatMul: act(MatMul(A, B) + bias) [+ Z], written by the fuse-matmul-* passes ----------------------
// Inputs A, B, optional bias, optional residual Z (the product's shape; only with no activation).

type Activation = 'linear' | 'relu' | 'gelu';

function activate(x: tf.Tensor, act: Activation): tf.Tensor {
  return act === 'relu' ? tf.relu(x) : act === 'gelu' ? gelu(x) : x;
}

/** A bias the WASM kernel can fuse: rank 1, one value per output column. It checks the rank the data was created
 *  with, so a reshaped [1, N] is refused; and a copy would get a new id each run, defeating XNNPACK's operator cache
 *  (keyed on the weight and bias ids) — such biases are added after the product instead. */
const perColumn = (bias: ValueInfo | undefined, n: number) => !!bias && bias.shape.length === 1 && bias.shape[0] === n;

type FusedPlan = MatMulPlan & { fuse: boolean };
const fusedPlan = (n: NodeView, c: RunCtx): FusedPlan => ({ ...matmulPlan(n, c.inputs[0]!.shape, c.inputs[1]!.shape), fuse: perColumn(c.inputs[2], c.outputs[0]!.shape.at(-1)!) });

const fusedMatMul = op({
  opType: 'FusedMatMul', domain: 'local', since: 1, family: 'matmul', macs: matMulMacs,
  parse: (n: NodeView) => {
    const act = n.attrs.string('activation', '') || 'linear';
    if (act !== 'linear' && act !== 'relu' && act !== 'gelu') n.fail(`activation '${act}' is not supported ('', 'relu', 'gelu')`);
    return { act: act as Activation };
  },
  infer: (n: InferView, [a, b, bias, z], { act }) => {
    checkFloat(n, same(a, n), same(b, n, 1), bias, z);
    const out = matmulShape(n, a!.shape, b!.shape).out;
    if (bias) {
      const s = broadcastShapes(out, bias.shape);
      n.check(s && s.length === out.length && s.every((d, i) => d === out[i]), () => `bias ${dims(bias.shape)} does not broadcast to the product ${dims(out)}`);
    }
    if (z) {
      n.check(z.dtype === a!.dtype && z.shape.join() === out.join(), () => `residual Z is ${z.dtype} ${dims(z.shape)}, expected ${a!.dtype} ${dims(out)} (the product's)`);
      n.check(act === 'linear', () => `activation '${act}' with a residual Z is not supported`);
    }
    return [{ dtype: a!.dtype, shape: out }];
  },
  plan: (n, [, b, bias], _a, c) => {
    const p = fusedPlan(n, c);
    return { p, packed: ownWeights(b, bias, p, c, p.fuse) };
  },
  run: ([a, b, bias, z], { act }, _c, { p, packed }) => {
    if (packed && ownGemm()) return [tf.reshape(ownProduct(a!, packed, p, act, z), p.out)];
    const y = tfProduct(a!, b!, bias, act, p);
    return [z ? tf.add(y, z) : y];   // act is linear when Z is given
  },
});

/** act(A·B + bias) on tfjs: the bias and ReLU fused into the XNNPACK product where tfjs can. */
function tfProduct(a: tf.Tensor, b: tf.Tensor, bias: tf.Tensor | undefined, act: Activation, p: FusedPlan): tf.Tensor {
  if (p.rows && (p.fuse || !bias)) {
    const y = tf.fused.matMul({
      a: tf.reshape(a, p.a), b: tf.reshape(b, p.b), bias,
      activation: act === 'relu' ? 'relu' : 'linear',
    });
    return tf.reshape(act === 'gelu' ? gelu(y) : y, p.out);
  }
  const y = tf.reshape(p.rows ? tf.matMul(tf.reshape(a, p.a), tf.reshape(b, p.b)) : product(a, b, p), p.out);
  return activate(bias ? tf.add(y, bias) : y, act);
}

// ---- Gemm: Y = alpha·A'·B' + beta·C ------------------------------------------------------------------------------

interface GemmAttrs { alpha: number; beta: number; transA: boolean; transB: boolean }

function gemmParse(n: NodeView): GemmAttrs {
  return {
    alpha: n.attrs.float('alpha', 1), beta: n.attrs.float('beta', 1),
    transA: n.attrs.int('transA', 0) === 1, transB: n.attrs.int('transB', 0) === 1,
  };
}

function gemmInfer(n: NodeView, [a, b, cc]: readonly (ValueInfo | undefined)[], at: GemmAttrs): ValueInfo[] {
  const as = same(a, n).shape, bs = same(b, n, 1).shape;
  checkFloat(n, a, b, cc);
  n.check(as.length === 2 && bs.length === 2, () => `A and B must be matrices, got ${dims(as)} and ${dims(bs)}`);
  const [m, k] = at.transA ? [as[1]!, as[0]!] : [as[0]!, as[1]!];
  const [k2, nn] = at.transB ? [bs[1]!, bs[0]!] : [bs[0]!, bs[1]!];
  n.check(k === k2, () => `inner dimensions differ: A${at.transA ? 'ᵀ' : ''} is ${m}×${k}, B${at.transB ? 'ᵀ' : ''} is ${k2}×${nn}`);
  if (cc) {
    const s = broadcastShapes([m, nn], cc.shape);
    n.check(s && s.length === 2 && s[0] === m && s[1] === nn, () => `C ${dims(cc.shape)} does not broadcast to the output [${m}, ${nn}]`);
  }
  return [{ dtype: a!.dtype, shape: [m, nn] }];
}

/** Transposing an operand first pays off once it is reused enough (rows of the other side ≥ 16): XNNPACK path. */
const MATERIALISE_TRANSPOSE_AT = 16;

/** Gemm's B (as stored, transposed or not) packed for ocellus's GEMM when it runs here and the node is a plain
 *  product: A not transposed, alpha 1, B constant, C absent, ignored (beta 0) or a constant per-column bias at beta 1
 *  (a classifier head as exporters write it); else undefined. */
function ownGemmWeights(b: tf.Tensor | undefined, cc: tf.Tensor | undefined, at: GemmAttrs, c: PlanCtx): PackedWeights | undefined {
  const [m, n] = c.outputs[0]!.shape as [number, number], k = c.inputs[1]!.shape[at.transB ? 1 : 0]!;
  const bias = cc && at.beta !== 0 ? cc : undefined;
  const fits = !at.transA && at.alpha === 1 && c.inputs[0]!.dtype === 'float32' && !!b && !!c.consts[1] && m > 0 && k > 0 && n > 0
    && (!bias || (at.beta === 1 && perColumn(c.inputs[2], n) && !!c.consts[2]));
  if (!fits || !ownGemm()) return undefined;
  return c.derive(b, `gemm${at.transB ? 'T' : ''}/${bias?.id ?? ''}`, () => packWeights(b, k, n, bias, at.transB));
}

function gemmRun([a, b, cc]: readonly (tf.Tensor | undefined)[], at: GemmAttrs, c: RunCtx, packed: PackedWeights | undefined): tf.Tensor[] {
  const [m, n] = c.outputs[0]!.shape as [number, number];
  if (packed && ownGemm()) return [denseProduct(a!, packed, m, packed.K, n, 'linear')];
  const ta = at.transA && n >= MATERIALISE_TRANSPOSE_AT, tb = at.transB && m >= MATERIALISE_TRANSPOSE_AT;
  const A = ta ? tf.transpose(a!) : a!, B = tb ? tf.transpose(b!) : b!;
  const transA = at.transA && !ta, transB = at.transB && !tb;
  const withC = cc && at.beta !== 0;
  if (!transA && !transB && at.alpha === 1 && withC && at.beta === 1 && perColumn(c.inputs[2], n)) {
    return [tf.fused.matMul({ a: A, b: B, bias: cc })];  // C fused into the XNNPACK product
  }
  let y = tf.matMul(A, B, transA, transB);
  if (at.alpha !== 1) y = tf.mul(y, at.alpha);
  if (withC) y = tf.add(y, at.beta === 1 ? cc : tf.mul(cc, at.beta));
  return [y];
}

/** Gemm 7–10: C is required (and broadcasts); 11 makes it optional. Earlier versions' `broadcast` attr is not supported. */
const gemm = (since: number) => op({
  opType: 'Gemm', since, family: 'matmul',
  macs: (at: GemmAttrs, [a], [y]) => (a && y ? numel(y.shape) * (at.transA ? a.shape[0]! : a.shape[1]!) : 0),
  parse: (n: NodeView) => {
    if (since < 11) n.check(n.has(2), () => `input C is required before opset 11 (the model imports ${n.opset})`);
    return gemmParse(n);
  },
  infer: (n: InferView, xs, at) => gemmInfer(n, xs, at),
  plan: (_n, [, b, cc], at, c) => ownGemmWeights(b, cc, at, c),
  run: gemmRun,
});

export const GEMM_OPS: OpDef<any>[] = [matMul, fusedMatMul, gemm(7), gemm(11)];
