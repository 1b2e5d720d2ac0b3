// Depthwise and grouped convolutions for ocellus's WASM module (appended after the GEMM family in module.ts: the grouped
// path calls its block()). NHWC, float32, in place in the tfjs heap; bias, residual and any activation of
// activations.ts fused into the pass that writes the output.
//
//   depthwise(geo, r0, r1)  output rows r0…r1−1 (of n·OH) of a depthwise conv (group = C, one output per channel):
//     per output pixel, one pointer per tap to the input pixel it reads (a zero pixel where the window leaves the
//     input), then the channels four at a time: acc = bias, + x·w per tap (relaxed FMA), + residual, activation,
//     store. Weights packed once (packDepthwise): per block of 4 channels, the bias then each tap's 4 weights
//     ((1 + KH·KW)·4 floats, read at constant offsets), the last block zero-padded; a zero pixel follows. 3×3, 5×5
//     and 7×7 windows run an unrolled kernel (taps in locals); others a generic one that accumulates in the output.
//     Channels past the last multiple of 4 go one at a time through lane 0.
//   grouped(geo, m0, m1, mcMax, kcMax, rows, scratch)  output pixels m0…m1−1 of a grouped conv (G groups of Cg
//     input and Ng output channels): per block of mcMax pixels and per group, the group's im2col rows (KH·KW·Cg
//     floats each; a 1×1 window at stride 1 reads the input in place) times its packed B by block(), written into
//     the group's columns of the output (rows N floats apart); ReLU inside block(), other activations over the
//     finished block. Weights: G packed K×N blocks (gemm.ts packedLength(KH·KW·Cg, Ng) floats each, bias included).
// The geometry records (DW_FIELDS, GROUPED_FIELDS: i32 each, the activation's two parameters as f32) are written by
// depthwise.ts before each call; every thread reads them.

import { emitInputRow, emitPixelOfRow } from './window.js';
import { FunctionBuilder } from './emit.js';
import { ACT_CODES, ACT_LOCALS, dispatchActivation, emitActivation, loadActivationParams, type ActivationKind } from './activations.js';

export const DW_FIELDS = ['x', 'H', 'W', 'C', 'OH', 'OW', 'KH', 'KW', 'SH', 'SW', 'DH', 'DW', 'PT', 'PL', 'pw', 'out', 'res', 'act', 'p0', 'p1'] as const;
export const GROUPED_FIELDS = ['x', 'H', 'W', 'C', 'OH', 'OW', 'KH', 'KW', 'SH', 'SW', 'DH', 'DW', 'PT', 'PL', 'G', 'Cg', 'Ng', 'pb', 'out', 'res', 'act', 'p0', 'p1'] as const;
/** Windows with an unrolled depthwise kernel. */
export const DW_UNROLLED: readonly (readonly [number, number])[] = [[3, 3], [5, 5], [7, 7]];

/** What grouped() needs of gemm-kernels.ts (passed in by module.ts): block()'s
 *  function index, the panel width NR and block()'s ReLU flag. */
export interface GemmLink { block: number; nr: number; relu: number }

const inside = (f: FunctionBuilder, x: () => void, lim: string) => { x(); f.get(lim).raw(0x49); };   // 0 ≤ x < lim (i32.lt_u)

function readFields(f: FunctionBuilder, fields: readonly string[]): void {
  const act = fields.indexOf('p0');
  fields.forEach((k, i) => { if (k !== 'p0' && k !== 'p1') f.get('geo').i32Load(i * 4).set(k); });
  loadActivationParams(f, () => f.get('geo').i32(act * 4).add());
}

/**
 * The channel loops of one output pixel at `op` (residual at `rp`): vectors of 4 (from c = 0, weights at wp, which
 * steps by wsBytes per block) then a tail through lane 0 (weights at wl). compute(splat) leaves the pixel's sum in
 * local acc; then the residual and the activation, one loop per (kind, residual) pair chosen at run time.
 */
function channels(f: FunctionBuilder, compute: (splat: boolean) => void, wsBytes: () => void): void {
  // The dispatch sits outside each channel loop: one loop per (kind, residual) pair.
  const loops = (splat: boolean) => {
    f.get('res').if();
    dispatchActivation(f, () => f.get('act'), kind => loop(splat, kind, true));
    f.else();
    dispatchActivation(f, () => f.get('act'), kind => loop(splat, kind, false));
    f.end();
  };
  const loop = (splat: boolean, kind: ActivationKind, res: boolean) => {
    const load = (base: string) => { f.get(base).get('c').add(); if (splat) f.f32Load().f32x4Splat(); else f.v128Load(); };
    if (!splat) f.get('pw').set('wp');
    f.forRange('c', () => (splat ? f.get('cvec') : f.i32(0)), () => (splat ? f.get('cb') : f.get('cvec')), splat ? 4 : 16, () => {
      if (splat) f.get('wp').get('c').i32(15).and().add().set('wl');
      compute(splat);
      if (res) { f.get('acc'); load('rp'); f.f32x4Add().set('acc'); }
      emitActivation(f, kind, 'acc');
      f.get('op').get('c').add().get('acc');
      if (splat) f.f32x4ExtractLane0().f32Store(); else f.v128Store();
      if (!splat) { f.get('wp'); wsBytes(); f.add().set('wp'); }
    });
  };
  loops(false);
  loops(true);
}

/** depthwise for a KH×KW window known when building (taps unrolled, their pointers in locals p0…). */
function depthwiseUnrolled(KH: number, KW: number): FunctionBuilder {
  const f = new FunctionBuilder(`depthwise${KH}x${KW}`, { geo: 'i32', r0: 'i32', r1: 'i32' });
  const K = KH * KW;
  const decl: Record<string, 'i32' | 'v128'> = { ...ACT_LOCALS, acc: 'v128' };
  for (const k of DW_FIELDS) if (k !== 'p0' && k !== 'p1') decl[k] = 'i32';
  for (const k of ['cb', 'cvec', 'zero', 'row', 'n', 'oy', 'ox', 'iy', 'ix0', 'rb', 'rok', 'op', 'rp', 'c', 'wp', 'wl']) decl[k] = 'i32';
  for (let k = 0; k < K; k++) decl[`t${k}`] = 'i32';
  for (let kx = 0; kx < KW; kx++) { decl[`cok${kx}`] = 'i32'; decl[`coff${kx}`] = 'i32'; }
  f.locals(decl);
  readFields(f, DW_FIELDS);
  f.get('C').i32(2).shl().set('cb');
  f.get('C').i32(-4).and().i32(2).shl().set('cvec');
  f.get('pw').get('C').i32(3).add().i32(2).raw(0x75).i32((K + 1) * 16).mul().add().set('zero');
  f.forRange('row', () => f.get('r0'), () => f.get('r1'), 1, () => {
    f.get('row').get('OH').divS().set('n');
    f.get('row').get('OH').remS().set('oy');
    f.forRange('ox', () => f.i32(0), () => f.get('OW'), 1, () => {
      f.get('ox').get('SW').mul().get('PL').sub().set('ix0');
      for (let kx = 0; kx < KW; kx++) {
        inside(f, () => f.get('ix0').get('DW').i32(kx).mul().add(), 'W'); f.set(`cok${kx}`);
        f.get('ix0').get('DW').i32(kx).mul().add().get('cb').mul().set(`coff${kx}`);
      }
      for (let ky = 0; ky < KH; ky++) {
        f.get('oy').get('SH').mul().get('PT').sub().get('DH').i32(ky).mul().add().set('iy');
        inside(f, () => f.get('iy'), 'H'); f.set('rok');
        f.get('x').get('n').get('H').mul().get('iy').add().get('W').mul().get('cb').mul().add().set('rb');
        for (let kx = 0; kx < KW; kx++) {
          f.get('rb').get(`coff${kx}`).add().get('zero').get('rok').get(`cok${kx}`).and().select().set(`t${ky * KW + kx}`);
        }
      }
      f.get('row').get('OW').mul().get('ox').add().get('cb').mul().set('op');
      f.get('res').get('op').add().set('rp');
      f.get('out').get('op').add().set('op');
      channels(f, splat => {
        if (splat) {
          f.get('wl').loadSplat32(0).set('acc');
          for (let k = 0; k < K; k++) f.get(`t${k}`).get('c').add().loadSplat32(0).get('wl').loadSplat32(16 * (k + 1)).get('acc').f32x4RelaxedMadd().set('acc');
        } else {
          f.get('wp').v128Load(0).set('acc');
          for (let k = 0; k < K; k++) f.get(`t${k}`).get('c').add().v128Load(0).get('wp').v128Load(16 * (k + 1)).get('acc').f32x4RelaxedMadd().set('acc');
        }
      }, () => f.i32((K + 1) * 16));
    });
  });
  return f;
}

/**
 * depthwise for any window: per output pixel, the bias into the output, then per tap inside the input one
 * multiply-add pass over the channels (accumulating in the output), then the residual and activation in place.
 */
function depthwiseGeneric(): FunctionBuilder {
  const f = new FunctionBuilder('depthwiseAny', { geo: 'i32', r0: 'i32', r1: 'i32' });
  const decl: Record<string, 'i32' | 'v128'> = { ...ACT_LOCALS, acc: 'v128' };
  for (const k of DW_FIELDS) if (k !== 'p0' && k !== 'p1') decl[k] = 'i32';
  for (const k of ['cb', 'cvec', 'ws', 'row', 'n', 'oy', 'ox', 'iy', 'ix', 'ky', 'kx', 'op', 'rp', 'c', 'wp', 'wl', 't', 'wk']) decl[k] = 'i32';
  f.locals(decl);
  readFields(f, DW_FIELDS);
  f.get('C').i32(2).shl().set('cb');
  f.get('C').i32(-4).and().i32(2).shl().set('cvec');
  f.get('KH').get('KW').mul().i32(1).add().i32(16).mul().set('ws');
  f.forRange('row', () => f.get('r0'), () => f.get('r1'), 1, () => {
    f.get('row').get('OH').divS().set('n');
    f.get('row').get('OH').remS().set('oy');
    f.forRange('ox', () => f.i32(0), () => f.get('OW'), 1, () => {
      f.get('row').get('OW').mul().get('ox').add().get('cb').mul().set('op');
      f.get('res').get('op').add().set('rp');
      f.get('out').get('op').add().set('op');
      // the bias (weights block offset 0), vectors then the tail
      f.get('pw').set('wp');
      f.forRange('c', () => f.i32(0), () => f.get('cvec'), 16, () => {
        f.get('op').get('c').add().get('wp').v128Load().v128Store();
        f.get('wp').get('ws').add().set('wp');
      });
      f.forRange('c', () => f.get('cvec'), () => f.get('cb'), 4, () => {
        f.get('op').get('c').add().get('wp').get('c').i32(15).and().add().f32Load().f32Store();
      });
      f.forRange('ky', () => f.i32(0), () => f.get('KH'), 1, () => {
        emitInputRow(f);
        f.forRange('kx', () => f.i32(0), () => f.get('KW'), 1, () => {
          f.get('ox').get('SW').mul().get('PL').sub().get('kx').get('DW').mul().add().set('ix');
          inside(f, () => f.get('iy'), 'H'); inside(f, () => f.get('ix'), 'W'); f.and().if();
          f.get('x').get('n').get('H').mul().get('iy').add().get('W').mul().get('ix').add().get('cb').mul().add().set('t');
          f.get('pw').get('ky').get('KW').mul().get('kx').add().i32(1).add().i32(16).mul().add().set('wk');
          f.get('wk').set('wp');
          f.forRange('c', () => f.i32(0), () => f.get('cvec'), 16, () => {
            f.get('op').get('c').add();
            f.get('t').get('c').add().v128Load().get('wp').v128Load().get('op').get('c').add().v128Load().f32x4RelaxedMadd();
            f.v128Store();
            f.get('wp').get('ws').add().set('wp');
          });
          f.forRange('c', () => f.get('cvec'), () => f.get('cb'), 4, () => {
            f.get('wp').get('c').i32(15).and().add().set('wl');
            f.get('op').get('c').add();
            f.get('t').get('c').add().loadSplat32().get('wl').loadSplat32().get('op').get('c').add().loadSplat32().f32x4RelaxedMadd();
            f.f32x4ExtractLane0().f32Store();
          });
          f.end();
        });
      });
      // residual and activation in place
      f.get('pw').set('wp');
      channels(f, splat => {
        f.get('op').get('c').add();
        if (splat) f.loadSplat32(); else f.v128Load();
        f.set('acc');
      }, () => f.get('ws'));
    });
  });
  return f;
}

/** depthwise(geo, r0, r1): the unrolled kernel for the window if there is one, else the generic one. */
function depthwiseEntry(first: number): FunctionBuilder {
  const f = new FunctionBuilder('depthwise', { geo: 'i32', r0: 'i32', r1: 'i32' });
  f.locals({ KH: 'i32', KW: 'i32' });
  f.get('geo').i32Load(DW_FIELDS.indexOf('KH') * 4).set('KH');
  f.get('geo').i32Load(DW_FIELDS.indexOf('KW') * 4).set('KW');
  const at = (i: number) => {
    if (i === DW_UNROLLED.length) { f.get('geo').get('r0').get('r1').call(first + i); return; }
    const [kh, kw] = DW_UNROLLED[i]!;
    f.get('KH').i32(kh).eq().get('KW').i32(kw).eq().and().if();
    f.get('geo').get('r0').get('r1').call(first + i);
    f.else();
    at(i + 1);
    f.end();
  };
  at(0);
  return f;
}

/**
 * grouped(geo, m0, m1, mcMax, kcMax, rows, scratch): see the file header. `rows` holds a block's im2col rows
 * (mcMax·KH·KW·Cg floats), `scratch` block()'s tile and packed A (gemm-kernels.ts scratchBytes(mcMax, kcMax)).
 */
function grouped({ block: BLOCK, nr: NR, relu: RELU }: GemmLink): FunctionBuilder {
  const f = new FunctionBuilder('grouped', { geo: 'i32', m0: 'i32', m1: 'i32', mcMax: 'i32', kcMax: 'i32', rows: 'i32', scratch: 'i32' });
  const decl: Record<string, 'i32' | 'v128'> = { ...ACT_LOCALS, acc: 'v128' };
  for (const k of GROUPED_FIELDS) if (k !== 'p0' && k !== 'p1') decl[k] = 'i32';
  for (const k of ['Kg', 'gcb', 'cb', 'N', 'pstride', 'biasOff', 'pointwise', 'flags', 'm', 'mc', 'gi', 'a', 'lda', 'r', 'p', 'n', 'oy', 'ox', 'ky', 'kx', 'iy', 'ix', 'dst', 'i', 'j', 'row', 'nb', 'nvec']) decl[k] = 'i32';
  f.locals(decl);
  readFields(f, GROUPED_FIELDS);
  f.get('KH').get('KW').mul().get('Cg').mul().set('Kg');
  f.get('Cg').i32(2).shl().set('gcb');
  f.get('C').i32(2).shl().set('cb');
  f.get('G').get('Ng').mul().set('N');
  f.get('Ng').i32(NR - 1).add().i32(NR).divS().i32(NR * 4).mul().get('Kg').mul().set('biasOff');
  f.get('biasOff').get('Ng').i32(NR - 1).add().i32(NR).divS().i32(NR * 4).mul().add().set('pstride');
  f.get('KH').i32(1).eq().get('KW').i32(1).eq().and().get('SH').i32(1).eq().and().get('SW').i32(1).eq().and()
    .get('PT').eqz().and().get('PL').eqz().and().get('OH').get('H').eq().and().get('OW').get('W').eq().and().set('pointwise');
  f.get('act').i32(ACT_CODES.relu).eq().if('i32').i32(RELU).else().i32(0).end().set('flags');
  f.get('Ng').i32(2).shl().set('nb');
  f.get('Ng').i32(-4).and().i32(2).shl().set('nvec');
  f.forRange('m', () => f.get('m0'), () => f.get('m1'), () => f.get('mcMax'), () => {
    f.minS(() => f.get('mcMax'), () => f.get('m1').get('m').sub()).set('mc');
    f.forRange('gi', () => f.i32(0), () => f.get('G'), 1, () => {
      f.get('pointwise').if();
      f.get('x').get('m').get('cb').mul().add().get('gi').get('gcb').mul().add().set('a');
      f.get('cb').set('lda');
      f.else();
      // im2col rows of the block's pixels, the group's channels only
      f.get('rows').set('dst');
      f.forRange('r', () => f.i32(0), () => f.get('mc'), 1, () => {
        emitPixelOfRow(f);
        f.forRange('ky', () => f.i32(0), () => f.get('KH'), 1, () => {
          emitInputRow(f);
          f.forRange('kx', () => f.i32(0), () => f.get('KW'), 1, () => {
            f.get('ox').get('SW').mul().get('PL').sub().get('kx').get('DW').mul().add().set('ix');
            inside(f, () => f.get('iy'), 'H'); inside(f, () => f.get('ix'), 'W'); f.and().if();
            f.get('dst').get('x').get('n').get('H').mul().get('iy').add().get('W').mul().get('ix').add().get('cb').mul().add()
              .get('gi').get('gcb').mul().add().get('gcb').memoryCopy();
            f.else();
            f.get('dst').i32(0).get('gcb').memoryFill();
            f.end();
            f.get('dst').get('gcb').add().set('dst');
          });
        });
      });
      f.get('rows').set('a');
      f.get('Kg').i32(2).shl().set('lda');
      f.end();
      // block(a, lda, mc, pb, bias, res, K, N, c, ldc, flags, scratch, kcMax)
      f.get('a').get('lda').get('mc');
      f.get('pb').get('gi').get('pstride').mul().add();
      f.get('pb').get('gi').get('pstride').mul().add().get('biasOff').add();
      f.get('res').get('m').get('N').mul().get('gi').get('Ng').mul().add().i32(2).shl().add().i32(0).get('res').select();
      f.get('Kg').get('Ng');
      f.get('out').get('m').get('N').mul().get('gi').get('Ng').mul().add().i32(2).shl().add();
      f.get('N').i32(2).shl().get('flags').get('scratch').get('kcMax').call(BLOCK);
      // activations other than ReLU over the block's columns of this group
      f.get('act').i32(ACT_CODES.relu).gtS().if();
      dispatchActivation(f, () => f.get('act'), kind => {
        f.forRange('i', () => f.i32(0), () => f.get('mc'), 1, () => {
          f.get('out').get('m').get('i').add().get('N').mul().get('gi').get('Ng').mul().add().i32(2).shl().add().set('row');
          f.forRange('j', () => f.i32(0), () => f.get('nvec'), 16, () => {
            f.get('row').get('j').add().v128Load().set('acc');
            emitActivation(f, kind, 'acc');
            f.get('row').get('j').add().get('acc').v128Store();
          });
          f.forRange('j', () => f.get('nvec'), () => f.get('nb'), 4, () => {
            f.get('row').get('j').add().loadSplat32().set('acc');
            emitActivation(f, kind, 'acc');
            f.get('row').get('j').add().get('acc').f32x4ExtractLane0().f32Store();
          });
        });
      }, ['clip', 'hardsigmoid', 'hardswish', 'silu', 'gelu']);
      f.end();
    });
  });
  return f;
}

/** The functions to append to the module, the first at index `first`: depthwise, grouped, then depthwise's kernels. */
export function depthwiseFunctions(first: number, link: GemmLink): FunctionBuilder[] {
  return [depthwiseEntry(first + 2), grouped(link), ...DW_UNROLLED.map(([kh, kw]) => depthwiseUnrolled(kh, kw)), depthwiseGeneric()];
}
