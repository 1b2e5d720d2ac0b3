// ocellus's integer GEMM and convolution in WebAssembly SIMD, written from TypeScript (emit.ts): u8 activations times
// s8 weights with exact int32 accumulation, then a per-channel epilogue writing int32, float32 or uint8.
//
//   P[m][n] = Σ_k (a[m][k] − za) · (w[k][n] − zw[n])        exact in int32 (int8.ts checks K ≤ MAX_K)
//   int32:   P                                                (MatMulInteger, ConvInteger)
//   float32: relu(f32(P) · (sa · sw[n]) + bias[n])             (dequantize: the DynamicQuantizeLinear chains)
//   uint8:   clamp(nearest(f32(P + ibias[n]) · (sa · sw[n] / sy)) + zy, relu ? zy : 0, 255)   (QLinearConv/MatMul)
//
// The raw product R = Σ_k a'·w' runs on bytes as stored; zero points and offsets enter as P = R + β[n]·Σ_k a'[m] +
// α·γ[n] (β, γ per column, packed with the weights; Σ_k a' per row, taken while A is packed; α from za per call).
//
// Two micro-kernels, chosen per weight matrix when it is packed (int8.ts):
//   I16 (baseline SIMD, every engine): bytes widened to i16 in registers, i32x4.dot_i16x8_s — exact for any 8-bit
//       values. a' = a (u8), w' = w (s8; uint8 weights are stored as w − 128), α = −za, β = −zw, γ = Σw' + K·β.
//   I7 (relaxed SIMD): i32x4.relaxed_dot_i8x16_i7x16_add_s(a', w'), 16 products per instruction. It is only defined
//       while its second operand is in 0…127 (x86 lowers it to pmaddubsw, second operand unsigned, pair sums
//       saturating to i16; arm64 to sdot): the weights must be that operand, so a matrix is packed for I7 only when
//       every column's weights span at most 127 (w' = w − min_k w[k][n] ∈ 0…127: 7-bit weights, as a quantizer with
//       a reduced range writes them); the activations are flipped to s8 (a' = a ^ 0x80 = a − 128). Pair sums are
//       then ≤ 2·128·127 = 32512 < 2^15, so no engine saturates, and every engine and CPU gives the same R.
//       α = 128 − za, β = min_k w − zw, γ = Σw' + K·β. Other matrices use I16, relaxed SIMD or not.
//
// Layout (Goto-style, as gemm-kernels.ts): B in panels of NR = 8 columns, K padded to a multiple of 4 with zero
// weights (so padded activations do not matter), 32 bytes per group of 4 k: I7 two vectors of 4 columns × 4 k;
// I16 per vector [c0k0 c0k1 c1k0 c1k1 … c3k1 | c0k2 c0k3 … c3k3] (extend_low gives k0,k1, extend_high k2,k3).
// After the panels: β, γ (i32), sw (f32) and the bias (f32 for float32 output, i32 for uint8), NR per panel each.
// A is packed per block of rows into scratch, per tile of MR = 4 rows, per group of 4 k a row's 4 values (the
// micro-kernel loads them into every lane): I7 4 flipped bytes, I16 4 i16 (widened once here, not per panel), with
// each row's sum. Convolutions gather a block's im2col
// rows first (NHWC; outside the input: za, i.e. zero), or read the input as A when the window is 1×1. Depthwise
// convolutions have a direct kernel (qdepthwise); DynamicQuantizeLinear's range and bytes too (minmax, quantize).

import { emitInputRow, emitPixelOfRow } from './window.js';
import { FunctionBuilder, wasmModule, type MemoryImport } from './emit.js';

export const MR = 4;
export const NR = 8;
/** Micro-kernel modes, as stored with packed weights. */
export const I16 = 0, I7 = 1, DW = 2;
/** Output kinds. */
export const OUT_I32 = 0, OUT_F32 = 1, OUT_U8 = 2;

/** The job record qgemm() reads (i32 each; sa and sy are f32 bits). For a dense product a is A's first row, lda its
 *  row stride in bytes; for a convolution (conv = 1) a is the input's first pixel at this group's first channel, C the
 *  bytes per input pixel and Cg the channels gathered (K = KH·KW·Cg). */
export const JOB_FIELDS = ['a', 'lda', 'K', 'N', 'pb', 'out', 'ldo', 'kind', 'relu', 'za', 'sa', 'sy', 'zy', 'bias', 'mode',
  'conv', 'H', 'W', 'C', 'Cg', 'OH', 'OW', 'KH', 'KW', 'SH', 'SW', 'DH', 'DW', 'PT', 'PL'] as const;

/** Bytes of one thread's scratch for blocks of mc rows: the tile, row sums, packed A, and (convolutions) im2col rows. */
export const TILE_BYTES = MR * NR * 4;
export const scratchBytes = (mc: number, K: number, conv: boolean) => TILE_BYTES + mc * 4 + mc * padK(K) * 2 + (conv ? mc * K : 0);
export const padK = (K: number) => (K + 3) & ~3;
/** Bytes of packed weights for K×N: the panels, then β, γ, sw and the bias. */
export const packedBytes = (K: number, N: number) => { const np = Math.ceil(N / NR) * NR; return np * padK(K) + 4 * np * 4; };

const MICRO16 = 0, MICRO7 = 1;

const acc = (r: number, v: number) => `acc${r}_${v}`;

/** micro(pa, pb, groups, tile): the MR×NR raw product of a packed A tile and a panel over groups·4 k, into tile
 *  (int32, rows NR·4 bytes apart). */
function micro(mode: number, name: string, emulated = false): FunctionBuilder {
  const f = new FunctionBuilder(name, { pa: 'i32', pb: 'i32', groups: 'i32', tile: 'i32' });
  const decl: Record<string, 'i32' | 'v128'> = { end: 'i32', b0: 'v128', b1: 'v128', b0h: 'v128', b1h: 'v128', x: 'v128', y: 'v128', ea: 'v128', eb: 'v128', ec: 'v128', el: 'v128' };
  for (let r = 0; r < MR; r++) for (let v = 0; v < 2; v++) decl[acc(r, v)] = 'v128';
  f.locals(decl);
  f.get('pa').get('groups').i32(MR * (mode === I7 ? 4 : 8)).mul().add().set('end');
  f.get('groups').if();
  f.loop();
  if (mode === I7) {
    f.get('pb').v128Load().set('b0').get('pb').v128Load(16).set('b1');
    for (let r = 0; r < MR; r++) {
      f.get('pa').loadSplat32(r * 4).set('x');
      for (let v = 0; v < 2; v++) {
        f.get('x').get(`b${v}`).get(acc(r, v));
        if (emulated) dotEmulated(f); else f.i32x4RelaxedDotI8x16I7x16AddS();
        f.set(acc(r, v));
      }
    }
  } else {
    for (let v = 0; v < 2; v++) {
      f.get('pb').v128Load(v * 16).tee(`b${v}h`).i16x8ExtendLowI8x16S().set(`b${v}`);
      f.get(`b${v}h`).i16x8ExtendHighI8x16S().set(`b${v}h`);
    }
    for (let r = 0; r < MR; r++) {
      f.get('pa').loadSplat32(r * 8).set('x');       // [a0 a1] as i16, in every pair of lanes
      f.get('pa').loadSplat32(r * 8 + 4).set('y');   // [a2 a3]
      for (let v = 0; v < 2; v++) {
        f.get(acc(r, v)).get('x').get(`b${v}`).i32x4DotI16x8S().i32x4Add().get('y').get(`b${v}h`).i32x4DotI16x8S().i32x4Add().set(acc(r, v));
      }
    }
  }
  f.get('pb').i32(NR * 4).add().set('pb');
  f.get('pa').i32(MR * (mode === I7 ? 4 : 8)).add().tee('pa').get('end').ne().brIf(0);
  f.end();
  f.end();
  for (let r = 0; r < MR; r++) for (let v = 0; v < 2; v++) f.get('tile').get(acc(r, v)).v128Store((r * NR + v * 4) * 4);
  return f;
}

/**
 * [a, b, c] → what i32x4.relaxed_dot_i8x16_i7x16_add_s gives for b in 0…127, in baseline SIMD (locals ea, eb, ec, el):
 * the tests' stand-in where the engine's instruction is missing or not exact, so the I7 path is checked everywhere.
 * dot_i16x8_s of the widened halves gives sums of byte pairs; a shuffle adds neighbouring pairs.
 */
function dotEmulated(f: FunctionBuilder): void {
  f.set('ec').set('eb').set('ea');
  f.get('ea').i16x8ExtendLowI8x16S().get('eb').i16x8ExtendLowI8x16U().i32x4DotI16x8S().set('el');
  f.get('ea').i16x8ExtendHighI8x16S().get('eb').i16x8ExtendHighI8x16U().i32x4DotI16x8S().set('eb');
  const lanes = (idx: number[]) => idx.flatMap(i => [4 * i, 4 * i + 1, 4 * i + 2, 4 * i + 3]);
  f.get('el').get('eb').raw(0xfd, 0x0d, ...lanes([0, 2, 4, 6]));   // i8x16.shuffle: pairs 0, 2 of each half
  f.get('el').get('eb').raw(0xfd, 0x0d, ...lanes([1, 3, 5, 7]));   // pairs 1, 3
  f.i32x4Add().get('ec').i32x4Add();
}

/**
 * qgemm(job, m0, m1, n0, n1, mcMax, scratch): rows m0…m1−1 (output pixels, for a convolution) and columns n0…n1−1
 * (n0 a multiple of NR) of the job (JOB_FIELDS), in blocks of mcMax rows (a multiple of MR); scratch holds
 * scratchBytes(mcMax, K, conv) bytes.
 */
function qgemm(relaxed: boolean): FunctionBuilder {
  const f = new FunctionBuilder('qgemm', { job: 'i32', m0: 'i32', m1: 'i32', n0: 'i32', n1: 'i32', mcMax: 'i32', scratch: 'i32' });
  const decl: Record<string, 'i32' | 'v128'> = {};
  for (const k of JOB_FIELDS) decl[k] = 'i32';
  Object.assign(decl, {
    Kp: 'i32', np: 'i32', pBeta: 'i32', pGamma: 'i32', pSw: 'i32', pBias: 'i32', alpha: 'i32', sums: 'i32', pa: 'i32', rows: 'i32',
    m: 'i32', mc: 'i32', r: 'i32', k: 'i32', src: 'i32', stride: 'i32', row: 'i32', dst: 'i32', s: 'i32', flip: 'i32',
    j: 'i32', i: 'i32', mr: 'i32', col: 'i32', lane: 'i32', o: 'i32', p: 'i32', n: 'i32', oy: 'i32', ox: 'i32', ky: 'i32', kx: 'i32',
    iy: 'i32', ix: 'i32', span: 'i32', word: 'i32', ash: 'i32',
    sv: 'v128', av: 'v128', P: 'v128', y: 'v128', mult: 'v128', lo: 'v128',
  });
  f.locals(decl);
  JOB_FIELDS.forEach((k, i) => f.get('job').i32Load(i * 4).set(k));
  f.get('K').i32(3).add().i32(-4).and().set('Kp');
  f.get('N').i32(NR - 1).add().i32(-NR).and().set('np');
  f.get('pb').get('np').get('Kp').mul().add().set('pBeta');
  f.get('pBeta').get('np').i32(2).shl().add().set('pGamma');
  f.get('pGamma').get('np').i32(2).shl().add().set('pSw');
  f.get('pSw').get('np').i32(2).shl().add().set('pBias');
  // α and the activation flip by mode (I7: a' = a ^ 0x80, α = 128 − za; I16: a' = a, α = −za)
  f.get('mode').i32(I7).eq().if();
  f.i32(128).get('za').sub().set('alpha').i32(0x80).set('flip');
  f.else();
  f.i32(0).get('za').sub().set('alpha').i32(0).set('flip').i32(1).set('ash');   // I16: A widened to i16 when packed
  f.end();
  f.get('alpha').i32x4Splat().set('av');
  f.get('scratch').i32(TILE_BYTES).add().set('sums');
  f.get('sums').get('mcMax').i32(2).shl().add().set('pa');
  f.get('pa').get('mcMax').get('Kp').mul().i32(1).shl().add().set('rows');
  f.get('KW').i32(1).sub().get('DW').mul().set('span');
  const inside = (x: string, lim: string) => f.get(x).get(lim).raw(0x49);   // 0 ≤ x < lim (i32.lt_u)

  f.forRange('m', () => f.get('m0'), () => f.get('m1'), () => f.get('mcMax'), () => {
    f.minS(() => f.get('mcMax'), () => f.get('m1').get('m').sub()).set('mc');
    f.get('conv').if();
    gather(f, inside);
    f.get('rows').set('src').get('K').set('stride');
    f.else();
    f.get('a').get('m').get('lda').mul().add().set('src').get('lda').set('stride');
    f.end();
    packA(f);
    f.forRange('j', () => f.get('n0'), () => f.get('n1'), NR, () => {
      f.forRange('i', () => f.i32(0), () => f.get('mc'), MR, () => {
        const call = (fn: number) => {
          f.get('pa').get('i').get('Kp').mul().get('ash').shl().add();
          f.get('pb').get('j').get('Kp').mul().add();
          f.get('Kp').i32(2).raw(0x76);   // groups = Kp >> 2 (i32.shr_u)
          f.get('scratch').call(fn);
        };
        if (relaxed) { f.get('mode').i32(I7).eq().if(); call(MICRO7); f.else(); call(MICRO16); f.end(); } else call(MICRO16);
        f.minS(() => f.i32(MR), () => f.get('mc').get('i').sub()).set('mr');
        epilogue(f);
      });
    });
  });
  return f;
}

/** im2col: the block's rows m…m+mc−1 into `rows`, K bytes each (KH·KW taps of Cg channels; za outside the input). */
function gather(f: FunctionBuilder, inside: (x: string, lim: string) => void): void {
  const srcPixel = () => f.get('a').get('n').get('H').mul().get('iy').add().get('W').mul().get('ix').add().get('C').mul().add();
  f.get('rows').set('dst');
  f.forRange('r', () => f.i32(0), () => f.get('mc'), 1, () => {
    emitPixelOfRow(f);
    f.forRange('ky', () => f.i32(0), () => f.get('KH'), 1, () => {
      emitInputRow(f);
      f.get('ox').get('SW').mul().get('PL').sub().set('ix');
      // a window row inside the input with adjacent taps over whole pixels: one copy
      inside('iy', 'H'); inside('ix', 'W'); f.and().get('ix').get('span').add().get('W').ltS().and()
        .get('DW').i32(1).eq().and().get('Cg').get('C').eq().and().if();
      f.get('dst'); srcPixel(); f.get('KW').get('C').mul().memoryCopy();
      f.get('dst').get('KW').get('C').mul().add().set('dst');
      f.else();
      f.forRange('kx', () => f.i32(0), () => f.get('KW'), 1, () => {
        f.get('ox').get('SW').mul().get('PL').sub().get('kx').get('DW').mul().add().set('ix');
        inside('iy', 'H'); inside('ix', 'W'); f.and().if();
        f.get('dst'); srcPixel(); f.get('Cg').memoryCopy();
        f.else();
        f.get('dst').get('za').get('Cg').memoryFill();
        f.end();
        f.get('dst').get('Cg').add().set('dst');
      });
      f.end();
    });
  });
}

/** Packs rows 0…mc−1 of A (from src, stride bytes apart) into pa, 4 bytes per row per group (flipped for I7), and
 *  each row's Σ a' into sums; a last partial tile's missing rows are zeros. */
function packA(f: FunctionBuilder): void {
  f.get('mc').i32(MR - 1).and().if();
  f.get('pa').get('mc').i32(-MR).and().get('Kp').mul().get('ash').shl().add().i32(0).get('Kp').i32(MR).mul().get('ash').shl().memoryFill();
  f.end();
  f.forRange('r', () => f.i32(0), () => f.get('mc'), 1, () => {
    f.get('src').get('r').get('stride').mul().add().set('row');
    f.get('pa').get('r').i32(-MR).and().get('Kp').mul().get('ash').shl().add().get('r').i32(MR - 1).and().i32(2).get('ash').add().shl().add().set('dst');
    // Σ a over the row: 16 bytes at a time (u8 → u16 → u32 pairwise sums), then the tail
    f.v128Zero().set('sv');
    f.forRange('k', () => f.i32(0), () => f.get('K').i32(15).sub(), 16, () => {
      f.get('sv').get('row').get('k').add().v128Load().i16x8ExtaddPairwiseI8x16U().i32x4ExtaddPairwiseI16x8U().i32x4Add().set('sv');
    });
    f.get('sv').i32x4ExtractLane(0).get('sv').i32x4ExtractLane(1).add().get('sv').i32x4ExtractLane(2).add().get('sv').i32x4ExtractLane(3).add().set('s');
    f.forRange('k', () => f.get('K').i32(-16).and(), () => f.get('K'), 1, () => {
      f.get('s').get('row').get('k').add().i32Load8U().add().set('s');
    });
    // Σ a' = Σ a − 128·K for I7
    f.get('sums').get('r').i32(2).shl().add().get('s').get('K').i32(7).shl().i32(0).get('flip').select().sub().i32Store();
    // whole groups of 4 bytes, then the last group byte by byte (its other bytes meet zero weights)
    f.get('flip').i32(8).shl().get('flip').or().set('word');
    f.get('word').i32(16).shl().get('word').or().set('word');
    f.get('ash').if();
    // I16: each byte widened to an i16 (v128.load32_zero, extend, v128.store64_lane), the tail with i32.store16
    f.forRange('k', () => f.i32(0), () => f.get('K').i32(3).sub(), 4, () => {
      f.get('dst').get('row').get('k').add().raw(0xfd, 0x5c, 0, 0).i16x8ExtendLowI8x16U().raw(0xfd, 0x5b, 0, 0, 0);
      f.get('dst').i32(MR * 8).add().set('dst');
    });
    f.forRange('k', () => f.get('K').i32(-4).and(), () => f.get('K'), 1, () => {
      f.get('dst').get('k').i32(3).and().i32(1).shl().add().get('row').get('k').add().i32Load8U().raw(0x3b, 1, 0);
    });
    f.else();
    f.forRange('k', () => f.i32(0), () => f.get('K').i32(3).sub(), 4, () => {
      f.get('dst').get('row').get('k').add().i32Load().get('word').xor().i32Store();
      f.get('dst').i32(MR * 4).add().set('dst');
    });
    f.forRange('k', () => f.get('K').i32(-4).and(), () => f.get('K'), 1, () => {
      f.get('dst').get('k').i32(3).and().add().get('row').get('k').add().i32Load8U().get('flip').xor().i32Store8();
    });
    f.end();
  });
}

/** The epilogue for the tile just computed (rows m+i…, mr of them; columns j…, up to NR): P from R, then the kind. */
function epilogue(f: FunctionBuilder): void {
  f.forRange('r', () => f.i32(0), () => f.get('mr'), 1, () => {
    f.get('sums').get('i').get('r').add().i32(2).shl().add().i32Load().i32x4Splat().set('sv');
    f.get('m').get('i').add().get('r').add().get('ldo').mul().set('row');   // output row's first element
    for (let v = 0; v < 2; v++) {
      f.get('j').i32(v * 4).add().tee('col').get('N').ltS().if();
      // P = R + β·Σa' + α·γ
      f.get('scratch').get('r').i32(NR * 4).mul().add().v128Load(v * 16)
        .get('pBeta').get('col').i32(2).shl().add().v128Load().get('sv').i32x4Mul().i32x4Add()
        .get('pGamma').get('col').i32(2).shl().add().v128Load().get('av').i32x4Mul().i32x4Add().set('P');
      f.get('N').get('col').sub().set('lane');   // columns left (≥ 4: a whole vector)
      emitStore(f);
      f.end();
    }
  });
}

/** Writes the int32 vector P (columns col…, `lane` of them left) of output row `row` (its first element) in the
 *  job's kind: int32, float32 (dequantized + bias + ReLU) or uint8 (requantized). */
function emitStore(f: FunctionBuilder): void {
  {
    {
      f.get('kind').i32(OUT_U8).eq().if();
      {
        // mult = sa·sw / sy; q = clamp(nearest(f32(P + ibias)·mult) + zy, relu ? zy : 0, 255)
        f.get('sa').i32x4Splat().get('pSw').get('col').i32(2).shl().add().v128Load().f32x4Mul().get('sy').i32x4Splat().f32x4Div().set('mult');
        f.get('P').get('bias').if('v128').get('pBias').get('col').i32(2).shl().add().v128Load().else().v128Zero().end().i32x4Add();
        f.f32x4ConvertI32x4S().get('mult').f32x4Mul().f32x4Nearest().i32x4TruncSatF32x4().get('zy').i32x4Splat().i32x4Add();
        f.get('zy').i32(0).get('relu').select().i32x4Splat().i32x4MaxS().i32x4Const(255).i32x4MinS();
        f.tee('y').get('y').i16x8NarrowI32x4S().tee('y').get('y').i8x16NarrowI16x8U().i32x4ExtractLane(0).set('word');
        f.get('out').get('row').add().get('col').add().set('o');
        f.get('lane').i32(4).geS().if();
        f.get('o').get('word').i32Store();
        f.else();
        f.forRange('k', () => f.i32(0), () => f.get('lane'), 1, () => {
          f.get('o').get('k').add().get('word').get('k').i32(3).shl().raw(0x76).i32Store8();
        });
        f.end();
      }
      f.else();
      {
        f.get('kind').i32(OUT_F32).eq().if();
        f.get('P').f32x4ConvertI32x4S().get('sa').i32x4Splat().get('pSw').get('col').i32(2).shl().add().v128Load().f32x4Mul().f32x4Mul().set('P');
        f.get('bias').if().get('P').get('pBias').get('col').i32(2).shl().add().v128Load().f32x4Add().set('P').end();
        f.get('relu').if().get('P').v128Zero().f32x4Max().set('P').end();
        f.end();
        f.get('out').get('row').get('col').add().i32(2).shl().add().set('o');
        f.get('lane').i32(4).geS().if();
        f.get('o').get('P').v128Store();
        f.else();
        for (let l = 0; l < 3; l++) {
          f.get('lane').i32(l).gtS().if().get('o').get('P').i32x4ExtractLane(l).i32Store(l * 4).end();
        }
        f.end();
      }
      f.end();
    }
  }
}

/**
 * qdepthwise(job, m0, m1): output pixels m0…m1−1 of a depthwise convolution (one filter per channel, N = C channels,
 * K = KH·KW taps), directly: per pixel, 8 channels at a time, Σ over the taps inside the input of (x − za)·(w − zw)
 * with x widened to i16 and the weights stored centred as i16 (w − zw needs 9 bits; depthwise weights are KH·KW per
 * channel, so the i16 copy is small) — products by i32x4.extmul_{low,high}_i16x8_s, exact. Taps outside the input
 * are x = za: they add nothing. Packed: i16 [taps][Cp], sw f32 [Cp], bias [Cp] (Cp = C rounded up to 8).
 */
function qdepthwise(): FunctionBuilder {
  const f = new FunctionBuilder('qdepthwise', { job: 'i32', m0: 'i32', m1: 'i32' });
  const decl: Record<string, 'i32' | 'v128'> = {};
  for (const k of JOB_FIELDS) decl[k] = 'i32';
  Object.assign(decl, {
    Cp: 'i32', pSw: 'i32', pBias: 'i32', p: 'i32', n: 'i32', oy: 'i32', ox: 'i32', ky: 'i32', kx: 'i32', iy: 'i32', ix: 'i32',
    c: 'i32', row: 'i32', col: 'i32', lane: 'i32', o: 'i32', k: 'i32', word: 'i32',
    zv: 'v128', xv: 'v128', wv: 'v128', acc0: 'v128', acc1: 'v128', P: 'v128', y: 'v128', mult: 'v128',
  });
  f.locals(decl);
  JOB_FIELDS.forEach((k, i) => f.get('job').i32Load(i * 4).set(k));
  f.get('N').i32(7).add().i32(-8).and().set('Cp');
  f.get('pb').get('K').get('Cp').mul().i32(1).shl().add().set('pSw');
  f.get('pSw').get('Cp').i32(2).shl().add().set('pBias');
  f.get('za').raw(0xfd, 0x10).set('zv');   // i16x8.splat
  const inside = (x: string, lim: string) => f.get(x).get(lim).raw(0x49);
  f.forRange('p', () => f.get('m0'), () => f.get('m1'), 1, () => {
    f.get('p').get('OH').get('OW').mul().divS().set('n');
    f.get('p').get('OH').get('OW').mul().remS().get('OW').divS().set('oy');
    f.get('p').get('OW').remS().set('ox');
    f.get('p').get('ldo').mul().set('row');
    f.forRange('c', () => f.i32(0), () => f.get('N'), 8, () => {
      f.v128Zero().set('acc0').v128Zero().set('acc1');
      f.forRange('ky', () => f.i32(0), () => f.get('KH'), 1, () => {
        emitInputRow(f);
        inside('iy', 'H'); f.if();
        f.forRange('kx', () => f.i32(0), () => f.get('KW'), 1, () => {
          f.get('ox').get('SW').mul().get('PL').sub().get('kx').get('DW').mul().add().set('ix');
          inside('ix', 'W'); f.if();
          f.get('a').get('n').get('H').mul().get('iy').add().get('W').mul().get('ix').add().get('C').mul().add().get('c').add()
            .raw(0xfd, 0x02, 0, 0).get('zv').raw(0xfd, 0x91, 0x01).set('xv');   // v128.load8x8_u, i16x8.sub
          f.get('pb').get('ky').get('KW').mul().get('kx').add().get('Cp').mul().get('c').add().i32(1).shl().add().v128Load().set('wv');
          f.get('acc0').get('xv').get('wv').raw(0xfd, 0xbc, 0x01).i32x4Add().set('acc0');   // i32x4.extmul_low_i16x8_s
          f.get('acc1').get('xv').get('wv').raw(0xfd, 0xbd, 0x01).i32x4Add().set('acc1');   // i32x4.extmul_high_i16x8_s
          f.end();
        });
        f.end();
      });
      for (let v = 0; v < 2; v++) {
        f.get('c').i32(v * 4).add().tee('col').get('N').ltS().if();
        f.get(`acc${v}`).set('P');
        f.get('N').get('col').sub().set('lane');
        emitStore(f);
        f.end();
      }
    });
  });
  return f;
}

/** minmax(x, n, out): the least and greatest of n floats at x, to out[0] and out[1] (DynamicQuantizeLinear's range). */
function minMax(): FunctionBuilder {
  const f = new FunctionBuilder('minmax', { x: 'i32', n: 'i32', out: 'i32' });
  f.locals({ i: 'i32', lo: 'v128', hi: 'v128', v: 'v128', a: 'f32', b: 'f32' });
  f.f32x4Const(Infinity).set('lo').f32x4Const(-Infinity).set('hi');
  f.forRange('i', () => f.i32(0), () => f.get('n').i32(3).sub(), 4, () => {
    f.get('x').get('i').i32(2).shl().add().v128Load().set('v');
    f.get('lo').get('v').f32x4Min().set('lo').get('hi').get('v').f32x4Max().set('hi');
  });
  f.get('lo').f32x4ExtractLane(0).set('a').get('hi').f32x4ExtractLane(0).set('b');
  for (let l = 1; l < 4; l++) {
    f.get('a').get('lo').f32x4ExtractLane(l).f32Min().set('a');
    f.get('b').get('hi').f32x4ExtractLane(l).f32Max().set('b');
  }
  f.forRange('i', () => f.get('n').i32(-4).and(), () => f.get('n'), 1, () => {
    f.get('a').get('x').get('i').i32(2).shl().add().f32Load().f32Min().set('a');
    f.get('b').get('x').get('i').i32(2).shl().add().f32Load().f32Max().set('b');
  });
  f.get('out').get('a').f32Store().get('out').get('b').f32Store(4);
  return f;
}

/** quantize(x, n, dst, scaleBits, zp): dst[i] = saturate(nearest(x[i] / scale) + zp) as uint8 for n floats at x —
 *  QuantizeLinear's arithmetic (a true division, rounding half to even), so DynamicQuantizeLinear's bytes exactly. */
function quantize(): FunctionBuilder {
  const f = new FunctionBuilder('quantize', { x: 'i32', n: 'i32', dst: 'i32', scaleBits: 'i32', zp: 'i32' });
  f.locals({ i: 'i32', s: 'v128', z: 'v128', v: 'v128' });
  f.get('scaleBits').i32x4Splat().set('s').get('zp').i32x4Splat().set('z');
  const q = () => {
    f.get('s').f32x4Div().f32x4Nearest().i32x4TruncSatF32x4().get('z').i32x4Add().v128Zero().i32x4MaxS().i32x4Const(255).i32x4MinS();
    f.tee('v').get('v').i16x8NarrowI32x4S().tee('v').get('v').i8x16NarrowI16x8U().i32x4ExtractLane(0);
  };
  f.forRange('i', () => f.i32(0), () => f.get('n').i32(3).sub(), 4, () => {
    f.get('dst').get('i').add();
    f.get('x').get('i').i32(2).shl().add().v128Load(); q();
    f.i32Store();
  });
  f.forRange('i', () => f.get('n').i32(-4).and(), () => f.get('n'), 1, () => {
    f.get('dst').get('i').add();
    f.get('x').get('i').i32(2).shl().add().f32Load().f32x4Splat(); q();
    f.i32Store8();
  });
  return f;
}

/** narrow(src, n, dst, off): dst[i] = src[i] + off as a byte, for n int32 at src holding 8-bit values (tfjs keeps
 *  uint8/int8 tensors as int32; off = 128 moves int8 values to the uint8 range the kernels take). */
function narrow(): FunctionBuilder {
  const f = new FunctionBuilder('narrow', { src: 'i32', n: 'i32', dst: 'i32', off: 'i32' });
  f.locals({ i: 'i32', o: 'v128', v: 'v128' });
  f.get('off').i32x4Splat().set('o');
  f.forRange('i', () => f.i32(0), () => f.get('n').i32(3).sub(), 4, () => {
    f.get('dst').get('i').add();
    f.get('src').get('i').i32(2).shl().add().v128Load().get('o').i32x4Add().tee('v').get('v').i16x8NarrowI32x4S().tee('v').get('v').i8x16NarrowI16x8U().i32x4ExtractLane(0);
    f.i32Store();
  });
  f.forRange('i', () => f.get('n').i32(-4).and(), () => f.get('n'), 1, () => {
    f.get('dst').get('i').add().get('src').get('i').i32(2).shl().add().i32Load().get('off').add().i32Store8();
  });
  return f;
}

/** The module's bytes for a heap of this kind; the I7 micro-kernel only when `relaxed` (the module then validates
 *  only where relaxed SIMD is on). Exports: micro16, micro7, qgemm, minmax, quantize, qdepthwise, narrow. */
export function int8ModuleBytes(memory: MemoryImport, relaxed: boolean | 'emulated'): Uint8Array<ArrayBuffer> {
  const m7 = relaxed ? micro(I7, 'micro7', relaxed === 'emulated') : micro(I16, 'micro16b');
  return wasmModule([micro(I16, 'micro16'), m7, qgemm(!!relaxed), minMax(), quantize(), qdepthwise(), narrow()], memory);
}

/** A module with f(p): the relaxed dot of the vectors at p and p + 16 plus the i32x4 at p + 32, stored at p + 48
 *  (int8.ts checks the engine's answers against exact ones before it trusts the instruction). */
export function relaxedDotProbeBytes(): Uint8Array<ArrayBuffer> {
  const f = new FunctionBuilder('f', { p: 'i32' });
  f.get('p').get('p').v128Load().get('p').v128Load(16).get('p').v128Load(32).i32x4RelaxedDotI8x16I7x16AddS().v128Store(48);
  return wasmModule([f], { shared: false, initialPages: 1 });
}
