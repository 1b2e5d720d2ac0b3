// Quantized operators: Quantize/DequantizeLinear (10 per-tensor, 13 per-axis), DynamicQuantizeLinear, MatMulInteger,
// ConvInteger, QLinearMatMul, QLinearConv, and the fused local:DynQuantMatMul / local:NhwcDynQuantConv. Constant 8-bit
// weights stay host Int8Array/Uint8Array (OpDef.hostInputs); their widened layouts are made when planning (the
// step's state). The exact integer products and convolutions they run on are in int-exact.ts. On the WASM backend
// the integer products run on ocellus's int8 kernels instead when the weights are constant (quant-int8.ts,
// kernels/wasm/int8.ts: weights packed once as 8-bit; for the fused ops DynamicQuantizeLinear, the product and the
// dequantize + bias + ReLU all in the heap): same arithmetic, same bits.

import * as tf from '@tensorflow/tfjs-core';
import type { DType } from '../src/ir/dtype.js';
import type { ConstTensor } from '../src/ir/graph.js';
import { parseWindow, windowGeometry, type Geometry, type WindowSpec } from './conv.js';
import { op, type Inputs, type NodeView, type OpDef, type PlanCtx, type RunCtx, type ValueInfo } from './types.js';
import { floatInput } from './check.js';
import { centred, dynamicQuantize, EXACT, hostFilter, hostMatrix, intConv, intMatMul, RANGE, requantize, saturate, spread, type HostFilter, type HostMatrix } from './int-exact.js';
import { broadcastShapes, dims, normAxis, numel, tensorToConst } from './util.js';
import { int8Conv, int8Dense, type Int8Window } from './wasm/int8.js';
import { planInt8, runInt8, runInt8Integer, windowOf, type Int8Set } from './quant-int8.js';
const f32 = Math.fround;

// ---- value ranges and checks ----------------------------------------------------------------------------------------

function need8bit(n: NodeView, v: ValueInfo | undefined, what: string): ValueInfo {
  if (!v) n.fail(`${what} is required`);
  if (!RANGE[v.dtype]) n.fail(`${what} is ${v.dtype}; expected uint8 or int8`);
  return v;
}

function needType(n: NodeView, v: ValueInfo | undefined, what: string, ok: readonly DType[]): ValueInfo {
  if (!v || !ok.includes(v.dtype)) n.fail(`${what} is ${v?.dtype ?? 'missing'}; expected ${ok.join(' or ')}`);
  return v;
}

const needFloat = (n: NodeView, v: ValueInfo | undefined, what: string) => floatInput(n, v, what, { float32: true });

/** A zero point (optional) must have its tensor's type; a scale/zero point pair the same size. */
function checkZeroPoint(n: NodeView, zp: ValueInfo | undefined, dtype: DType, what: string, scale?: ValueInfo): void {
  if (!zp) return;
  if (zp.dtype !== dtype) n.fail(`${what} is ${zp.dtype} but must have the quantized tensor's type ${dtype}`);
  if (scale && numel(zp.shape) !== numel(scale.shape)) n.fail(`${what} ${dims(zp.shape)} and its scale ${dims(scale.shape)} differ in size`);
}

// ---- host values, weights widened when planning ----------------------------------------------------------------------

/** Host value of input i: the plan's constant, or (node tests, fed inputs) read back from the tensor. */
function host(x: Inputs, c: RunCtx, i: number): ConstTensor | undefined {
  return c.consts[i] ?? (x[i] ? tensorToConst(x[i]!, c.inputs[i]!.dtype) : undefined);
}

function zeroPoints(x: Inputs, c: RunCtx, i: number): Int32Array {
  const z = host(x, c, i);
  return z ? Int32Array.from(z.data as ArrayLike<number>) : new Int32Array(1);
}

/** Whether input i and its (optional) zero point iz are constants: the host form is then made when planning. */
const constantWithZp = (c: RunCtx, i: number, iz: number) => !!c.consts[i] && (!c.inputs[iz] || !!c.consts[iz]);

/** B of an integer product as hostMatrix lays it out, made when planning if constant (else per run). */
function plannedMatrix(c: RunCtx, ib: number, ibz: number): HostMatrix | undefined {
  return constantWithZp(c, ib, ibz) ? hostMatrix(c.consts[ib]!, zeroPoints([], c, ibz), c.inputs[ib]!.shape) : undefined;
}

/** A conv's weights as hostFilter lays them out, made when planning if constant (else per run). */
function plannedFilter(c: RunCtx, iw: number, iwz: number): HostFilter | undefined {
  return constantWithZp(c, iw, iwz) ? hostFilter(c.consts[iw]!, zeroPoints([], c, iwz), c.inputs[iw]!.shape) : undefined;
}

// ---- integer products ----------------------------------------------------------------------------------------------

interface MatMulShape { batch: number[]; m: number; k: number; n: number; out: number[]; bBatch: number }

/** numpy.matmul shapes (1-D operands promoted, then dropped from the output). B's batch dims must be all 1 or the
 *  broadcast batch (B is a constant matrix in quantized models). */
function matmulShape(n: NodeView, as: readonly number[], bs: readonly number[]): MatMulShape {
  if (as.length < 1 || bs.length < 1) n.fail(`operands must have rank ≥ 1, got ${dims(as)} and ${dims(bs)}`);
  const a = as.length === 1 ? [1, as[0]!] : as, b = bs.length === 1 ? [bs[0]!, 1] : bs;
  const [m, k] = a.slice(-2) as [number, number], [k2, nn] = b.slice(-2) as [number, number];
  if (k !== k2) n.fail(`inner dimensions differ: A ${dims(as)} has ${k} columns, B ${dims(bs)} has ${k2} rows`);
  const batch = broadcastShapes(a.slice(0, -2), b.slice(0, -2));
  if (!batch) n.fail(`batch dims of A ${dims(as)} and B ${dims(bs)} do not broadcast`);
  const bBatch = numel(b.slice(0, -2));
  if (bBatch !== 1 && bBatch !== numel(batch)) n.fail(`B ${dims(bs)} would need its batch dims broadcast to ${dims(batch)}: not supported`);
  const out = [...batch, ...(as.length > 1 ? [m] : []), ...(bs.length > 1 ? [nn] : [])];
  return { batch, m, k, n: nn, out, bBatch };
}

/** Per-row zero point/scale of A ([M] or [..., M, 1]) shaped to broadcast against A; scalars stay as they are. */
function perRow(v: ValueInfo | undefined, m: number): number[] | undefined {
  return v && v.shape.length === 1 && numel(v.shape) === m && m !== 1 ? [m, 1] : undefined;
}

/** Exact (A − a_zp)·(B − b_zp) for the matmul-family ops; inputs at indices ia, iaz, ib, ibz. */
function matMulInteger(x: Inputs, c: RunCtx, [ia, iaz, ib, ibz]: readonly number[], s: MatMulShape, planned: HostMatrix | undefined, set?: Int8Set): tf.Tensor {
  const aInfo = c.inputs[ia]!, bInfo = c.inputs[ib]!;
  const aZp = c.inputs[iaz] ? zeroPoints(x, c, iaz) : new Int32Array(1);
  if (set && aZp.length === 1) {   // the int8 kernels (a per-row zero point of A stays on the path below)
    const signed = aInfo.dtype === 'int8', M = x[ia]!.size / s.k;
    const y = runInt8Integer(set, x[ia]!, signed, s.out, (k, q, out) => int8Dense(k, q, M, s.k, set.parts[0]!, out, s.n, { kind: 'int32', za: aZp[0]! + (signed ? 128 : 0) }));
    if (y) return y;
  }
  const b = planned ?? hostMatrix(host(x, c, ib)!, zeroPoints(x, c, ibz), bInfo.shape);
  const a = centred(x[ia]!, c.inputs[iaz] ? x[iaz] : undefined, perRow(c.inputs[iaz], s.m));
  const bound = spread(aInfo.dtype, aZp);
  if (s.bBatch === 1) return tf.reshape(intMatMul(tf.reshape(a, [-1, s.k]), b, bound), s.out);
  const full = [...s.batch, s.m, s.k];
  return tf.reshape(intMatMul(tf.reshape(tf.broadcastTo(tf.reshape(a, aInfo.shape.length === 1 ? [1, s.k] : aInfo.shape), full), [-1, s.m, s.k]), b, bound), s.out);
}

/** An integer product's state: shapes, and B packed for the int8 kernels or widened on the host when constant. */
function planMatMul(n: NodeView, x: Inputs, c: PlanCtx, ib: number, ibz: number): { s: MatMulShape; b?: HostMatrix; q?: Int8Set } {
  const s = matmulShape(n, c.inputs[0]!.shape, c.inputs[ib]!.shape);
  const q = s.bBatch === 1 ? planInt8(n, x, c, undefined, [ib, ibz]) : undefined;
  return { s, b: q ? undefined : plannedMatrix(c, ib, ibz), q };
}

interface ConvAttrs { win: WindowSpec; group: number }

function parseConvAttrs(n: NodeView): ConvAttrs {
  const group = n.attrs.int('group', 1);
  if (!(group >= 1)) n.fail(`group ${group} must be ≥ 1`);
  return { win: parseWindow(n), group };
}

/** Checks x [N, C, …] (or NHWC [N, H, W, C]) against a weight [M, C/group, k…]; returns the output geometry. */
function convGeometry(n: NodeView, x: ValueInfo, wShape: readonly number[], a: ConvAttrs, nhwc: boolean): { g: Geometry; m: number } {
  const rank = x.shape.length;
  if (rank !== 4 && !(rank === 3 && !nhwc)) n.fail(`input X must be rank 4${nhwc ? ' (NHWC)' : ' (2-D conv) or 3 (1-D conv)'}, got ${dims(x.shape)}`);
  if (wShape.length !== rank) n.fail(`weight W has rank ${wShape.length} but X has rank ${rank}`);
  const [m, cg, ...kernel] = wShape as [number, number, ...number[]];
  const c = nhwc ? x.shape[3]! : x.shape[1]!;
  if (cg * a.group !== c) n.fail(`weight in-channels×group = ${cg}×${a.group} = ${cg * a.group} but input has ${c} channels`);
  if (m % a.group !== 0) n.fail(`weight has ${m} output channels, not divisible by group ${a.group}`);
  if (a.win.kernel && a.win.kernel.join() !== kernel.join()) n.fail(`kernel_shape ${dims(a.win.kernel)} does not match the weight's ${dims(kernel)}`);
  if (numel(kernel) * 16 * 255 > EXACT) n.fail(`kernel ${dims(kernel)} is too large for an exact integer convolution (area ≤ 4112)`);
  const spatial = nhwc ? x.shape.slice(1, 3) : x.shape.slice(2);
  return { g: windowGeometry(n, spatial, kernel, a.win), m };
}

function checkWeightZeroPoint(n: NodeView, zp: ValueInfo | undefined, w: ValueInfo, m: number, what: string): void {
  checkZeroPoint(n, zp, w.dtype, what);
  if (zp && numel(zp.shape) !== 1 && !(zp.shape.length === 1 && zp.shape[0] === m)) n.fail(`${what} ${dims(zp.shape)} must be a scalar or [${m}] (per output channel)`);
}

/** An NCHW integer conv step's state: its window, group, and the weights on the host when they are constant. */
interface ConvPlan { g: Geometry; group: number; f?: HostFilter; q?: Int8Set; win?: Int8Window }

function planConv(n: NodeView, x: Inputs, c: PlanCtx, a: ConvAttrs, iw: number, iwz: number): ConvPlan {
  const g = windowGeometry(n, c.inputs[0]!.shape.slice(2), c.inputs[iw]!.shape.slice(2), a.win);
  const q = c.inputs[0]!.shape.length === 4 ? planInt8(n, x, c, a.group, [iw, iwz]) : undefined;
  return { g, group: a.group, f: q ? undefined : plannedFilter(c, iw, iwz), q, win: q && windowOf(g) };
}

/** Exact NCHW ConvInteger core (inputs x, w, x_zp, w_zp at ix…): int32-valued result in NCHW. */
function convInteger(x: Inputs, c: RunCtx, [ix, iw, ixz, iwz]: readonly number[], { g, group, f: planned, q: set, win }: ConvPlan): tf.Tensor {
  const xs = c.inputs[ix]!.shape, ws = c.inputs[iw]!.shape;
  if (set && win) {   // the int8 kernels, on the input moved to NHWC (and the output back)
    const signed = c.inputs[ix]!.dtype === 'int8', za = (c.inputs[ixz] ? zeroPoints(x, c, ixz)[0]! : 0) + (signed ? 128 : 0);
    const xn = tf.transpose(x[ix]!, [0, 2, 3, 1]), m = ws[0]!;
    const y = runInt8Integer(set, xn, signed, [xs[0]!, ...win.out, m], (k, q, out) => int8Conv(k, q, xn.shape, set.parts, win, out, { kind: 'int32', za }));
    xn.dispose();
    if (y) return tf.transpose(y, [0, 3, 1, 2]);
  }
  const f = planned ?? hostFilter(host(x, c, iw)!, zeroPoints(x, c, iwz), ws);
  const bound = spread(c.inputs[ix]!.dtype, c.inputs[ixz] ? zeroPoints(x, c, ixz) : [0]);
  const x4 = tf.reshape(centred(x[ix]!, c.inputs[ixz] ? x[ixz] : undefined), xs.length === 3 ? [xs[0]!, xs[1]!, 1, xs[2]!] : xs);
  const y = intConv(tf.transpose(x4, [0, 2, 3, 1]) as tf.Tensor4D, f, group, g, bound);
  return tf.reshape(tf.transpose(y, [0, 3, 1, 2]), [xs[0]!, f.m, ...g.out]);
}

// ---- QuantizeLinear / DequantizeLinear ------------------------------------------------------------------------------

const isScalar = (v: ValueInfo) => numel(v.shape) === 1 && v.shape.length <= 1;

/** Shape a per-axis scale (or zero point) takes to broadcast along `axis` of a rank-r tensor; undefined for scalars.
 *  The axis attribute only matters for a 1-D scale (opset 13), so it is normalised only then. */
function alongAxis(n: NodeView, scale: ValueInfo, rank: number, axis: number): number[] | undefined {
  if (isScalar(scale)) return undefined;
  const a = normAxis(n, axis, rank);
  return Array.from({ length: rank }, (_, i) => (i === a ? scale.shape[0]! : 1));
}

function checkScale(n: NodeView, scale: ValueInfo | undefined, x: ValueInfo, perAxis: boolean, axis: number): ValueInfo {
  const s = needFloat(n, scale, 'scale');
  if (isScalar(s)) return s;
  if (!perAxis) n.fail(`scale ${dims(s.shape)} must be a scalar before opset 13`);
  const a = normAxis(n, axis, x.shape.length);
  if (s.shape.length !== 1 || s.shape[0] !== x.shape[a]) n.fail(`scale ${dims(s.shape)} must be a scalar or 1-D of x's axis ${a} size ${x.shape[a]}`);
  return s;
}

function quantizeLinear(since: number) {
  return op({
    opType: 'QuantizeLinear', since,
    parse: n => ({ axis: since >= 13 ? n.attrs.int('axis', 1) : 1 }),
    infer: (n, [x, scale, zp], a) => {
      const xi = needType(n, x, 'x', ['float32', 'int32']);
      const s = checkScale(n, scale, xi, since >= 13, a.axis);
      if (zp && !RANGE[zp.dtype]) n.fail(`y_zero_point is ${zp.dtype}; expected uint8 or int8`);
      checkZeroPoint(n, zp, zp?.dtype ?? 'uint8', 'y_zero_point', s);
      return [{ dtype: zp?.dtype ?? 'uint8', shape: [...xi.shape] }];
    },
    plan: (n, _x, a, c) => alongAxis(n, c.inputs[1]!, c.inputs[0]!.shape.length, a.axis),
    run: ([x, scale, zp], _a, c, shape) => {
      const s = shape ? tf.reshape(scale!, shape) : scale!;
      const z = zp && shape ? tf.reshape(zp, shape) : zp;
      return [saturate(tf.div(tf.cast(x!, 'float32'), s), z, c.outputs[0]!.dtype)];
    },
  });
}

function dequantizeLinear(since: number) {
  return op({
    opType: 'DequantizeLinear', since,
    parse: n => ({ axis: since >= 13 ? n.attrs.int('axis', 1) : 1 }),
    infer: (n, [x, scale, zp], a) => {
      const xi = needType(n, x, 'x', ['uint8', 'int8', 'int32']);
      checkZeroPoint(n, zp, xi.dtype, 'x_zero_point', checkScale(n, scale, xi, since >= 13, a.axis));
      return [{ dtype: 'float32', shape: [...xi.shape] }];
    },
    plan: (n, _x, a, c) => alongAxis(n, c.inputs[1]!, c.inputs[0]!.shape.length, a.axis),
    run: ([x, scale, zp], _a, _c, shape) => {
      // (x − zp) in int32 first, as onnxruntime does: exact even for int32 x beyond 2^24.
      const d = zp ? tf.sub(x!, shape ? tf.reshape(zp, shape) : zp) : x!;
      return [tf.mul(tf.cast(d, 'float32'), shape ? tf.reshape(scale!, shape) : scale!)];
    },
  });
}

// ---- DynamicQuantizeLinear, MatMulInteger, ConvInteger --------------------------------------------------------------

const dynamicQuantizeLinear = op({
  opType: 'DynamicQuantizeLinear', since: 11,
  parse: () => ({}),
  infer: (n, [x]) => {
    const xi = needFloat(n, x, 'x');
    return [{ dtype: 'uint8', shape: [...xi.shape] }, { dtype: 'float32', shape: [] }, { dtype: 'uint8', shape: [] }];
  },
  run: ([x]) => {
    const { xc, scale, zp } = dynamicQuantize(x!);
    return [tf.cast(tf.add(xc, zp), 'int32'), tf.scalar(scale), tf.scalar(zp, 'int32')];
  },
});

const matMulIntegerOp = op({
  opType: 'MatMulInteger', since: 10, hostInputs: [1, 3],
  parse: () => ({}),
  infer: (n, [a, b, az, bz]) => {
    const ai = need8bit(n, a, 'A'), bi = need8bit(n, b, 'B');
    const s = matmulShape(n, ai.shape, bi.shape);
    checkZeroPoint(n, az, ai.dtype, 'a_zero_point');
    checkZeroPoint(n, bz, bi.dtype, 'b_zero_point');
    if (az && numel(az.shape) !== 1 && numel(az.shape) !== s.m) n.fail(`a_zero_point ${dims(az.shape)} must be a scalar or one per row of A (${s.m})`);
    if (bz && ![1, s.n, s.bBatch * s.n].includes(numel(bz.shape))) n.fail(`b_zero_point ${dims(bz.shape)} must be a scalar or one per column of B (${s.n})`);
    return [{ dtype: 'int32', shape: s.out }];
  },
  plan: (n, x, _a, c) => planMatMul(n, x, c, 1, 3),
  run: (x, _a, c, { s, b, q }) => [tf.cast(matMulInteger(x, c, [0, 2, 1, 3], s, b, q), 'int32')],
});

const convIntegerOp = op({
  opType: 'ConvInteger', since: 10, hostInputs: [1, 3],
  parse: parseConvAttrs,
  infer: (n, [x, w, xz, wz], a) => {
    const xi = need8bit(n, x, 'x'), wi = need8bit(n, w, 'w');
    const { g, m } = convGeometry(n, xi, wi.shape, a, false);
    checkZeroPoint(n, xz, xi.dtype, 'x_zero_point');
    if (xz && numel(xz.shape) !== 1) n.fail(`x_zero_point ${dims(xz.shape)} must be a scalar`);
    checkWeightZeroPoint(n, wz, wi, m, 'w_zero_point');
    return [{ dtype: 'int32', shape: [xi.shape[0]!, m, ...g.out] }];
  },
  plan: (n, x, a, c) => planConv(n, x, c, a, 1, 3),
  run: (x, _a, c, p) => [tf.cast(convInteger(x, c, [0, 1, 2, 3], p), 'int32')],
});

// ---- QLinearMatMul, QLinearConv ---------------------------------------------------------------------------------------

const qLinearMatMul = op({
  opType: 'QLinearMatMul', since: 10, hostInputs: [3, 5],
  parse: () => ({}),
  infer: (n, [a, as, az, b, bs, bz, ys, yz]) => {
    const ai = need8bit(n, a, 'a'), bi = need8bit(n, b, 'b');
    const s = matmulShape(n, ai.shape, bi.shape);
    checkZeroPoint(n, az, ai.dtype, 'a_zero_point', needFloat(n, as, 'a_scale'));
    checkZeroPoint(n, bz, bi.dtype, 'b_zero_point', needFloat(n, bs, 'b_scale'));
    if (![1, s.m].includes(numel(as!.shape))) n.fail(`a_scale ${dims(as!.shape)} must be a scalar or one per row of a (${s.m})`);
    if (![1, s.n].includes(numel(bs!.shape))) n.fail(`b_scale ${dims(bs!.shape)} must be a scalar or one per column of b (${s.n})`);
    const yi = need8bit(n, yz, 'y_zero_point');
    if (numel(needFloat(n, ys, 'y_scale').shape) !== 1 || numel(yi.shape) !== 1) n.fail('y_scale and y_zero_point must be scalars (per-tensor output)');
    return [{ dtype: yi.dtype, shape: s.out }];
  },
  plan: (n, x, _a, c) => planMatMul(n, x, c, 3, 5),
  run: (x, _a, c, { s, b, q }) => {
    const acc = matMulInteger(x, c, [0, 2, 3, 5], s, b, q);
    const aScale = perRow(c.inputs[1], s.m) ? tf.reshape(x[1]!, [s.m, 1]) : x[1]!;
    return [requantize(acc, tf.div(tf.mul(aScale, x[4]!), x[6]!), x[7], c.outputs[0]!.dtype)];
  },
});

const qLinearConv = op({
  opType: 'QLinearConv', since: 10, hostInputs: [3, 5],
  parse: parseConvAttrs,
  infer: (n, [x, xs, xz, w, ws, wz, ys, yz, b], a) => {
    const xi = need8bit(n, x, 'x'), wi = need8bit(n, w, 'w');
    const { g, m } = convGeometry(n, xi, wi.shape, a, false);
    checkZeroPoint(n, xz, xi.dtype, 'x_zero_point', needFloat(n, xs, 'x_scale'));
    if (numel(xs!.shape) !== 1) n.fail(`x_scale ${dims(xs!.shape)} must be a scalar`);
    needFloat(n, ws, 'w_scale');
    if (numel(ws!.shape) !== 1 && !(ws!.shape.length === 1 && ws!.shape[0] === m)) n.fail(`w_scale ${dims(ws!.shape)} must be a scalar or [${m}]`);
    checkWeightZeroPoint(n, wz, wi, m, 'w_zero_point');
    const yi = need8bit(n, yz, 'y_zero_point');
    if (numel(needFloat(n, ys, 'y_scale').shape) !== 1 || numel(yi.shape) !== 1) n.fail('y_scale and y_zero_point must be scalars (per-tensor output)');
    if (b && (b.dtype !== 'int32' || b.shape.length !== 1 || b.shape[0] !== m)) n.fail(`bias B is ${b.dtype} ${dims(b.shape)}; expected int32 [${m}]`);
    return [{ dtype: yi.dtype, shape: [xi.shape[0]!, m, ...g.out] }];
  },
  plan: (n, x, a, c) => planConv(n, x, c, a, 3, 5),
  run: (x, _a, c, p) => {
    const rank = c.inputs[0]!.shape.length, m = c.outputs[0]!.shape[1]!;
    const perChannel = (t: tf.Tensor) => (t.size === 1 ? t : tf.reshape(t, [m, ...new Array<number>(rank - 2).fill(1)]));
    let acc = tf.cast(convInteger(x, c, [0, 3, 2, 5], p), 'int32');
    if (x[8]) acc = tf.add(acc, perChannel(x[8]));
    return [requantize(acc, tf.div(tf.mul(x[1]!, perChannel(x[4]!)), x[6]!), x[7], c.outputs[0]!.dtype)];
  },
});

// ---- fused local ops: DynamicQuantizeLinear → integer product → Cast → Mul(x_scale·w_scale) [→ Add bias] -------------

/** Checks a fused op's w_scale / bias: scalar or one per output channel. */
function checkPerChannel(n: NodeView, v: ValueInfo | undefined, m: number, what: string): void {
  if (v && numel(v.shape) !== 1 && !(v.shape.length === 1 && v.shape[0] === m)) n.fail(`${what} ${dims(v.shape)} must be a scalar or [${m}]`);
}

/** What the fused ops multiply: x quantized exactly as DynamicQuantizeLinear does, minus its zero point (float32
 *  integers, |·| ≤ bound), optionally reshaped, and the scale. */
function quantizedInput(x: tf.Tensor, shape?: number[]): { xc: tf.Tensor; scale: number; bound: number } {
  const { xc, scale, zp } = dynamicQuantize(x);
  return { xc: shape ? tf.tidy(() => tf.reshape(xc, shape)) : xc, scale, bound: Math.max(zp, 255 - zp) };
}

/** The fused ops' float result: act(float(acc) · fl(x_scale · w_scale) + bias), w_scale one value or one per output
 *  channel (last axis) — the float32 operations onnxruntime's Cast → Mul → Add chain performs. Each activation-sized
 *  step frees the one before (the executor's tidy would keep them all to the end of the step, and the WASM heap keeps
 *  its high-water mark for good). */
function dequantized(acc: tf.Tensor, xScale: number, wScale: Float32Array, bias: tf.Tensor | undefined, relu: boolean): tf.Tensor {
  const then = (t: tf.Tensor, f: (t: tf.Tensor) => tf.Tensor) => { const r = f(t); if (r !== t) t.dispose(); return r; };
  const factor = wScale.length === 1 ? f32(xScale * wScale[0]!) : tf.tensor1d(wScale.map(w => f32(xScale * w)));
  let y = then(acc, t => tf.cast(t, 'float32'));
  y = then(y, t => tf.mul(t, factor));
  if (bias) y = then(y, t => tf.add(t, bias));
  return relu ? then(y, tf.relu) : y;
}

/** local:DynQuantMatMul(x, W, w_zero_point, w_scale, bias?) = onnxruntime's dynamic MatMul chain in one step: x is
 *  float, quantized here exactly as DynamicQuantizeLinear; W a constant 8-bit [K, N] kept on the host. */
const dynQuantMatMul = op({
  opType: 'DynQuantMatMul', domain: 'local', since: 1, hostInputs: [1, 2, 3],
  parse: () => ({}),
  infer: (n, [x, w, wz, ws, b]) => {
    const xi = needFloat(n, x, 'x'), wi = need8bit(n, w, 'W');
    if (wi.shape.length !== 2) n.fail(`W must be a matrix [K, N], got ${dims(wi.shape)}`);
    const s = matmulShape(n, xi.shape, wi.shape);
    checkZeroPoint(n, wz, wi.dtype, 'w_zero_point');
    checkPerChannel(n, wz, s.n, 'w_zero_point');
    checkPerChannel(n, needFloat(n, ws, 'w_scale'), s.n, 'w_scale');
    if (b) checkPerChannel(n, needFloat(n, b, 'bias'), s.n, 'bias');
    return [{ dtype: 'float32', shape: s.out }];
  },
  plan: (n, x, _a, c) => {
    const q = planInt8(n, x, c);
    return { s: matmulShape(n, c.inputs[0]!.shape, c.inputs[1]!.shape), w: q ? undefined : plannedMatrix(c, 1, 2), q };
  },
  run: (x, _a, c, { s, w: planned, q: set }) => {
    const M = x[0]!.size / s.k;
    const fast = runInt8(set, x[0]!, s.out, (k, q, za, sa, out) => int8Dense(k, q, M, s.k, set!.parts[0]!, out, s.n, { kind: 'float32', za, sa }));
    if (fast) return [fast];
    const w = planned ?? hostMatrix(host(x, c, 1)!, zeroPoints(x, c, 2), c.inputs[1]!.shape);
    const { xc, scale, bound } = quantizedInput(x[0]!, [-1, s.k]);
    const acc = intMatMul(xc, w, bound);
    xc.dispose();
    return [tf.reshape(dequantized(acc, scale, host(x, c, 3)!.data as Float32Array, x[4], false), s.out)];
  },
});

/** local:NhwcDynQuantConv(x NHWC, W [M, C/group, kh, kw] 8-bit, w_zero_point, w_scale, bias?): the dynamic
 *  ConvInteger chain in one step on NHWC activations, with an optional fused relu. */
const nhwcDynQuantConv = op({
  opType: 'NhwcDynQuantConv', domain: 'local', since: 1, hostInputs: [1, 2, 3],
  parse: n => {
    const act = n.attrs.string('activation', '');
    if (act !== '' && act !== 'relu') n.fail(`activation '${act}' is not supported ('' or 'relu')`);
    return { ...parseConvAttrs(n), relu: act === 'relu' };
  },
  infer: (n, [x, w, wz, ws, b], a) => {
    const xi = needFloat(n, x, 'x'), wi = need8bit(n, w, 'W');
    const { g, m } = convGeometry(n, xi, wi.shape, a, true);
    checkWeightZeroPoint(n, wz, wi, m, 'w_zero_point');
    checkPerChannel(n, needFloat(n, ws, 'w_scale'), m, 'w_scale');
    if (b) checkPerChannel(n, needFloat(n, b, 'bias'), m, 'bias');
    return [{ dtype: 'float32', shape: [xi.shape[0]!, ...g.out, m] }];
  },
  plan: (n, x, a, c) => {
    const g = windowGeometry(n, c.inputs[0]!.shape.slice(1, 3), c.inputs[1]!.shape.slice(2), a.win), q = planInt8(n, x, c, a.group);
    const two = (v: number[]) => [v[0]!, v[1]!] as [number, number];
    const win: Int8Window = { kernel: two(g.kernel), strides: two(g.strides), dilations: two(g.dilations), padBegin: two(g.begin), out: two(g.out) };
    return { g, f: q ? undefined : plannedFilter(c, 1, 2), q, win };
  },
  run: (x, a, c, { g, f: planned, q: set, win }) => {
    const fast = runInt8(set, x[0]!, [...c.outputs[0]!.shape], (k, q, za, sa, out) => int8Conv(k, q, x[0]!.shape, set!.parts, win, out, { kind: 'float32', za, sa, relu: a.relu }));
    if (fast) return [fast];
    const f = planned ?? hostFilter(host(x, c, 1)!, zeroPoints(x, c, 2), c.inputs[1]!.shape);
    const { xc, scale, bound } = quantizedInput(x[0]!);
    const acc = intConv(xc as tf.Tensor4D, f, a.group, g, bound);
    xc.dispose();
    return [dequantized(acc, scale, host(x, c, 3)!.data as Float32Array, x[4], a.relu)];
  },
});

export const QUANT_OPS: OpDef<any>[] = [
  quantizeLinear(10), quantizeLinear(13), dequantizeLinear(10), dequantizeLinear(13), dynamicQuantizeLinear,
  matMulIntegerOp, convIntegerOp, qLinearMatMul, qLinearConv, dynQuantMatMul, nhwcDynQuantConv,
];
