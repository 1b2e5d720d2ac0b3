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
// LayerNorm rows. Exports: micro, block, dense, conv, pack, softmax, attention, layernorm.
//
// Layout and loops (Goto-style, sized for 32–48 KiB L1 / ≥1 MiB L2):
//   B packed in panels of NR columns: panel p holds rows k = 0…K−1 of columns p·NR…p·NR+NR−1, zero-padded;
//   the packed bias follows, padded to whole panels.
//   rows in blocks of `mc` (the caller picks mc so a block of A stays in L2), K in chunks of `kc` (a panel chunk,
//   kc·NR floats, stays in L1), then panels, then tiles of MR rows: the micro-kernel computes an MR×NR tile of C
//   in 2·MR registers over one K chunk, starting from bias + R (first chunk) or from C (later chunks), and applies
//   ReLU after the last chunk; GELU runs over each finished block while it is in cache.

import { FunctionBuilder, wasmModule, type MemoryImport } from './emit.js';

export const MR = 5;
export const NR = 8;
const NV = NR / 4;   // v128 registers per tile row

/** Exported function indices, in module order. */
const MICRO = 0, BLOCK = 1, DENSE = 2, PACK = 4, SOFTMAX = 5;

/** Bits of the micro-kernel's and block's `flags`. */
export const ACCUMULATE = 1, RELU = 2, GELU = 4;

/**
 * micro(a, lda, pb, c, ldc, kc, bias, res, mr, nr, flags, scratch): one MR×NR tile of C over kc values of k.
 * a: first row of A (rows lda bytes apart; rows ≥ mr alias row 0), pb: the panel at this chunk, bias: NR floats or
 * 0, res: a tile to add (rows ldc apart, like C) or 0, scratch: MR·NR floats for a partial tile (mr < MR or nr < NR).
 * Starts from C when flags has ACCUMULATE, else from bias + res.
 */
function micro(): FunctionBuilder {
  const f = new FunctionBuilder('micro', {
    a: 'i32', lda: 'i32', pb: 'i32', c: 'i32', ldc: 'i32', kc: 'i32', bias: 'i32', res: 'i32', mr: 'i32', nr: 'i32', flags: 'i32', scratch: 'i32',
  });
  const acc = (r: number, v: number) => `acc${r}_${v}`;
  const row = (r: number) => `a${r}`;
  const decl: Record<string, 'i32' | 'v128'> = { av: 'v128', koff: 'i32', kend: 'i32', i: 'i32', j: 'i32', full: 'i32' };
  for (let r = 0; r < MR; r++) {
    decl[row(r)] = 'i32';
    for (let v = 0; v < NV; v++) decl[acc(r, v)] = 'v128';
  }
  for (let v = 0; v < NV; v++) decl[`b${v}`] = 'v128';
  f.locals(decl);

  // Row pointers; rows past mr read row 0 (always in bounds) and are never stored.
  f.get('a').set(row(0));
  for (let r = 1; r < MR; r++) f.get('a').get('lda').i32(r).mul().add().get('a').i32(r).get('mr').ltS().select().set(row(r));
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

  // The k loop: NV panel loads, then per row one broadcast load and NV fused multiply-adds.
  f.i32(0).set('koff').get('kc').i32(2).shl().set('kend');
  f.loop();
  for (let v = 0; v < NV; v++) f.get('pb').v128Load(v * 16).set(`b${v}`);
  for (let r = 0; r < MR; r++) {
    f.get(row(r)).get('koff').add().loadSplat32().set('av');
    for (let v = 0; v < NV; v++) f.get('av').get(`b${v}`).get(acc(r, v)).f32x4RelaxedMadd().set(acc(r, v));
  }
  f.get('pb').i32(NR * 4).add().set('pb');
  f.get('koff').i32(4).add().tee('koff').get('kend').ne().brIf(0);
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

/**
 * block(a, lda, mc, pb, bias, res, K, N, c, ldc, flags, scratch, kcMax): rows 0…mc−1 and columns 0…N−1 of C (rows
 * ldc bytes apart) from rows of A (lda apart), B's panels from pb on, the bias (N floats, padded) and a residual
 * to add (like C, or 0). K goes in chunks of kcMax; RELU or GELU in flags apply once the last chunk is in.
 */
function block(): FunctionBuilder {
  const f = new FunctionBuilder('block', {
    a: 'i32', lda: 'i32', mc: 'i32', pb: 'i32', bias: 'i32', res: 'i32', K: 'i32', N: 'i32', c: 'i32', ldc: 'i32', flags: 'i32', scratch: 'i32', kcMax: 'i32',
  });
  f.locals({ k0: 'i32', kc: 'i32', fl: 'i32', j: 'i32', i: 'i32', nr: 'i32', ptr: 'i32', v: 'v128', x: 'v128', x2: 'v128', p: 'v128', q: 'v128' });
  f.forRange('k0', () => f.i32(0), () => f.get('K'), () => f.get('kcMax'), () => {
    f.minS(() => f.get('kcMax'), () => f.get('K').get('k0').sub()).set('kc');
    // fl = (k0 > 0 ? ACCUMULATE : 0) | (last chunk ? flags & RELU : 0); ACCUMULATE is 1, what i32.gt_s pushes
    f.get('k0').i32(0).gtS();
    f.get('flags').i32(RELU).and().i32(0).get('k0').get('kc').add().get('K').geS().select().or().set('fl');
    f.forRange('j', () => f.i32(0), () => f.get('N'), NR, () => {
      f.minS(() => f.i32(NR), () => f.get('N').get('j').sub()).set('nr');
      f.forRange('i', () => f.i32(0), () => f.get('mc'), MR, () => {
        f.get('a').get('i').get('lda').mul().add().get('k0').i32(2).shl().add();           // a
        f.get('lda');
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

/** The module's bytes for a heap of this kind. Exports: micro, block, dense, conv, pack, softmax, attention, layernorm. */
export function gemmModuleBytes(memory: MemoryImport): Uint8Array<ArrayBuffer> {
  return wasmModule([micro(), block(), dense(), conv(), pack(), softmax(), attention(), layerNorm()], memory);
}
