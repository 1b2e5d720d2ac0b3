// The transformer family of the kernels module (module.ts): a SIMD softmax over rows, attention per (batch, head)
// (Kᵀ and V packed per head by gemm-kernels.ts's pack(), the products by its dense()) and LayerNorm rows. Float32,
// in place in the tfjs heap.

import { FunctionBuilder } from './emit.js';
import { NR } from './gemm-kernels.js';
import type { FunctionIndex, KernelFamily } from './module.js';

/** e^x on the v128 in local `e` (temps en, er, ep: v128): Cephes' expf — x = n·ln 2 + r, a degree-6 polynomial for e^r,
 *  2^n built in the exponent bits; x clamped to [−87.3, 88] (results from 2^−126 to 2^127). */
function exp(f: FunctionBuilder): void {
  f.get('e').f32x4Const(-87.33654).f32x4Max().f32x4Const(88).f32x4Min().set('e');
  f.get('e').f32x4Const(Math.LOG2E).f32x4Mul().f32x4Nearest().set('en');
  f.get('en').f32x4Const(-0.693359375).get('e').f32x4RelaxedMadd().set('er');
  f.get('en').f32x4Const(2.12194440e-4).get('er').f32x4RelaxedMadd().set('er');
  f.f32x4Const(1.9875691500e-4).set('ep');
  for (const k of [1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1]) f.get('ep').get('er').f32x4Const(k).f32x4RelaxedMadd().set('ep');
  f.get('ep').get('er').get('er').f32x4Mul().get('er').f32x4RelaxedMadd().f32x4Const(1).f32x4Add();
  f.get('en').i32x4TruncSatF32x4().i32x4Const(127).i32x4Add().i32(23).i32x4Shl();   // 2^n as float bits
  f.f32x4Mul().set('e');
}

/** softmax(s, rows, cols): each row of the rows×cols matrix at s, in place: e^(x − max) / Σ. */
function softmax(): FunctionBuilder {
  const f = new FunctionBuilder('softmax', { s: 'i32', rows: 'i32', cols: 'i32' });
  f.locals({ r: 'i32', j: 'i32', row: 'i32', m: 'f32', sum: 'f32', e: 'v128', en: 'v128', er: 'v128', ep: 'v128', mv: 'v128', acc: 'v128' });
  const at = () => f.get('row').get('j').i32(2).shl().add();
  const vectors = (body: () => void) => f.forRange('j', () => f.i32(0), () => f.get('cols').i32(3).sub(), 4, body);
  const tail = (body: () => void) => f.forRange('j', () => f.get('cols').i32(-4).and(), () => f.get('cols'), 1, body);
  const lanes = (v: string, op: () => void) => { f.get(v).f32x4ExtractLane(0); for (let l = 1; l < 4; l++) { f.get(v).f32x4ExtractLane(l); op(); } };
  f.forRange('r', () => f.i32(0), () => f.get('rows'), 1, () => {
    f.get('s').get('r').get('cols').mul().i32(2).shl().add().set('row');
    f.f32x4Const(-Infinity).set('mv');
    vectors(() => { f.get('mv'); at(); f.v128Load().f32x4Max().set('mv'); });
    lanes('mv', () => f.f32Max()); f.set('m');
    tail(() => { f.get('m'); at(); f.f32Load().f32Max().set('m'); });
    f.get('m').f32x4Splat().set('mv');
    f.v128Zero().set('acc');
    vectors(() => {
      at(); f.v128Load().get('mv').f32x4Sub().set('e');
      exp(f);
      at(); f.get('e').v128Store();
      f.get('acc').get('e').f32x4Add().set('acc');
    });
    lanes('acc', () => f.f32Add()); f.set('sum');
    tail(() => {
      at(); f.f32Load().f32x4Splat().get('mv').f32x4Sub().set('e');
      exp(f);
      at(); f.get('e').f32x4ExtractLane(0).f32Store();
      f.get('sum').get('e').f32x4ExtractLane(0).f32Add().set('sum');
    });
    f.f32(1).get('sum').f32Div().f32x4Splat().set('acc');
    vectors(() => { at(); at(); f.v128Load().get('acc').f32x4Mul().v128Store(); });
    tail(() => { at(); at(); f.f32Load().get('acc').f32x4ExtractLane(0).f32Mul().f32Store(); });
  });
  return f;
}

/**
 * attention(q, k, v, out, Nq, Nk, H, D, Dv, scaleBits, bh0, bh1, mcMax, work, tile): softmax(scale·Q·Kᵀ)·V for
 * (batch, head) pairs bh0…bh1−1, with q [B, Nq, H·D], k [B, Nk, H·D], v [B, Nk, H·Dv] and out [B, Nq, H·Dv] read
 * and written in place (heads are column ranges). Per pair: Kᵀ packed with the scale folded in, the scores by
 * dense() into `work`, softmax, V packed, the product by dense() straight into out's columns.
 */
function attention(at: FunctionIndex): FunctionBuilder {
  const f = new FunctionBuilder('attention', {
    q: 'i32', k: 'i32', v: 'i32', out: 'i32', Nq: 'i32', Nk: 'i32', H: 'i32', D: 'i32', Dv: 'i32', scaleBits: 'i32',
    bh0: 'i32', bh1: 'i32', mcMax: 'i32', work: 'i32', tile: 'i32',
  });
  f.locals({ C: 'i32', Cv: 'i32', pk: 'i32', pv: 'i32', sb: 'i32', bh: 'i32', b: 'i32', h: 'i32' });
  const panels = (n: string) => f.get(n).i32(NR - 1).add().i32(NR).divS().i32(NR).mul();
  f.get('H').get('D').mul().set('C');
  f.get('H').get('Dv').mul().set('Cv');
  f.get('work').set('pk');
  f.get('pk'); panels('Nk'); f.get('D').i32(1).add().mul().i32(2).shl().add().set('pv');
  f.get('pv'); panels('Dv'); f.get('Nk').i32(1).add().mul().i32(2).shl().add().set('sb');
  f.forRange('bh', () => f.get('bh0'), () => f.get('bh1'), 1, () => {
    f.get('bh').get('H').divS().set('b');
    f.get('bh').get('H').remS().set('h');
    // Kᵀ[d][j] = scale · k[b, j, h·D + d]
    f.get('k').get('b').get('Nk').mul().get('C').mul().get('h').get('D').mul().add().i32(2).shl().add()
      .i32(1).get('C').get('D').get('Nk').get('pk').get('scaleBits').f32ReinterpretI32().call(at('pack'));
    // scores = Q_h · Kᵀ → sb [Nq, Nk]
    f.get('q').get('b').get('Nq').mul().get('C').mul().get('h').get('D').mul().add().i32(2).shl().add()
      .get('C').i32(2).shl().i32(0).get('Nq').i32(0).get('Nk').get('mcMax').get('D').get('pk').get('D').get('Nk')
      .get('sb').get('Nk').i32(2).shl().i32(0).i32(0).get('tile').call(at('dense'));
    f.get('sb').get('Nq').get('Nk').call(at('softmax'));
    // V_h[j][e] = v[b, j, h·Dv + e]
    f.get('v').get('b').get('Nk').mul().get('Cv').mul().get('h').get('Dv').mul().add().i32(2).shl().add()
      .get('Cv').i32(1).get('Nk').get('Dv').get('pv').f32(1).call(at('pack'));
    // out[b, :, h·Dv…] = P · V_h
    f.get('sb').get('Nk').i32(2).shl().i32(0).get('Nq').i32(0).get('Dv').get('mcMax').get('Nk').get('pv').get('Nk').get('Dv')
      .get('out').get('b').get('Nq').mul().get('Cv').mul().get('h').get('Dv').mul().add().i32(2).shl().add()
      .get('Cv').i32(2).shl().i32(0).i32(0).get('tile').call(at('dense'));
  });
  return f;
}

/**
 * Emits a loop over columns 0…cols−1 of the row at local `row` (bytes): `body` runs on four columns at a time, then
 * on each remaining column splatted into a vector (only lane 0 is stored). body(load, store) pushes/consumes v128s:
 * load(base) pushes four floats of the row at `base` + the column offset, store(base, value) writes them.
 */
function columnsLoop(f: FunctionBuilder, cols: string, body: (load: (base: string) => void, store: (base: string, value: () => void) => void) => void): void {
  const addr = (base: string) => f.get(base).get('j').i32(2).shl().add();
  f.forRange('j', () => f.i32(0), () => f.get(cols).i32(3).sub(), 4, () =>
    body(base => { addr(base); f.v128Load(); }, (base, value) => { addr(base); value(); f.v128Store(); }));
  f.forRange('j', () => f.get(cols).i32(-4).and(), () => f.get(cols), 1, () =>
    body(base => { addr(base); f.f32Load().f32x4Splat(); }, (base, value) => { addr(base); value(); f.f32x4ExtractLane(0).f32Store(); }));
}

/**
 * layernorm(x, out, rows, cols, gamma, beta, epsBits): each row of x normalised to mean 0 and variance 1 (two passes,
 * the variance from the deviations), then · gamma + beta (cols floats each, or 0 for none), into out.
 */
function layerNorm(): FunctionBuilder {
  const f = new FunctionBuilder('layernorm', { x: 'i32', out: 'i32', rows: 'i32', cols: 'i32', gamma: 'i32', beta: 'i32', epsBits: 'i32' });
  f.locals({ r: 'i32', j: 'i32', row: 'i32', dst: 'i32', mean: 'f32', sq: 'f32', inv: 'f32', acc: 'v128', mv: 'v128', iv: 'v128', y: 'v128' });
  const sumLanes = (v: string) => { f.get(v).f32x4ExtractLane(0); for (let l = 1; l < 4; l++) f.get(v).f32x4ExtractLane(l).f32Add(); };
  f.forRange('r', () => f.i32(0), () => f.get('rows'), 1, () => {
    f.get('x').get('r').get('cols').mul().i32(2).shl().add().set('row');
    f.get('out').get('r').get('cols').mul().i32(2).shl().add().set('dst');
    f.v128Zero().set('acc');
    f.forRange('j', () => f.i32(0), () => f.get('cols').i32(3).sub(), 4, () => { f.get('acc').get('row').get('j').i32(2).shl().add().v128Load().f32x4Add().set('acc'); });
    sumLanes('acc'); f.set('mean');   // (loops take nothing from the stack: the running sums live in locals)
    f.forRange('j', () => f.get('cols').i32(-4).and(), () => f.get('cols'), 1, () => { f.get('mean').get('row').get('j').i32(2).shl().add().f32Load().f32Add().set('mean'); });
    f.get('mean').get('cols').f32ConvertI32S().f32Div().set('mean');
    f.get('mean').f32x4Splat().set('mv');
    f.v128Zero().set('acc');
    f.forRange('j', () => f.i32(0), () => f.get('cols').i32(3).sub(), 4, () => {
      f.get('row').get('j').i32(2).shl().add().v128Load().get('mv').f32x4Sub().set('y');
      f.get('y').get('y').get('acc').f32x4RelaxedMadd().set('acc');
    });
    sumLanes('acc'); f.set('sq');
    f.forRange('j', () => f.get('cols').i32(-4).and(), () => f.get('cols'), 1, () => {
      f.get('row').get('j').i32(2).shl().add().f32Load().get('mean').f32Sub().set('inv');
      f.get('sq').get('inv').get('inv').f32Mul().f32Add().set('sq');
    });
    f.get('sq').get('cols').f32ConvertI32S().f32Div().get('epsBits').f32ReinterpretI32().f32Add().f32Sqrt().set('inv');
    f.f32(1).get('inv').f32Div().f32x4Splat().set('iv');
    columnsLoop(f, 'cols', (load, store) => {
      load('row'); f.get('mv').f32x4Sub().get('iv').f32x4Mul().set('y');
      f.get('gamma').if(); f.get('y'); load('gamma'); f.f32x4Mul().set('y'); f.end();
      f.get('beta').if(); f.get('y'); load('beta'); f.f32x4Add().set('y'); f.end();
      store('dst', () => f.get('y'));
    });
  });
  return f;
}

/** Floats of attention()'s `work` for one thread. */
export function attentionWorkFloats(Nq: number, Nk: number, D: number, Dv: number): number {
  const panels = (n: number) => Math.ceil(n / NR) * NR;
  return panels(Nk) * (D + 1) + panels(Dv) * (Nk + 1) + Nq * Nk;
}

/** The transformer family: softmax, attention, layernorm. */
export const transformerKernels: KernelFamily = {
  names: ['softmax', 'attention', 'layernorm'],
  build: at => [softmax(), attention(at), layerNorm()],
};
