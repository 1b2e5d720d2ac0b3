// Convolution window arithmetic shared by the im2col gathers of the float, grouped/depthwise and int8 kernels
// (conv-kernels.ts, depthwise-module.ts, int8-module.ts): each names its locals alike (m, r, p, n, oy, ox, iy, and the
// conv fields OH, OW, SH, SW, PT, PL, KH…, DH, DW), so one emitter writes the same instructions for all three.

import type { FunctionBuilder } from './emit.js';

/** Output pixel p = m + r of the block, split into (n, oy, ox). */
export function emitPixelOfRow(f: FunctionBuilder): void {
  f.get('m').get('r').add().set('p');
  f.get('p').get('OH').get('OW').mul().divS().set('n');
  f.get('p').get('OH').get('OW').mul().remS().get('OW').divS().set('oy');
  f.get('p').get('OW').remS().set('ox');
}

/** Input row of window row ky: iy = oy·SH − PT + ky·DH. */
export function emitInputRow(f: FunctionBuilder): void {
  f.get('oy').get('SH').mul().get('PT').sub().get('ky').get('DH').mul().add().set('iy');
}
