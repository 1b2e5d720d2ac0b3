// ocellus's own float32 GEMM in WebAssembly SIMD with relaxed fused multiply-add, written as a module from
// TypeScript (kernels/wasm/emit.ts). It works in the tfjs WASM heap: A, the output and the bias are tfjs tensors'
// memory, B is packed once per weight. XNNPACK's WASM SIMD kernels (tfjs 4.x) have no FMA, so they issue a multiply
// and an add per 4 products; with f32x4.relaxed_madd one instruction does both (vfmadd on x86-64 with FMA3, fmla
// on arm64), which is most of why this kernel is faster than the one it replaces.
//
//   C[M×N] = act(A[M×K] · B[K×N] + bias + R)   A rows at a stride (lda); or, for a convolution, rows gathered
//                                                from an NHWC input (im2col, one block of rows at a time);
//                                                R an optional residual laid out like C; act none, ReLU or GELU
//
// The same module holds what is built on that product: attention (Kᵀ and V packed per head, a SIMD softmax) and
// LayerNorm rows, and 3×3 convolutions by Winograd's F(2×2, 3×3) on 16 products. Exports: micro, block, dense, conv,
// pack, softmax, attention, layernorm, winograd.
//
// Layout and loops (Goto-style, sized for 32–48 KiB L1 / ≥1 MiB L2):
//   B packed in panels of NR columns: panel p holds rows k = 0…K−1 of columns p·NR…p·NR+NR−1, zero-padded;
//   the packed bias follows, padded to whole panels.
//   rows in blocks of `mc` (the caller picks mc so a block of A stays in L2), K in chunks of `kc` (a panel chunk,
//   kc·NR floats, stays in L1); each chunk of the block's rows is packed first (per tile of MR rows, k by k: the
//   micro-kernel reads A as one stream at constant offsets), then panels, then tiles: the micro-kernel computes an
//   MR×NR tile of C in 2·MR registers over one K chunk, starting from bias + R (first chunk) or from C (later
//   chunks), and applies ReLU after the last chunk; GELU runs over each finished block while it is in cache.

import { FunctionBuilder, wasmModule, type MemoryImport } from './emit.js';
import { depthwiseFunctions } from './depthwise-module.js';

export const MR = 5;
export const NR = 8;
const NV = NR / 4;   // v128 registers per tile row

/** Exported function indices, in module order. */
const MICRO = 0, BLOCK = 1, DENSE = 2, PACK = 4, SOFTMAX = 5;

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
function block(): FunctionBuilder {
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
        f.get('nr').get('fl').get('scratch').call(MICRO);
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
function columns(f: FunctionBuilder, K: () => void, N: () => void): void {
  f.get('pb').get('n0'); K(); f.mul().i32(2).shl().add();                                        // pb + n0·K·4
  f.get('pb'); N(); f.i32(NR - 1).add().i32(NR).divS().i32(NR * 4).mul(); K(); f.mul().add()   // bias base
    .get('n0').i32(2).shl().add();
}

/** Pushes `base + off`, or 0 when base is 0 (an absent residual). */
function offsetOrZero(f: FunctionBuilder, base: string, off: () => void): void {
  f.get(base); off(); f.add().i32(0).get(base).select();
}

/**
 * dense(a, lda, m0, m1, n0, n1, mcMax, kcMax, pb, K, N, c, ldc, res, flags, scratch): rows m0…m1−1, columns
 * n0…n1−1 of a plain product (plus residual `res`, laid out like C, if not 0), in blocks of mcMax rows.
 */
function dense(): FunctionBuilder {
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
    f.get('ldc').get('flags').get('scratch').get('kcMax').call(BLOCK);
  });
  return f;
}

/** Field order of the convolution geometry record conv() reads (i32 each). */
export const CONV_FIELDS = ['x', 'H', 'W', 'C', 'OH', 'OW', 'KH', 'KW', 'SH', 'SW', 'DH', 'DW', 'PT', 'PL'] as const;

/**
 * conv(geo, m0, m1, n0, n1, mcMax, kcMax, pb, N, c, res, flags, rows, scratch): output pixels m0…m1−1 (of n·OH·OW,
 * NHWC), channels n0…n1−1, of a convolution (plus residual `res`, laid out like the output, if not 0). Each block of
 * rows is first gathered into `rows` (im2col: per pixel the KH·KW input pixels it sees, C floats each, zeros where
 * the window leaves the input; a window row inside the input is one copy when DW = 1), then multiplied like dense().
 */
function conv(): FunctionBuilder {
  const f = new FunctionBuilder('conv', {
    geo: 'i32', m0: 'i32', m1: 'i32', n0: 'i32', n1: 'i32', mcMax: 'i32', kcMax: 'i32', pb: 'i32', N: 'i32', c: 'i32', res: 'i32', flags: 'i32', rows: 'i32', scratch: 'i32',
  });
  const g: Record<string, 'i32'> = {};
  for (const k of CONV_FIELDS) g[k] = 'i32';
  f.locals({ ...g, K: 'i32', cb: 'i32', m: 'i32', mc: 'i32', r: 'i32', p: 'i32', n: 'i32', oy: 'i32', ox: 'i32', ky: 'i32', kx: 'i32', iy: 'i32', ix: 'i32', dst: 'i32', span: 'i32' });
  CONV_FIELDS.forEach((k, i) => f.get('geo').i32Load(i * 4).set(k));
  f.get('C').i32(2).shl().set('cb');                                   // bytes per input pixel
  f.get('KH').get('KW').mul().get('C').mul().set('K');
  f.get('KW').i32(1).sub().get('DW').mul().set('span');                // last tap's column offset in a window row
  const src = () => f.get('x').get('n').get('H').mul().get('iy').add().get('W').mul().get('ix').add().get('cb').mul().add();
  const inside = (x: string, lim: string) => f.get(x).get(lim).raw(0x49);   // 0 ≤ x < lim as one unsigned compare
  const cOff = () => f.get('m').get('N').mul().get('n0').add().i32(2).shl();
  f.forRange('m', () => f.get('m0'), () => f.get('m1'), () => f.get('mcMax'), () => {
    f.minS(() => f.get('mcMax'), () => f.get('m1').get('m').sub()).set('mc');
    f.get('rows').set('dst');
    f.forRange('r', () => f.i32(0), () => f.get('mc'), 1, () => {
      // pixel p = m + r → (n, oy, ox)
      f.get('m').get('r').add().set('p');
      f.get('p').get('OH').get('OW').mul().divS().set('n');
      f.get('p').get('OH').get('OW').mul().remS().get('OW').divS().set('oy');
      f.get('p').get('OW').remS().set('ox');
      f.forRange('ky', () => f.i32(0), () => f.get('KH'), 1, () => {
        f.get('oy').get('SH').mul().get('PT').sub().get('ky').get('DH').mul().add().set('iy');
        f.get('ox').get('SW').mul().get('PL').sub().set('ix');
        // the whole window row inside the input, taps adjacent: one copy of KW pixels
        inside('iy', 'H'); inside('ix', 'W').and(); f.get('ix').get('span').add().get('W').ltS().and().get('DW').i32(1).eq().and().if();
        f.get('dst'); src(); f.get('KW').get('cb').mul().memoryCopy();
        f.get('dst').get('KW').get('cb').mul().add().set('dst');
        f.else();
        f.forRange('kx', () => f.i32(0), () => f.get('KW'), 1, () => {
          f.get('ox').get('SW').mul().get('PL').sub().get('kx').get('DW').mul().add().set('ix');
          inside('iy', 'H'); inside('ix', 'W').and().if();
          f.get('dst'); src(); f.get('cb').memoryCopy();
          f.else();
          f.get('dst').i32(0).get('cb').memoryFill();
          f.end();
          f.get('dst').get('cb').add().set('dst');
        });
        f.end();
      });
    });
    f.get('rows').get('K').i32(2).shl().get('mc');
    columns(f, () => f.get('K'), () => f.get('N'));
    offsetOrZero(f, 'res', cOff);
    f.get('K').get('n1').get('n0').sub();
    f.get('c'); cOff(); f.add();
    f.get('N').i32(2).shl().get('flags').get('scratch').get('kcMax').call(BLOCK);
  });
  return f;
}

/**
 * winograd(geo, m0, m1, n0, n1, mcMax, kcMax, pu, N, c, res, flags, work, scratch): a 3×3 convolution at stride 1
 * (the geometry record as conv() reads it) by Winograd's F(2×2, 3×3), for output tiles m0…m1−1 (2×2 pixels each,
 * n·⌈OH/2⌉·⌈OW/2⌉ of them, row-major per image) and channels n0…n1−1 (multiples of 4; C too). Four multiplies per
 * output per input channel instead of nine (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016):
 *   V = Bᵀ d B  per tile, per input channel: d the tile's 4×4 input patch (zeros outside the input)
 *   M = V ⊙ U summed over the input channels: for each of the 16 positions ξ a product V[ξ] (tiles × C) · U[ξ] (C × N)
 *       by dense(), U[ξ] packed like any B (pu: 16 packed blocks of C×N, then the bias, N floats)
 *   Y = Aᵀ M A  the tile's 2×2 outputs, + bias (+ the residual) (ReLU), stored where they fall inside the output
 * with Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1] and Aᵀ = [1 1 1 0; 0 1 −1 −1]. Tiles go in blocks of mcMax:
 * `work` holds the block's V (16 × mcMax × C floats), its M (16 × mcMax × (n1 − n0)) and a zero pixel (C floats),
 * four channels at a time in v128s.
 */
function winograd(): FunctionBuilder {
  const f = new FunctionBuilder('winograd', {
    geo: 'i32', m0: 'i32', m1: 'i32', n0: 'i32', n1: 'i32', mcMax: 'i32', kcMax: 'i32', pu: 'i32', N: 'i32', c: 'i32', res: 'i32', flags: 'i32', work: 'i32', scratch: 'i32',
  });
  const g: Record<string, 'i32'> = {};
  for (const k of CONV_FIELDS) g[k] = 'i32';
  const decl: Record<string, 'i32' | 'v128'> = {
    ...g, TW: 'i32', T1: 'i32', cb: 'i32', nb: 'i32', vs: 'i32', ms: 'i32', mb: 'i32', zero: 'i32', ub: 'i32', bias: 'i32',
    m: 'i32', mc: 'i32', r: 'i32', t: 'i32', n: 'i32', ty: 'i32', tx: 'i32', iy: 'i32', ix: 'i32', base: 'i32', rowB: 'i32',
    k: 'i32', xi: 'i32', dst: 'i32', src: 'i32', j: 'i32', o: 'i32', ok: 'i32', bv: 'v128', y: 'v128',
  };
  for (let i = 0; i < 16; i++) { decl[`p${i}`] = 'i32'; decl[`t${i}`] = 'v128'; }
  for (let i = 0; i < 4; i++) decl[`d${i}`] = 'v128';
  f.locals(decl);
  CONV_FIELDS.forEach((k, i) => f.get('geo').i32Load(i * 4).set(k));
  f.get('OW').i32(1).add().i32(1).raw(0x75).set('TW');                                  // ⌈OW/2⌉ (i32.shr_s)
  f.get('OH').i32(1).add().i32(1).raw(0x75).get('TW').mul().set('T1');                  // tiles per image
  f.get('C').i32(2).shl().set('cb');
  f.get('n1').get('n0').sub().i32(2).shl().set('nb');
  f.get('mcMax').get('cb').mul().set('vs');                                             // bytes per ξ of V
  f.get('mcMax').get('nb').mul().set('ms');                                             // bytes per ξ of M
  f.get('work').get('vs').i32(16).mul().add().set('mb');
  f.get('mb').get('ms').i32(16).mul().add().set('zero');
  f.get('zero').i32(0).get('cb').memoryFill();
  f.get('N').i32(NR - 1).add().i32(NR).divS().i32(NR * 4).mul().get('C').i32(1).add().mul().set('ub');   // a packed C×N
  f.get('pu').get('ub').i32(16).mul().add().set('bias');
  f.get('W').get('cb').mul().set('rowB');
  const inside = (x: () => void, lim: string) => { x(); f.get(lim).raw(0x49); };        // 0 ≤ x < lim (i32.lt_u)
  /** tile t → n, ty, tx */
  const tileOf = () => {
    f.get('m').get('r').add().set('t');
    f.get('t').get('T1').divS().set('n');
    f.get('t').get('T1').remS().get('TW').divS().set('ty');
    f.get('t').get('TW').remS().set('tx');
  };
  const addV = (a: string, b: string, op: 'add' | 'sub') => { f.get(a).get(b); if (op === 'add') f.f32x4Add(); else f.f32x4Sub(); };

  f.forRange('m', () => f.get('m0'), () => f.get('m1'), () => f.get('mcMax'), () => {
    f.minS(() => f.get('mcMax'), () => f.get('m1').get('m').sub()).set('mc');

    // V = Bᵀ d B for each tile of the block, four input channels at a time.
    f.forRange('r', () => f.i32(0), () => f.get('mc'), 1, () => {
      tileOf();
      f.get('ty').i32(1).shl().get('PT').sub().set('iy');
      f.get('tx').i32(1).shl().get('PL').sub().set('ix');
      f.get('x').get('n').get('H').mul().get('iy').add().get('W').mul().get('ix').add().get('cb').mul().add().set('base');
      for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) {
        // p(i, j): the patch pixel, or the zero pixel where it falls outside the input
        f.get('base').get('rowB').i32(i).mul().add().get('cb').i32(j).mul().add().get('zero');
        inside(() => f.get('iy').i32(i).add(), 'H'); inside(() => f.get('ix').i32(j).add(), 'W'); f.and();
        f.select().set(`p${i * 4 + j}`);
      }
      f.get('work').get('r').get('cb').mul().add().set('dst');
      f.forRange('k', () => f.i32(0), () => f.get('cb'), 16, () => {
        for (let j = 0; j < 4; j++) {   // columns: t(·, j) = Bᵀ d(·, j)
          for (let i = 0; i < 4; i++) f.get(`p${i * 4 + j}`).get('k').add().v128Load().set(`d${i}`);
          addV('d0', 'd2', 'sub'); f.set(`t${0 * 4 + j}`);
          addV('d1', 'd2', 'add'); f.set(`t${1 * 4 + j}`);
          addV('d2', 'd1', 'sub'); f.set(`t${2 * 4 + j}`);
          addV('d1', 'd3', 'sub'); f.set(`t${3 * 4 + j}`);
        }
        for (let i = 0; i < 4; i++) {   // rows: V(i, ·) = t(i, ·) B
          const t = (j: number) => `t${i * 4 + j}`;
          const store = (xi: number, a: string, b: string, op: 'add' | 'sub') => {
            f.get('dst').get('k').add().get('vs').i32(xi).mul().add(); addV(a, b, op); f.v128Store();
          };
          store(i * 4 + 0, t(0), t(2), 'sub');
          store(i * 4 + 1, t(1), t(2), 'add');
          store(i * 4 + 2, t(2), t(1), 'sub');
          store(i * 4 + 3, t(1), t(3), 'sub');
        }
      });
    });

    // M[ξ] = V[ξ] · U[ξ] for the 16 positions: columns n0…n1−1 of each, into mb (rows nb bytes apart).
    f.forRange('xi', () => f.i32(0), () => f.i32(16), 1, () => {
      f.get('work').get('xi').get('vs').mul().add().get('cb').i32(0).get('mc').get('n0').get('n1').get('mc').get('kcMax');
      f.get('pu').get('xi').get('ub').mul().add().get('C').get('N');
      f.get('mb').get('xi').get('ms').mul().add().get('n0').i32(2).shl().sub().get('nb').i32(0).i32(0).get('scratch').call(DENSE);
    });

    // Y = Aᵀ M A + bias (+ residual) (ReLU) per tile, four output channels at a time.
    f.forRange('r', () => f.i32(0), () => f.get('mc'), 1, () => {
      tileOf();
      f.get('mb').get('r').get('nb').mul().add().set('src');
      // o: byte offset of the tile's top-left output pixel, channel 0
      f.get('n').get('OH').mul().get('ty').i32(1).shl().add().get('OW').mul().get('tx').i32(1).shl().add().get('N').mul().i32(2).shl().set('o');
      // ok: bit 0 the second row is inside the output, bit 1 the second column
      f.get('ty').i32(1).shl().i32(1).add().get('OH').ltS().get('tx').i32(1).shl().i32(1).add().get('OW').ltS().i32(1).shl().or().set('ok');
      f.forRange('j', () => f.get('n0'), () => f.get('n1'), 4, () => {
        for (let b = 0; b < 4; b++) {   // columns: s(·, b) = Aᵀ M(·, b), into t(0, b) and t(1, b)
          for (let a = 0; a < 4; a++) f.get('src').get('j').get('n0').sub().i32(2).shl().add().get('ms').i32(a * 4 + b).mul().add().v128Load().set(`d${a}`);
          addV('d0', 'd1', 'add'); f.get('d2').f32x4Add().set(`t${b}`);
          addV('d1', 'd2', 'sub'); f.get('d3').f32x4Sub().set(`t${4 + b}`);
        }
        f.get('bias').get('j').i32(2).shl().add().v128Load().set('bv');
        for (let a = 0; a < 2; a++) {
          for (let b = 0; b < 2; b++) {
            const s = (k: number) => `t${a * 4 + k}`;
            if (b === 0) { addV(s(0), s(1), 'add'); f.get(s(2)).f32x4Add(); } else { addV(s(1), s(2), 'sub'); f.get(s(3)).f32x4Sub(); }
            f.get('bv').f32x4Add().set('y');
            const off = () => f.get('o').get('OW').i32(a).mul().i32(b).add().get('N').mul().i32(2).shl().add().get('j').i32(2).shl().add();
            const inOut = a === 0 && b === 0 ? undefined : (a ? 1 : 0) | (b ? 2 : 0);
            if (inOut !== undefined) f.get('ok').i32(inOut).and().i32(inOut).eq().if();
            f.get('res').if().get('y').get('res'); off(); f.add().v128Load().f32x4Add().set('y').end();
            f.get('flags').i32(RELU).and().if().get('y').v128Zero().f32x4Max().set('y').end();
            f.get('c'); off(); f.add().get('y').v128Store();
            if (inOut !== undefined) f.end();
          }
        }
      });
    });
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
function attention(): FunctionBuilder {
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
      .i32(1).get('C').get('D').get('Nk').get('pk').get('scaleBits').f32ReinterpretI32().call(PACK);
    // scores = Q_h · Kᵀ → sb [Nq, Nk]
    f.get('q').get('b').get('Nq').mul().get('C').mul().get('h').get('D').mul().add().i32(2).shl().add()
      .get('C').i32(2).shl().i32(0).get('Nq').i32(0).get('Nk').get('mcMax').get('D').get('pk').get('D').get('Nk')
      .get('sb').get('Nk').i32(2).shl().i32(0).i32(0).get('tile').call(DENSE);
    f.get('sb').get('Nq').get('Nk').call(SOFTMAX);
    // V_h[j][e] = v[b, j, h·Dv + e]
    f.get('v').get('b').get('Nk').mul().get('Cv').mul().get('h').get('Dv').mul().add().i32(2).shl().add()
      .get('Cv').i32(1).get('Nk').get('Dv').get('pv').f32(1).call(PACK);
    // out[b, :, h·Dv…] = P · V_h
    f.get('sb').get('Nk').i32(2).shl().i32(0).get('Nq').i32(0).get('Dv').get('mcMax').get('Nk').get('pv').get('Nk').get('Dv')
      .get('out').get('b').get('Nq').mul().get('Cv').mul().get('h').get('Dv').mul().add().i32(2).shl().add()
      .get('Cv').i32(2).shl().i32(0).i32(0).get('tile').call(DENSE);
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

/** The module's bytes for a heap of this kind. Exports: micro, block, dense, conv, pack, softmax, attention, layernorm, winograd,
 *  then depthwise-module.ts's depthwise and grouped (and depthwise's kernels). */
export function gemmModuleBytes(memory: MemoryImport): Uint8Array<ArrayBuffer> {
  const fns = [micro(), block(), dense(), conv(), pack(), softmax(), attention(), layerNorm(), winograd()];
  return wasmModule([...fns, ...depthwiseFunctions(fns.length, { block: BLOCK, nr: NR, relu: RELU })], memory);
}
