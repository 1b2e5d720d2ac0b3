// Activation epilogues for ocellus's WASM kernels: emitters that apply one activation to a v128 local (four float32
// lanes) in place, shared by the kernels that fuse them (depthwise-module.ts; gemm-kernels.ts keeps its own GELU).
// Each kind has a number (ACT_CODES) the kernels receive at run time and a specialised loop per kind at build time.
//   relu        max(x, 0)
//   clip        min(max(x, lo), hi)                     ReLU6 = clip(0, 6); Clip's missing bound is ±∞
//   hardsigmoid clip(α·x + β, 0, 1)                     ONNX HardSigmoid (α = 0.2, β = 0.5 by default)
//   hardswish   x · clip(x/6 + ½, 0, 1)                 ONNX HardSwish (PyTorch's x·relu6(x + 3)/6)
//   silu        x / (1 + e^−x)                          SiLU / Swish (Sigmoid + Mul)
//   gelu        x·½·(1 + erf(x/√2))                     Eigen's erf, as gemm-kernels.ts's GELU
// Parameters (lo, hi or α, β) come in two v128 locals the kernel fills once per call (ACT_LOCALS: p0, p1).

import type { FunctionBuilder, ValType } from './emit.js';

export type ActivationKind = 'linear' | 'relu' | 'clip' | 'hardsigmoid' | 'hardswish' | 'silu' | 'gelu';
export const ACTIVATION_KINDS: readonly ActivationKind[] = ['linear', 'relu', 'clip', 'hardsigmoid', 'hardswish', 'silu', 'gelu'];
/** The number a kernel receives for each kind (its index in ACTIVATION_KINDS). */
export const ACT_CODES = Object.fromEntries(ACTIVATION_KINDS.map((k, i) => [k, i])) as Record<ActivationKind, number>;

/** An activation with its parameters: clip's lo/hi, hardsigmoid's alpha/beta. */
export interface Activation { kind: ActivationKind; lo?: number; hi?: number; alpha?: number; beta?: number }

/** The two parameters a kernel splats into p0 and p1. */
export function activationParams(a: Activation): [number, number] {
  if (a.kind === 'clip') return [a.lo ?? -Infinity, a.hi ?? Infinity];
  if (a.kind === 'hardsigmoid') return [a.alpha ?? 0.2, a.beta ?? 0.5];
  return [0, 0];
}

/** Locals the emitters use (declare once per function with f.locals(ACT_LOCALS)). */
export const ACT_LOCALS: Record<string, ValType> = { act_p0: 'v128', act_p1: 'v128', act_x: 'v128', act_x2: 'v128', act_p: 'v128', act_q: 'v128' };

/** Eigen's float erf: x clamped to ±4, then an odd degree-13 over an even degree-8 polynomial (TensorFlow, XNNPACK). */
const ERF_ALPHA = [-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06, -5.69250639462346e-05, -7.34990630326855e-04, -2.95459980854025e-03, -1.60960333262415e-02];
const ERF_BETA = [-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03, -7.37332916720468e-03, -1.42647390514189e-02];

function gelu(f: FunctionBuilder, v: string): void {
  f.get(v).f32x4Const(Math.SQRT1_2).f32x4Mul().f32x4Const(-4).f32x4Max().f32x4Const(4).f32x4Min().set('act_x');
  f.get('act_x').get('act_x').f32x4Mul().set('act_x2');
  const horner = (coef: number[], out: string) => {
    f.get('act_x2').f32x4Const(coef[0]!).f32x4Const(coef[1]!).f32x4RelaxedMadd().set(out);
    for (const k of coef.slice(2)) f.get('act_x2').get(out).f32x4Const(k).f32x4RelaxedMadd().set(out);
  };
  horner(ERF_ALPHA, 'act_p');
  horner(ERF_BETA, 'act_q');
  f.get(v).f32x4Const(0.5).f32x4Mul()
    .get('act_x').get('act_p').f32x4Mul().get('act_q').f32x4Div().f32x4Const(1).f32x4Add()
    .f32x4Mul().set(v);
}

/** Pushes e^(local act_x) (Cephes' expf: x = n·ln 2 + r, a degree-6 polynomial for e^r, 2^n built in the exponent
 *  bits; x clamped to [−87.3, 88]). Uses act_x2 (n), act_p (r), act_q. */
function exp(f: FunctionBuilder): void {
  f.get('act_x').f32x4Const(-87.33654).f32x4Max().f32x4Const(88).f32x4Min().set('act_x');
  f.get('act_x').f32x4Const(Math.LOG2E).f32x4Mul().f32x4Nearest().set('act_x2');
  f.get('act_x2').f32x4Const(-0.693359375).get('act_x').f32x4RelaxedMadd().set('act_p');
  f.get('act_x2').f32x4Const(2.12194440e-4).get('act_p').f32x4RelaxedMadd().set('act_p');
  f.f32x4Const(1.9875691500e-4).set('act_q');
  for (const k of [1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1]) f.get('act_q').get('act_p').f32x4Const(k).f32x4RelaxedMadd().set('act_q');
  f.get('act_q').get('act_p').get('act_p').f32x4Mul().get('act_p').f32x4RelaxedMadd().f32x4Const(1).f32x4Add();
  f.get('act_x2').i32x4TruncSatF32x4().i32x4Const(127).i32x4Add().i32(23).i32x4Shl();
  f.f32x4Mul();
}

/** Loads the parameters into act_p0/act_p1 from two f32 at `addr` (pushed by `addr`) and +4. */
export function loadActivationParams(f: FunctionBuilder, addr: () => void): void {
  addr(); f.loadSplat32(0).set('act_p0');
  addr(); f.loadSplat32(4).set('act_p1');
}

/** Applies `kind` to the v128 in local `v`, in place. */
export function emitActivation(f: FunctionBuilder, kind: ActivationKind, v: string): void {
  switch (kind) {
    case 'linear': return;
    case 'relu': f.get(v).v128Zero().f32x4Max().set(v); return;
    case 'clip': f.get(v).get('act_p0').f32x4Max().get('act_p1').f32x4Min().set(v); return;
    case 'hardsigmoid':
      f.get(v).get('act_p0').f32x4Mul().get('act_p1').f32x4Add().v128Zero().f32x4Max().f32x4Const(1).f32x4Min().set(v);
      return;
    case 'hardswish':
      f.get(v).get(v).f32x4Const(1 / 6).f32x4Mul().f32x4Const(0.5).f32x4Add().v128Zero().f32x4Max().f32x4Const(1).f32x4Min()
        .f32x4Mul().set(v);
      return;
    case 'silu':
      f.get(v).f32x4Neg().set('act_x');
      f.get(v);
      exp(f);
      f.f32x4Const(1).f32x4Add().f32x4Div().set(v);
      return;
    case 'gelu': gelu(f, v); return;
  }
}

/** Emits `body(kind)` once per kind, chosen at run time by the i32 `code` pushes (a chain of ifs). */
export function dispatchActivation(f: FunctionBuilder, code: () => void, body: (kind: ActivationKind) => void, kinds: readonly ActivationKind[] = ACTIVATION_KINDS): void {
  const [first, ...rest] = kinds;
  if (!rest.length) { body(first!); return; }
  code(); f.i32(ACT_CODES[first!]).eq().if();
  body(first!);
  f.else();
  dispatchActivation(f, code, body, rest);
  f.end();
}
