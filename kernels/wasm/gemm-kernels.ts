// ocellus's own float32 GEMM in WebAssembly SIMD with relaxed fused multiply-add, written from TypeScript
// (kernels/wasm/emit.ts): the GEMM family of the kernels module (module.ts assembles it with the other families).
// It works in the tfjs WASM heap: A, the output and the bias are tfjs tensors' memory, B is packed once per weight.
// XNNPACK's WASM SIMD kernels (tfjs 4.x) have no FMA, so they issue a multiply and an add per 4 products; with
// f32x4.relaxed_madd one instruction does both (vfmadd on x86-64 with FMA3, fmla on arm64), which is most of why
// this kernel is faster than the one it replaces.
//
//   C[M×N] = act(A[M×K] · B[K×N] + bias + R)   A rows at a stride (lda); R an optional residual laid out like C;
//                                                act none, ReLU or GELU
//
// Functions: micro, block, dense, pack. The convolution (conv-kernels.ts), Winograd (winograd-kernels.ts),
// transformer (transformer-kernels.ts) and depthwise/grouped (depthwise-module.ts) families call block and dense.
//
// Layout and loops (Goto-style, sized for 32–48 KiB L1 / ≥1 MiB L2):
//   B packed in panels of NR columns: panel p holds rows k = 0…K−1 of columns p·NR…p·NR+NR−1, zero-padded;
//   the packed bias follows, padded to whole panels.
//   rows in blocks of `mc` (the caller picks mc so a block of A stays in L2), K in chunks of `kc` (a panel chunk,
//   kc·NR floats, stays in L1); each chunk of the block's rows is packed first (per tile of MR rows, k by k: the
//   micro-kernel reads A as one stream at constant offsets), then panels, then tiles: the micro-kernel computes an
//   MR×NR tile of C in 2·MR registers over one K chunk, starting from bias + R (first chunk) or from C (later
//   chunks), and applies ReLU after the last chunk; GELU runs over each finished block while it is in cache.

import { FunctionBuilder } from './emit.js';
import type { FunctionIndex, KernelFamily } from './module.js';

export const MR = 5;
export const NR = 8;
const NV = NR / 4;   // v128 registers per tile row

/** Bits of the micro-kernel's and block's `flags`. */
export const ACCUMULATE = 1, RELU = 2, GELU = 4;

/**
 * micro(pa, pb, c, ldc, kc, bias, res, mr, nr, flags, scratch): one MR×NR tile of C over kc values of k.
 * pa: the tile's rows of A packed by packA (MR floats per k), pb: the panel at this chunk, bias: NR floats or 0,
 * res: a tile to add (rows ldc apart, like C) or 0, scratch: MR·NR floats for a partial tile (mr < MR or nr < NR).
 * Starts from C when flags has ACCUMULATE, else from bias + res.
 */
function micro(): FunctionBuilder {
  const f = new FunctionBuilder('micro', {
    pa: 'i32', pb: 'i32', c: 'i32', ldc: 'i32', kc: 'i32', bias: 'i32', res: 'i32', mr: 'i32', nr: 'i32', flags: 'i32', scratch: 'i32',
  });
  const acc = (r: number, v: number) => `acc${r}_${v}`;
  const decl: Record<string, 'i32' | 'v128'> = { av: 'v128', pend: 'i32', i: 'i32', j: 'i32', full: 'i32' };
  for (let r = 0; r < MR; r++) for (let v = 0; v < NV; v++) decl[acc(r, v)] = 'v128';
  for (let v = 0; v < NV; v++) decl[`b${v}`] = 'v128';
  f.locals(decl);

  f.get('mr').i32(MR).eq().get('nr').i32(NR).eq().and().set('full');

  // A partial tile goes through scratch: C (when accumulating) or the residual is copied there first, and the
  // result copied back at the end.
  const copyTile = (toScratch: boolean, base: string) => {
    f.forRange('i', () => f.i32(0), () => f.get('mr'), 1, () => {
      f.forRange('j', () => f.i32(0), () => f.get('nr'), 1, () => {
        const cAddr = () => f.get(base).get('i').get('ldc').mul().add().get('j').i32(2).shl().add();
        const sAddr = () => f.get('scratch').get('i').i32(NR * 4).mul().add().get('j').i32(2).shl().add();
        if (toScratch) { sAddr(); cAddr(); f.f32Load().f32Store(); } else { cAddr(); sAddr(); f.f32Load().f32Store(); }
      });
    });
  };
  /** Pushes row r, vector v of a tile at `base` (full tile) or of the scratch copy. */
  const tileLoad = (base: string, r: number, v: number) => {
    f.get('full').if('v128')
      .get(base).get('ldc').i32(r).mul().add().v128Load(v * 16)
      .else()
      .get('scratch').v128Load((r * NR + v * 4) * 4)
      .end();
  };

  // Initial accumulators: C (accumulate), else bias (or zero) plus the residual tile if any.
  f.get('flags').i32(ACCUMULATE).and().if();
  {
    f.get('full').eqz().if(); copyTile(true, 'c'); f.end();
    for (let r = 0; r < MR; r++) for (let v = 0; v < NV; v++) { tileLoad('c', r, v); f.set(acc(r, v)); }
  }
  f.else();
  {
    for (let v = 0; v < NV; v++) {
      f.get('bias').if().get('bias').v128Load(v * 16).set(`b${v}`).else().v128Zero().set(`b${v}`).end();
      for (let r = 0; r < MR; r++) f.get(`b${v}`).set(acc(r, v));
    }
    f.get('res').if();
    f.get('full').eqz().if(); copyTile(true, 'res'); f.end();
    for (let r = 0; r < MR; r++) for (let v = 0; v < NV; v++) { tileLoad('res', r, v); f.get(acc(r, v)).f32x4Add().set(acc(r, v)); }
    f.end();
  }
  f.end();

  // The k loop: NV panel loads, then per row one broadcast load (at a constant offset in the packed A) and NV fused
  // multiply-adds; both pointers step once per k.
  f.get('pb').get('kc').i32(NR * 4).mul().add().set('pend');
  f.loop();
  for (let v = 0; v < NV; v++) f.get('pb').v128Load(v * 16).set(`b${v}`);
  for (let r = 0; r < MR; r++) {
    f.get('pa').loadSplat32(r * 4).set('av');
    for (let v = 0; v < NV; v++) f.get('av').get(`b${v}`).get(acc(r, v)).f32x4RelaxedMadd().set(acc(r, v));
  }
  f.get('pa').i32(MR * 4).add().set('pa');
  f.get('pb').i32(NR * 4).add().tee('pb').get('pend').ne().brIf(0);
  f.end();

  f.get('flags').i32(RELU).and().if();
  for (let r = 0; r < MR; r++) for (let v = 0; v < NV; v++) f.get(acc(r, v)).v128Zero().f32x4Max().set(acc(r, v));
  f.end();

  f.get('full').if();
  for (let r = 0; r < MR; r++) for (let v = 0; v < NV; v++) f.get('c').get('ldc').i32(r).mul().add().get(acc(r, v)).v128Store(v * 16);
  f.else();
  for (let r = 0; r < MR; r++) for (let v = 0; v < NV; v++) f.get('scratch').get(acc(r, v)).v128Store((r * NR + v * 4) * 4);
  copyTile(false, 'c');
  f.end();
  return f;
}

/**
 * GELU as nn.GELU() computes it, x·½·(1 + erf(x/√2)), on the v128 in local `v` (locals x, x2, p, q: v128). erf is
 * Eigen's float rational approximation (the one TensorFlow and XNNPACK use): x clamped to ±4, where erf is ±1 in
 * float32, then an odd degree-13 over an even degree-8 polynomial in x.
 */
function gelu(f: FunctionBuilder): void {
  const ALPHA = [-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06, -5.69250639462346e-05, -7.34990630326855e-04, -2.95459980854025e-03, -1.60960333262415e-02];
  const BETA = [-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03, -7.37332916720468e-03, -1.42647390514189e-02];
  f.get('v').f32x4Const(Math.SQRT1_2).f32x4Mul().f32x4Const(-4).f32x4Max().f32x4Const(4).f32x4Min().set('x');
  f.get('x').get('x').f32x4Mul().set('x2');
  const horner = (coef: number[], out: string) => {
    f.get('x2').f32x4Const(coef[0]!).f32x4Const(coef[1]!).f32x4RelaxedMadd().set(out);
    for (const k of coef.slice(2)) f.get('x2').get(out).f32x4Const(k).f32x4RelaxedMadd().set(out);
  };
  horner(ALPHA, 'p');
  horner(BETA, 'q');
  f.get('v').f32x4Const(0.5).f32x4Mul()
    .get('x').get('p').f32x4Mul().get('q').f32x4Div().f32x4Const(1).f32x4Add()
    .f32x4Mul().set('v');
}

/** Bytes of a thread's scratch before its packed-A area: the partial tile. */
export const PACKED_A_AT = MR * NR * 4;
/** Bytes of scratch block() needs for blocks of mc rows and K chunks of kc. */
export const scratchBytes = (mc: number, kc: number) => PACKED_A_AT + Math.ceil(mc / MR) * MR * kc * 4;

/**
 * block(a, lda, mc, pb, bias, res, K, N, c, ldc, flags, scratch, kcMax): rows 0…mc−1 and columns 0…N−1 of C (rows
 * ldc bytes apart) from rows of A (lda apart), B's panels from pb on, the bias (N floats, padded) and a residual
 * to add (like C, or 0). K goes in chunks of kcMax; RELU or GELU in flags apply once the last chunk is in. Each
 * chunk of A is first packed into scratch (from PACKED_A_AT; scratchBytes(mc, kcMax) in all): per tile of MR rows,
 * k by k, MR floats (zeros for rows past mc), so the micro-kernel reads it as one stream.
 */
function block(at: FunctionIndex): FunctionBuilder {
  const f = new FunctionBuilder('block', {
    a: 'i32', lda: 'i32', mc: 'i32', pb: 'i32', bias: 'i32', res: 'i32', K: 'i32', N: 'i32', c: 'i32', ldc: 'i32', flags: 'i32', scratch: 'i32', kcMax: 'i32',
  });
  f.locals({ k0: 'i32', kc: 'i32', fl: 'i32', j: 'i32', i: 'i32', nr: 'i32', ptr: 'i32', k: 'i32', src: 'i32', dst: 'i32', pa: 'i32', v: 'v128', x: 'v128', x2: 'v128', p: 'v128', q: 'v128' });
  f.get('scratch').i32(PACKED_A_AT).add().set('pa');
  f.forRange('k0', () => f.i32(0), () => f.get('K'), () => f.get('kcMax'), () => {
    f.minS(() => f.get('kcMax'), () => f.get('K').get('k0').sub()).set('kc');
    // pack rows 0…mc−1, columns k0…k0+kc−1 of A
    f.forRange('i', () => f.i32(0), () => f.get('mc'), MR, () => {
      for (let r = 0; r < MR; r++) {
        f.get('pa').get('i').get('kc').mul().i32(2).shl().add().i32(r * 4).add().set('dst');
        f.get('i').i32(r).add().get('mc').ltS().if();
        f.get('a').get('i').i32(r).add().get('lda').mul().add().get('k0').i32(2).shl().add().set('src');
        f.forRange('k', () => f.i32(0), () => f.get('kc'), 1, () => {
          f.get('dst').get('src').f32Load().f32Store();
          f.get('src').i32(4).add().set('src');
          f.get('dst').i32(MR * 4).add().set('dst');
        });
        f.else();
        f.forRange('k', () => f.i32(0), () => f.get('kc'), 1, () => {
          f.get('dst').f32(0).f32Store();
          f.get('dst').i32(MR * 4).add().set('dst');
        });
        f.end();
      }
    });
    // fl = (k0 > 0 ? ACCUMULATE : 0) | (last chunk ? flags & RELU : 0); ACCUMULATE is 1, what i32.gt_s pushes
    f.get('k0').i32(0).gtS();
    f.get('flags').i32(RELU).and().i32(0).get('k0').get('kc').add().get('K').geS().select().or().set('fl');
    f.forRange('j', () => f.i32(0), () => f.get('N'), NR, () => {
      f.minS(() => f.i32(NR), () => f.get('N').get('j').sub()).set('nr');
      f.forRange('i', () => f.i32(0), () => f.get('mc'), MR, () => {
        f.get('pa').get('i').get('kc').mul().i32(2).shl().add();                            // pa
        f.get('pb').get('j').get('K').mul().i32(2).shl().add().get('k0').i32(NR * 4).mul().add();   // pb
        f.get('c').get('i').get('ldc').mul().add().get('j').i32(2).shl().add();            // c
        f.get('ldc').get('kc');
        f.get('bias').get('j').i32(2).shl().add().i32(0).get('k0').eqz().select();      // bias (first chunk)
        f.get('res').get('i').get('ldc').mul().add().get('j').i32(2).shl().add()         // res (first chunk, if any)
          .i32(0).get('k0').eqz().get('res').i32(0).ne().and().select();
        f.minS(() => f.i32(MR), () => f.get('mc').get('i').sub());                        // mr
        f.get('nr').get('fl').get('scratch').call(at('micro'));
      });
    });
  });
  // GELU over the finished block, four columns at a time (a column tail one at a time, through lane 0).
  f.get('flags').i32(GELU).and().if();
  f.forRange('i', () => f.i32(0), () => f.get('mc'), 1, () => {
    f.forRange('j', () => f.i32(0), () => f.get('N'), 4, () => {
      f.get('c').get('i').get('ldc').mul().add().get('j').i32(2).shl().add().set('ptr');
      f.get('j').i32(4).add().get('N').leS().if();
      f.get('ptr').v128Load().set('v');
      gelu(f);
      f.get('ptr').get('v').v128Store();
      f.else();
      f.forRange('j', () => f.get('j'), () => f.get('N'), 1, () => {
        f.get('c').get('i').get('ldc').mul().add().get('j').i32(2).shl().add().set('ptr');
        f.get('ptr').f32Load().f32x4Splat().set('v');
        gelu(f);
        f.get('ptr').get('v').f32x4ExtractLane0().f32Store();
      });
      f.end();
    });
  });
  f.end();
  return f;
}

/** Pushes block()'s pb and bias for columns from n0 of a B packed for K×N (n0 a multiple of NR). */
export function columns(f: FunctionBuilder, K: () => void, N: () => void): void {
  f.get('pb').get('n0'); K(); f.mul().i32(2).shl().add();                                        // pb + n0·K·4
  f.get('pb'); N(); f.i32(NR - 1).add().i32(NR).divS().i32(NR * 4).mul(); K(); f.mul().add()   // bias base
    .get('n0').i32(2).shl().add();
}

/** Pushes `base + off`, or 0 when base is 0 (an absent residual). */
export function offsetOrZero(f: FunctionBuilder, base: string, off: () => void): void {
  f.get(base); off(); f.add().i32(0).get(base).select();
}

/**
 * dense(a, lda, m0, m1, n0, n1, mcMax, kcMax, pb, K, N, c, ldc, res, flags, scratch): rows m0…m1−1, columns
 * n0…n1−1 of a plain product (plus residual `res`, laid out like C, if not 0), in blocks of mcMax rows.
 */
function dense(at: FunctionIndex): FunctionBuilder {
  const f = new FunctionBuilder('dense', {
    a: 'i32', lda: 'i32', m0: 'i32', m1: 'i32', n0: 'i32', n1: 'i32', mcMax: 'i32', kcMax: 'i32', pb: 'i32', K: 'i32', N: 'i32', c: 'i32', ldc: 'i32', res: 'i32', flags: 'i32', scratch: 'i32',
  });
  f.locals({ m: 'i32' });
  const cOff = () => f.get('m').get('ldc').mul().get('n0').i32(2).shl().add();
  f.forRange('m', () => f.get('m0'), () => f.get('m1'), () => f.get('mcMax'), () => {
    f.get('a').get('m').get('lda').mul().add().get('lda');
    f.minS(() => f.get('mcMax'), () => f.get('m1').get('m').sub());
    columns(f, () => f.get('K'), () => f.get('N'));
    offsetOrZero(f, 'res', cOff);
    f.get('K').get('n1').get('n0').sub();
    f.get('c'); cOff(); f.add();
    f.get('ldc').get('flags').get('scratch').get('kcMax').call(at('block'));
  });
  return f;
}

/**
 * pack(src, sk, sn, K, N, dst, scale): B[k][n] = scale · src[k·sk + n·sn] (strides in floats) packed as panels of NR
 * columns, then the bias area zeroed: the layout block() reads, for operands that are not weights (attention's Kᵀ
 * and V, packed per head).
 */
function pack(): FunctionBuilder {
  const f = new FunctionBuilder('pack', { src: 'i32', sk: 'i32', sn: 'i32', K: 'i32', N: 'i32', dst: 'i32', scale: 'f32' });
  f.locals({ p: 'i32', k: 'i32', c: 'i32', n: 'i32', o: 'i32', panels: 'i32' });
  f.get('N').i32(NR - 1).add().i32(NR).divS().set('panels');
  f.get('dst').set('o');
  f.forRange('p', () => f.i32(0), () => f.get('panels'), 1, () => {
    f.forRange('k', () => f.i32(0), () => f.get('K'), 1, () => {
      f.forRange('c', () => f.i32(0), () => f.i32(NR), 1, () => {
        f.get('p').i32(NR).mul().get('c').add().set('n');
        f.get('o');
        f.get('n').get('N').ltS().if('f32')
          .get('src').get('k').get('sk').mul().get('n').get('sn').mul().add().i32(2).shl().add().f32Load().get('scale').f32Mul()
          .else().f32(0).end();
        f.f32Store();
        f.get('o').i32(4).add().set('o');
      });
    });
  });
  f.get('o').i32(0).get('panels').i32(NR * 4).mul().memoryFill();
  return f;
}

/** The GEMM family: micro, block, dense, pack. */
export const gemmKernels: KernelFamily = {
  names: ['micro', 'block', 'dense', 'pack'],
  build: at => [micro(), block(at), dense(at), pack()],
};
