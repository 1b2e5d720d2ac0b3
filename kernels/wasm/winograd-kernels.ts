// The Winograd family of the kernels module (module.ts): 3×3 convolutions at stride 1 by F(2×2, 3×3), the 16
// products by gemm-kernels.ts's dense(). NHWC, float32, in place in the tfjs heap; reads conv-kernels.ts's geometry
// record.

import { FunctionBuilder } from './emit.js';
import { CONV_FIELDS } from './conv-kernels.js';
import { NR, RELU } from './gemm-kernels.js';
import type { FunctionIndex, KernelFamily } from './module.js';

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
function winograd(at: FunctionIndex): FunctionBuilder {
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
      f.get('mb').get('xi').get('ms').mul().add().get('n0').i32(2).shl().sub().get('nb').i32(0).i32(0).get('scratch').call(at('dense'));
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

/** The Winograd family: winograd. */
export const winogradKernels: KernelFamily = { names: ['winograd'], build: at => [winograd(at)] };
