// The convolution family of the kernels module (module.ts): a convolution of any geometry as a GEMM over rows
// gathered from the NHWC input (im2col, one block of rows at a time) by gemm-kernels.ts's block(). NHWC, float32,
// in place in the tfjs heap; the geometry record (CONV_FIELDS) is written by gemm.ts before each call.

import { emitInputRow, emitPixelOfRow } from './window.js';
import { FunctionBuilder } from './emit.js';
import { columns, offsetOrZero } from './gemm-kernels.js';
import type { FunctionIndex, KernelFamily } from './module.js';

/** Field order of the convolution geometry record conv() reads (i32 each). */
export const CONV_FIELDS = ['x', 'H', 'W', 'C', 'OH', 'OW', 'KH', 'KW', 'SH', 'SW', 'DH', 'DW', 'PT', 'PL'] as const;

/**
 * conv(geo, m0, m1, n0, n1, mcMax, kcMax, pb, N, c, res, flags, rows, scratch): output pixels m0…m1−1 (of n·OH·OW,
 * NHWC), channels n0…n1−1, of a convolution (plus residual `res`, laid out like the output, if not 0). Each block of
 * rows is first gathered into `rows` (im2col: per pixel the KH·KW input pixels it sees, C floats each, zeros where
 * the window leaves the input; a window row inside the input is one copy when DW = 1), then multiplied like dense().
 */
function conv(at: FunctionIndex): FunctionBuilder {
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
      emitPixelOfRow(f);
      f.forRange('ky', () => f.i32(0), () => f.get('KH'), 1, () => {
        emitInputRow(f);
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
    f.get('N').i32(2).shl().get('flags').get('scratch').get('kcMax').call(at('block'));
  });
  return f;
}

/** The convolution family: conv. */
export const convKernels: KernelFamily = { names: ['conv'], build: at => [conv(at)] };
