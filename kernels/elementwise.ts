// Elementwise operators: unary maths and activations, numpy-broadcasting binary arithmetic, comparisons and logic,
// variadic Max/Min/Sum/Mean, Where, Clip, Cast. Layout-agnostic (same on NCHW and NHWC). Every integer type
// computes in tf int32; results of 8/16-bit types are wrapped back to their width as C does (uint8 255 + 1 = 0).

import * as tf from '@tensorflow/tfjs-core';
import { DTYPE_BY_CODE, DTYPE_NAME_BY_CODE, type DType } from '../src/ir/dtype.js';
import type { ConstTensor } from '../src/ir/graph.js';
import { scalarOf as constScalar } from '../src/ir/attrs.js';
import type { FusedActivation } from '../src/ir/op-traits.js';
import { op, type InferView, type NodeView, type OpDef, type RunCtx, type ValueInfo } from './types.js';
import { broadcastInfo, broadcastShapes, numel, tfDtype } from './util.js';
import { FLOAT, kindOf, NUM, typed, type Kind } from './check.js';

// ---- element kinds and integer wrapping (shared with reduce.ts)

const ANY: readonly Kind[] = ['float', 'int', 'bool'];
const BOOL: readonly Kind[] = ['bool'];


function sameType(n: NodeView, ins: readonly (ValueInfo | undefined)[]): void {
  const given = ins.filter((v): v is ValueInfo => !!v);
  const other = given.find(v => v.dtype !== given[0]!.dtype);
  if (other) n.fail(`inputs must share one type, got ${given.map(v => v.dtype).join(' and ')}`);
}

const WRAP: Partial<Record<DType, readonly [lo: number, span: number]>> = {
  uint8: [0, 256], int8: [-128, 256], uint16: [0, 65536], int16: [-32768, 65536],
};

/** Wraps int32 results to the width of the 8/16-bit ONNX type `d`; every other type passes through. */
export function wrapInt(t: tf.Tensor, d: DType): tf.Tensor {
  const w = WRAP[d];
  if (!w) return t;
  const [lo, span] = w;
  if (lo === 0) return tf.mod(t, tf.scalar(span, 'int32'));   // floor mod: -1 → 255
  const l = tf.scalar(lo, 'int32');
  return tf.add(tf.mod(tf.sub(t, l), tf.scalar(span, 'int32')), l);
}

/** Casts as ONNX Cast does: float → int truncates toward zero then wraps to the target width, anything → bool is x ≠ 0. */
export function castTo(x: tf.Tensor, to: DType): tf.Tensor {
  const t = tfDtype(to);
  if (t === 'bool') return x.dtype === 'bool' ? x : tf.notEqual(x, tf.scalar(0, x.dtype)); // wasm Cast→bool keeps a byte
  if (t === 'int32') return wrapInt(x.dtype === 'int32' ? x : tf.cast(x, 'int32'), to);
  return x.dtype === 'float32' ? x : tf.cast(x, 'float32');
}

const none = () => ({});
const scalarOf = (t: ConstTensor | undefined) => (t && t.data.length === 1 ? Number(t.data[0]) : undefined);

// ---- unary

/** Traits a unary definition may add (kernels/types.ts): a fused conv activation, a gate, a report family. */
type UnaryTraits<A> = Pick<OpDef<A>, 'activation' | 'gate' | 'family'> & { out?: DType };

/** Output element i is f(element i of x): elementwise and layout-agnostic, whatever else it is. */
function unary<A>(opType: string, since: number, kinds: readonly Kind[], parse: (n: NodeView) => A,
  f: (x: tf.Tensor, a: A, out: DType) => tf.Tensor, { out, ...traits }: UnaryTraits<A> = {}): OpDef<A> {
  return op({
    opType, since, parse, elementwise: 'unary', ...traits,
    infer: (n, [x]) => [{ ...typed(n, x, 0, kinds), ...(out && { dtype: out }) }],
    run: ([x], a, c) => [f(x!, a, c.outputs[0]!.dtype)],
  });
}

const float = (opType: string, since: number, f: (x: tf.Tensor) => tf.Tensor, traits?: UnaryTraits<{}>) => unary(opType, since, FLOAT, none, f, traits);
const fused = (kind: FusedActivation['kind']) => (): FusedActivation => ({ kind });
const near = (a: number, b: number) => Math.abs(a - b) <= 1e-7;

const UNARY: OpDef<any>[] = [
  unary('Relu', 1, NUM, none, x => tf.relu(x), { activation: fused('relu'), family: 'act' }),
  unary('Abs', 1, NUM, none, (x, _, out) => wrapInt(tf.abs(x), out)),
  unary('Neg', 1, NUM, none, (x, _, out) => wrapInt(tf.neg(x), out)),
  unary('Sign', 9, NUM, none, x => tf.sign(x)),
  float('Sigmoid', 1, x => tf.sigmoid(x), { activation: fused('sigmoid'), gate: fused('silu'), family: 'act' }),   // y·σ(y): SiLU
  float('Tanh', 1, x => tf.tanh(x), { family: 'act' }),
  float('Erf', 9, x => tf.erf(x), { family: 'act' }),
  float('Exp', 1, x => tf.exp(x)),
  float('Log', 1, x => tf.log(x)),
  float('Sqrt', 1, x => tf.sqrt(x), { family: 'math' }),
  float('Reciprocal', 1, x => tf.reciprocal(x)),
  float('Floor', 1, x => tf.floor(x)),
  float('Ceil', 1, x => tf.ceil(x)),
  float('Round', 11, x => tf.round(x)),                       // half to even, as the spec asks
  float('Sin', 7, x => tf.sin(x)),
  float('Cos', 7, x => tf.cos(x)),
  float('Softplus', 1, x => tf.softplus(x)),
  float('Softsign', 1, x => tf.div(x, tf.add(1, tf.abs(x)))),
  float('HardSwish', 14, x => tf.mul(x, tf.clipByValue(tf.add(tf.mul(x, 1 / 6), 0.5), 0, 1)), { activation: fused('hardswish') }),
  unary('Not', 1, BOOL, none, x => tf.logicalNot(x)),
  unary('IsNaN', 9, FLOAT, none, x => tf.isNaN(x), { out: 'bool' }),
  unary('LeakyRelu', 1, FLOAT, n => ({ alpha: n.attrs.float('alpha', 0.01) }), (x, { alpha }) => tf.leakyRelu(x, alpha),
    { activation: ({ alpha }) => ({ kind: 'leakyrelu', alpha }), family: 'act' }),
  unary('Elu', 1, FLOAT, n => ({ alpha: n.attrs.float('alpha', 1) }),
    (x, { alpha }) => (alpha === 1 ? tf.elu(x) : tf.where(tf.greater(x, 0), x, tf.mul(alpha, tf.expm1(x)))),
    { activation: ({ alpha }) => (alpha === 1 ? { kind: 'elu' } : undefined) }),   // tfjs's fused ELU has α = 1
  unary('Selu', 1, FLOAT, n => ({ alpha: n.attrs.float('alpha', 1.67326319217681884765625), gamma: n.attrs.float('gamma', 1.05070102214813232421875) }),
    (x, { alpha, gamma }) => tf.mul(gamma, tf.where(tf.greater(x, 0), x, tf.mul(alpha, tf.expm1(x))))),
  unary('HardSigmoid', 1, FLOAT, n => ({ alpha: n.attrs.float('alpha', 0.2), beta: n.attrs.float('beta', 0.5) }),
    (x, { alpha, beta }) => tf.clipByValue(tf.add(tf.mul(x, alpha), beta), 0, 1), {
      activation: ({ alpha, beta }) => ({ kind: 'hardsigmoid', alpha, beta }), family: 'act',
      gate: ({ alpha, beta }) => (near(alpha, 1 / 6) && near(beta, 0.5) ? { kind: 'hardswish' } : undefined),   // torch's HardSwish before opset 14
    }),
  unary('IsInf', 10, FLOAT, n => ({ neg: n.attrs.int('detect_negative', 1) === 1, pos: n.attrs.int('detect_positive', 1) === 1 }),
    (x, { neg, pos }) => (neg && pos ? tf.isInf(x) : neg || pos ? tf.equal(x, neg ? -Infinity : Infinity) : tf.zeros(x.shape, 'bool')), { out: 'bool' }),
];

// ---- binary: numpy broadcasting (opset ≥ 7) and the opset 1–6 `broadcast`/`axis` form

type BinFn = (a: tf.Tensor, b: tf.Tensor, c: RunCtx) => tf.Tensor;
interface Binary { kinds: readonly Kind[]; fn: BinFn; bool?: boolean; mixed?: boolean }

/** Output type of a binary op: checks both inputs' kinds (and that they match unless `mixed`). */
function binaryType(n: NodeView, [a, b]: readonly (ValueInfo | undefined)[], o: Omit<Binary, 'fn'>): DType {
  const x = typed(n, a, 0, o.kinds), y = typed(n, b, 1, o.kinds);
  if (!o.mixed) sameType(n, [x, y]);
  return o.bool ? 'bool' : x.dtype;
}

function binary(opType: string, since: number, o: Binary): OpDef<{}> {
  return op({
    opType, since, parse: none, elementwise: 'binary', ...(MATH.has(opType) && { family: 'math' as const }),
    infer: (n, ins) => [broadcastInfo(n, ins.slice(0, 2), binaryType(n, ins, o))],
    run: ([a, b], _, c) => [o.fn(a!, b!, c)],
  });
}

/** B's shape aligned to A's dims from `axis` (opset < 7 broadcasting): trailing ones are appended. */
function legacyShape(rankA: number, b: readonly number[], axis: number): number[] {
  const ax = axis < 0 ? axis + rankA : axis;
  return [...b, ...new Array<number>(Math.max(0, rankA - ax - b.length)).fill(1)];
}

/** Opsets 1–6: equal shapes, or with broadcast=1 B matches a contiguous run of A's dims from `axis` (default: the end). */
function legacyBinary(opType: string, o: Binary): OpDef<{ broadcast: boolean; axis?: number }> {
  return op({
    opType, since: 1, elementwise: 'binary', elementwiseIf: p => !p.broadcast,   // broadcast: B aligned from `axis`, not numpy's rule
    ...(MATH.has(opType) && { family: 'math' as const }),
    parse: n => ({ broadcast: n.attrs.int('broadcast', 0) === 1, axis: n.attrs.has('axis') ? n.attrs.int('axis') : undefined }),
    infer: (n: InferView, ins, p) => {
      const dtype = binaryType(n, ins, o);
      const sa = ins[0]!.shape, sb = ins[1]!.shape;
      if (!p.broadcast) {
        n.check(sa.length === sb.length && sa.every((d, i) => d === sb[i]),
          () => `shapes [${sa}] and [${sb}] differ and broadcast=0 (before opset 7 they must match)`);
      } else {
        const ax = p.axis === undefined ? sa.length - sb.length : p.axis < 0 ? p.axis + sa.length : p.axis;
        n.check(ax >= 0 && ax + sb.length <= sa.length && sb.every((d, i) => d === 1 || d === sa[ax + i]),
          () => `B [${sb}] does not match A [${sa}] from axis ${p.axis ?? ax}`);
      }
      return [{ dtype, shape: [...sa] }];
    },
    run: ([a, b], p, c) =>
      [o.fn(a!, p.axis === undefined ? b! : tf.reshape(b!, legacyShape(a!.rank, c.inputs[1]!.shape, p.axis)), c)],
  });
}

const out0 = (c: RunCtx) => c.outputs[0]!.dtype;
/** The arithmetic the report colours as maths. */
const MATH = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow']);

/** Integer division truncates toward zero (C), not toward -∞ as tf.floorDiv does. */
function divide(a: tf.Tensor, b: tf.Tensor, c: RunCtx): tf.Tensor {
  if (a.dtype !== 'int32') return tf.div(a, b);
  return wrapInt(tf.mul(tf.mul(tf.sign(a), tf.sign(b)), tf.floorDiv(tf.abs(a), tf.abs(b))), out0(c));
}

/** Output has the base's type; constant exponents 2, 0.5 and 1 take cheaper kernels (LayerNorm's x^2). */
function power(a: tf.Tensor, b: tf.Tensor, c: RunCtx): tf.Tensor {
  const e = scalarOf(c.consts[1]);
  if (a.dtype === 'float32' && e !== undefined && c.outputs[0]!.shape.length === a.rank) {
    if (e === 2) return tf.square(a);
    if (e === 0.5) return tf.sqrt(a);
    if (e === 1) return a;
  }
  if (a.dtype === b.dtype) return wrapInt(tf.pow(a, b), out0(c));
  const y = tf.pow(tf.cast(a, 'float32'), tf.cast(b, 'float32'));
  return a.dtype === 'float32' ? y : wrapInt(tf.cast(y, 'int32'), out0(c));
}

const ARITH: Record<string, Binary> = {
  Add: { kinds: NUM, fn: (a, b, c) => wrapInt(tf.add(a, b), out0(c)) },
  Sub: { kinds: NUM, fn: (a, b, c) => wrapInt(tf.sub(a, b), out0(c)) },
  Mul: { kinds: NUM, fn: (a, b, c) => wrapInt(tf.mul(a, b), out0(c)) },
  Div: { kinds: NUM, fn: divide },
  Pow: { kinds: FLOAT, fn: power },
  Equal: { kinds: ANY, bool: true, fn: (a, b) => tf.equal(a, b) },
  Less: { kinds: NUM, bool: true, fn: (a, b) => tf.less(a, b) },
  Greater: { kinds: NUM, bool: true, fn: (a, b) => tf.greater(a, b) },
  And: { kinds: BOOL, bool: true, fn: (a, b) => tf.logicalAnd(a, b) },
  Or: { kinds: BOOL, bool: true, fn: (a, b) => tf.logicalOr(a, b) },
  Xor: { kinds: BOOL, bool: true, fn: (a, b) => tf.logicalXor(a, b) },
};

const BINARY: OpDef<any>[] = [
  ...Object.entries(ARITH).flatMap(([t, o]) => [legacyBinary(t, o), binary(t, 7, o)]),
  binary('Pow', 12, { kinds: NUM, fn: power, mixed: true }),   // 12: integer bases, exponent of any numeric type
  binary('LessOrEqual', 12, { kinds: NUM, bool: true, fn: (a, b) => tf.lessEqual(a, b) }),
  binary('GreaterOrEqual', 12, { kinds: NUM, bool: true, fn: (a, b) => tf.greaterEqual(a, b) }),
];

/** fmod=0: integer modulus with the divisor's sign (floor mod); fmod=1: C fmod, the dividend's sign. */
const mod = op({
  opType: 'Mod', since: 10, elementwise: 'binary',
  parse: n => ({ fmod: n.attrs.int('fmod', 0) === 1 }),
  infer: (n: InferView, ins, { fmod }) => {
    const y = broadcastInfo(n, ins.slice(0, 2), binaryType(n, ins, { kinds: NUM }));
    n.check(fmod || kindOf(y.dtype) === 'int', () => `fmod=0 on ${y.dtype} inputs: the spec requires fmod=1 for floating-point types`);
    return [y];
  },
  run: ([a, b], { fmod }) => {
    const r = tf.mod(a!, b!);
    if (!fmod) return [r];
    const zero = tf.scalar(0, r.dtype);
    const flip = tf.logicalAnd(tf.notEqual(r, zero), tf.notEqual(tf.less(r, zero), tf.less(a!, zero)));
    return [tf.where(flip, tf.sub(r, b!), r)];
  },
});

/** Slope broadcasts to X only (unidirectional). tf.prelu is right only for a scalar or last-dim slope. */
const prelu = op({
  opType: 'PRelu', since: 7, parse: none, elementwise: 'binary',
  infer: (n: InferView, [x, s]) => {
    const y = typed(n, x, 0, FLOAT), k = typed(n, s, 1, FLOAT);
    const b = broadcastShapes(y.shape, k.shape);
    n.check(b && b.length === y.shape.length && b.every((d, i) => d === y.shape[i]),
      () => `slope [${k.shape}] does not broadcast to X [${y.shape}]`);
    return [y];
  },
  run: ([x, s], _, c) => {
    const ss = c.inputs[1]!.shape, last = x!.shape[x!.rank - 1];
    if (numel(ss) === 1 || (ss.at(-1) === last && numel(ss) === last)) return [tf.prelu(x!, s!)];
    return [tf.where(tf.less(x!, 0), tf.mul(x!, s!), x!)];
  },
});

// ---- variadic, Where, Clip

function variadic(opType: string, kinds: readonly Kind[], fold: BinFn, finish?: (t: tf.Tensor, count: number) => tf.Tensor): OpDef<{}> {
  return op({
    opType, since: 1, parse: none, elementwise: 'binary',   // numpy broadcasting over any number of inputs
    infer: (n: InferView, ins) => {
      n.check(ins.length > 0, () => 'needs at least one input');
      ins.forEach((v, i) => typed(n, v, i, kinds));
      sameType(n, ins);
      return [broadcastInfo(n, ins)];
    },
    run: (xs, _, c) => {
      let y = xs[0]!;
      for (let i = 1; i < xs.length; i++) y = fold(y, xs[i]!, c);
      return [finish ? finish(y, xs.length) : y];
    },
  });
}

const VARIADIC = [
  variadic('Max', NUM, (a, b) => tf.maximum(a, b)),
  variadic('Min', NUM, (a, b) => tf.minimum(a, b)),
  variadic('Sum', NUM, (a, b, c) => wrapInt(tf.add(a, b), out0(c))),
  variadic('Mean', FLOAT, (a, b) => tf.add(a, b), (t, count) => tf.div(t, count)),
];

const where = op({
  opType: 'Where', since: 9, parse: none,
  infer: (n, [cond, a, b]) => {
    typed(n, cond, 0, BOOL);
    const x = typed(n, a, 1, ANY), y = typed(n, b, 2, ANY);
    sameType(n, [x, y]);
    return [broadcastInfo(n, [cond, x, y], x.dtype)];
  },
  run: ([cond, a, b]) => [tf.where(cond!, a!, b!)],
});

const F32_MAX = 3.4028234663852886e38;

/** Clip(lo, hi) as a conv activation (±F32_MAX, the attribute defaults, count as unbounded); a bound that is not a
 *  constant (undefined) has none. */
function clipActivation(lo: number | undefined, hi: number | undefined): FusedActivation | undefined {
  if (lo === undefined || hi === undefined) return undefined;
  const min = lo <= -F32_MAX ? -Infinity : lo, max = hi >= F32_MAX ? Infinity : hi;
  if (min === 0 && max === 6) return { kind: 'relu6' };
  if (min === 0 && max === Infinity) return { kind: 'relu' };
  return { kind: 'clip', min, max };
}

/** Opset 1/6: bounds are attributes. When min > max every element becomes max (numpy.clip). */
const clipAttrs = op({
  opType: 'Clip', since: 1, elementwise: 'unary', family: 'act',
  activation: ({ min, max }) => clipActivation(min, max),
  parse: n => {
    const max = n.attrs.float('max', F32_MAX);
    return { max, min: Math.min(n.attrs.float('min', -F32_MAX), max) };
  },
  infer: (n, [x]) => [typed(n, x, 0, FLOAT)],
  run: ([x], { min, max }) => [tf.clipByValue(x!, min, max)],
});

/** Opset 11+: bounds are optional scalar inputs (12 adds integer types). */
function clipInputs(since: number, kinds: readonly Kind[]) {
  return op({
    opType: 'Clip', since, parse: none, elementwise: 'unary', family: 'act',
    activation: (_, n) => clipActivation(n.has(1) ? constScalar(n.constant(1)) : -Infinity, n.has(2) ? constScalar(n.constant(2)) : Infinity),
    infer: (n: InferView, [x, lo, hi]) => {
      const y = typed(n, x, 0, kinds);
      [lo, hi].forEach((v, k) => {
        if (!v) return;
        n.check(v.dtype === y.dtype && numel(v.shape) === 1, () => `${k ? 'max' : 'min'} must be a ${y.dtype} scalar, got ${v.dtype} [${v.shape}]`);
      });
      return [y];
    },
    run: ([x, lo, hi], _, c) => {
      const l = scalarOf(c.consts[1]), h = scalarOf(c.consts[2]);
      if (x!.dtype === 'float32' && (!lo || l !== undefined) && (!hi || h !== undefined)) {
        const max = h ?? Infinity;
        return [tf.clipByValue(x!, Math.min(l ?? -Infinity, max), max)];
      }
      // Integer clip (wasm ClipByValue is float-only) or bounds known only at run time.
      const y = lo ? tf.maximum(x!, tf.reshape(lo, [])) : x!;
      return [hi ? tf.minimum(y, tf.reshape(hi, [])) : y];
    },
  });
}

// ---- Cast, CastLike

const CODE_BY_NAME = Object.fromEntries(Object.entries(DTYPE_NAME_BY_CODE).map(([code, name]) => [name, Number(code)]));

function noStrings(n: NodeView, d: DType | undefined, dir: 'to' | 'from'): void {
  if (d === 'string') n.fail(`casts ${dir} STRING are not supported: ocellus computes on numeric and bool tensors only`);
}

function castTarget(n: NodeView, code: number | undefined, shown: string | number): DType {
  const to = code === undefined ? undefined : DTYPE_BY_CODE[code];
  noStrings(n, to, 'to');
  if (!to || !kindOf(to)) n.fail(`to=${shown} (${code === undefined ? '?' : DTYPE_NAME_BY_CODE[code] ?? '?'}) is not a type ocellus can compute on`);
  return to;
}

function castInfo(n: NodeView, x: ValueInfo | undefined, to: DType): ValueInfo {
  noStrings(n, x?.dtype, 'from');
  return { dtype: to, shape: typed(n, x, 0, ANY).shape };
}

const CAST: OpDef<any>[] = [
  op({   // opset 1 names the target type as a string ('FLOAT')
    opType: 'Cast', since: 1, elementwise: 'unary',
    parse: n => ({ to: castTarget(n, CODE_BY_NAME[n.attrs.string('to').toUpperCase()], n.attrs.string('to')) }),
    infer: (n, [x], { to }) => [castInfo(n, x, to)],
    run: ([x], { to }) => [castTo(x!, to)],
  }),
  op({
    opType: 'Cast', since: 6, elementwise: 'unary',
    parse: n => ({ to: castTarget(n, n.attrs.int('to'), n.attrs.int('to')) }),
    infer: (n, [x], { to }) => [castInfo(n, x, to)],
    run: ([x], { to }) => [castTo(x!, to)],
  }),
  op({
    opType: 'CastLike', since: 15, parse: none,
    infer: (n, [x, like]) => {
      noStrings(n, like?.dtype, 'to');
      return [castInfo(n, x, typed(n, like, 1, ANY).dtype)];
    },
    run: ([x], _, c) => [castTo(x!, out0(c))],
  }),
];

export const ELEMENTWISE_OPS: OpDef<any>[] = [
  ...UNARY, ...BINARY, mod, prelu, ...VARIADIC, where, clipAttrs, clipInputs(11, FLOAT), clipInputs(12, NUM), ...CAST,
];
