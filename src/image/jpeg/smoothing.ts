// Progressive-JPEG block smoothing, which libjpeg-turbo (do_block_smoothing, on by default) applies at output when
// some of the first 9 AC coefficients were never refined to full precision: jdcoefct.c smoothing_ok and the 5×5-DC
// decompress_smooth_data of libjpeg-turbo 2.1. Files whose scans refine everything (all common encoders) skip it.

import { dequantize, idctIslow } from './idct.js';
import type { Frame } from './markers.js';
import type { ComponentState } from './scan.js';

// Natural-order positions of the estimated coefficients, and their zigzag indices in coef_bits (1..9).
const POS = [0, 1, 8, 16, 9, 2, 3, 10, 17, 24] as const;

/** smoothing_ok: every component scanned, DC known, the 10 quantisers nonzero, and some AC 1..9 still inexact. */
export function smoothingApplies(states: readonly ComponentState[]): boolean {
  let useful = false;
  for (const st of states) {
    if (!st.quantRaw) return false;
    if (POS.some(p => st.quantRaw![p] === 0)) return false;
    if (st.coefBits[0] < 0) return false;
    for (let k = 1; k <= 9; k++) if (st.coefBits[k] !== 0) useful = true;
  }
  return useful;
}

/** Estimate a coefficient from num (K.8-style): round(num / (Q << 8)) away from zero, capped below 1 << Al. */
function estimate(num: number, q: number, al: number): number {
  let pred = Math.floor(((q << 7) + Math.abs(num)) / (q << 8));
  if (al > 0 && pred >= 1 << al) pred = (1 << al) - 1;
  return num >= 0 ? pred : -pred;
}

/** decompress_smooth_data for one component: IDCT every block after filling in estimated low-frequency terms. */
export function idctSmoothed(st: ComponentState, frame: Frame): void {
  const { comp, coefBits } = st;
  const coefs = st.coefs!;
  const quant = st.quant!;
  const q = st.quantRaw!;
  const bpl = comp.blocksPerLine;
  const stride = bpl * 8;
  const lastCol = comp.widthInBlocks - 1;
  const v = comp.v;
  const iMcuRows = frame.mcusPerColumn;
  // DC interpolation only when no AC data at all has arrived for coefficients 1..9.
  let changeDc = true;
  for (let k = 1; k <= 9; k++) if (coefBits[k] !== -1) changeDc = false;
  const ws = new Int32Array(64);
  const block = new Int16Array(64);
  const dq = new Int32Array(64);
  const dc = new Int32Array(25); // 5×5 neighbourhood, row-major: dc[5*r + c] is DC(r-2, c-2) = C's DC(5r+c+1)
  const D = (row: number, col: number) => coefs[(row * bpl + col) * 64];

  const lastRow = iMcuRows - 1;
  for (let R = 0; R <= lastRow; R++) {
    const blockRows = R < lastRow ? v : comp.heightInBlocks % v || v;
    for (let b = 0; b < blockRows; b++) {
      // Neighbour block rows exactly as libjpeg-turbo 2.1.x picks them (by iMCU row and row within it; 3.x later
      // changed this to whole-image block rows, which differs at block row 2 of components with v = 2).
      const row = R * v + b;
      const prev = b > 0 || R > 0 ? row - 1 : row;
      const prevPrev = b > 1 || R > 1 ? row - 2 : prev;
      const next = b < blockRows - 1 || R < lastRow ? row + 1 : row;
      const nextNext = b < blockRows - 2 || R + 1 < lastRow ? row + 2 : next;
      const rows = [prevPrev, prev, row, next, nextNext];
      for (let col = 0; col <= lastCol; col++) {
        for (let r = 0; r < 5; r++) {
          for (let c = 0; c < 5; c++) dc[5 * r + c] = D(rows[r], Math.min(Math.max(col + c - 2, 0), lastCol));
        }
        block.set(coefs.subarray((row * bpl + col) * 64, (row * bpl + col) * 64 + 64));
        smoothBlock(block, dc, q, coefBits, changeDc);
        dequantize(block, 0, quant, dq);
        idctIslow(dq, st.plane, row * 8 * stride + col * 8, stride, ws);
      }
    }
  }
}

function smoothBlock(w: Int16Array, d: Int32Array, q: Uint16Array, bits: Int8Array, changeDc: boolean): void {
  // d[i] is C's DC(i+1): DC01..DC05 two rows up, DC11..DC15 this row (DC13 = this block), DC21..DC25 two rows down.
  const [
    dc01, dc02, dc03, dc04, dc05, dc06, dc07, dc08, dc09, dc10, dc11, dc12, dc13,
    dc14, dc15, dc16, dc17, dc18, dc19, dc20, dc21, dc22, dc23, dc24, dc25,
  ] = d;
  const q00 = q[0];
  let al: number;
  if ((al = bits[1]) !== 0 && w[1] === 0) { // AC01
    const num = q00 * (changeDc
      ? -dc01 - dc02 + dc04 + dc05 - 3 * dc06 + 13 * dc07 - 13 * dc09 + 3 * dc10 - 3 * dc11 + 38 * dc12 - 38 * dc14 +
        3 * dc15 - 3 * dc16 + 13 * dc17 - 13 * dc19 + 3 * dc20 - dc21 - dc22 + dc24 + dc25
      : -7 * dc11 + 50 * dc12 - 50 * dc14 + 7 * dc15);
    w[1] = estimate(num, q[1], al);
  }
  if ((al = bits[2]) !== 0 && w[8] === 0) { // AC10
    const num = q00 * (changeDc
      ? -dc01 - 3 * dc02 - 3 * dc03 - 3 * dc04 - dc05 - dc06 + 13 * dc07 + 38 * dc08 + 13 * dc09 - dc10 + dc16 -
        13 * dc17 - 38 * dc18 - 13 * dc19 + dc20 + dc21 + 3 * dc22 + 3 * dc23 + 3 * dc24 + dc25
      : -7 * dc03 + 50 * dc08 - 50 * dc18 + 7 * dc23);
    w[8] = estimate(num, q[8], al);
  }
  if ((al = bits[3]) !== 0 && w[16] === 0) { // AC20
    const num = q00 * (changeDc
      ? dc03 + 2 * dc07 + 7 * dc08 + 2 * dc09 - 5 * dc12 - 14 * dc13 - 5 * dc14 + 2 * dc17 + 7 * dc18 + 2 * dc19 + dc23
      : -dc03 + 13 * dc08 - 24 * dc13 + 13 * dc18 - dc23);
    w[16] = estimate(num, q[16], al);
  }
  if ((al = bits[4]) !== 0 && w[9] === 0) { // AC11
    const num = q00 * (changeDc
      ? -dc01 + dc05 + 9 * dc07 - 9 * dc09 - 9 * dc17 + 9 * dc19 + dc21 - dc25
      : dc10 + dc16 - 10 * dc17 + 10 * dc19 - dc02 - dc20 + dc22 - dc24 + dc04 - dc06 + 10 * dc07 - 10 * dc09);
    w[9] = estimate(num, q[9], al);
  }
  if ((al = bits[5]) !== 0 && w[2] === 0) { // AC02
    const num = q00 * (changeDc
      ? 2 * dc07 - 5 * dc08 + 2 * dc09 + dc11 + 7 * dc12 - 14 * dc13 + 7 * dc14 + dc15 + 2 * dc17 - 5 * dc18 + 2 * dc19
      : -dc11 + 13 * dc12 - 24 * dc13 + 13 * dc14 - dc15);
    w[2] = estimate(num, q[2], al);
  }
  if (!changeDc) return;
  if ((al = bits[6]) !== 0 && w[3] === 0) { // AC03
    w[3] = estimate(q00 * (dc07 - dc09 + 2 * dc12 - 2 * dc14 + dc17 - dc19), q[3], al);
  }
  if ((al = bits[7]) !== 0 && w[10] === 0) { // AC12
    w[10] = estimate(q00 * (dc07 - 3 * dc08 + dc09 - dc17 + 3 * dc18 - dc19), q[10], al);
  }
  if ((al = bits[8]) !== 0 && w[17] === 0) { // AC21
    w[17] = estimate(q00 * (dc07 - dc09 - 3 * dc12 + 3 * dc14 + dc17 - dc19), q[17], al);
  }
  if ((al = bits[9]) !== 0 && w[24] === 0) { // AC30
    w[24] = estimate(q00 * (dc07 + 2 * dc08 + dc09 - dc17 - 2 * dc18 - dc19), q[24], al);
  }
  // DC itself, from a Gaussian-like 5×5 kernel (Al does not cap it).
  const num = q00 * (
    -2 * dc01 - 6 * dc02 - 8 * dc03 - 6 * dc04 - 2 * dc05 - 6 * dc06 + 6 * dc07 + 42 * dc08 + 6 * dc09 - 6 * dc10 -
    8 * dc11 + 42 * dc12 + 152 * dc13 + 42 * dc14 - 8 * dc15 - 6 * dc16 + 6 * dc17 + 42 * dc18 + 6 * dc19 - 6 * dc20 -
    2 * dc21 - 6 * dc22 - 8 * dc23 - 6 * dc24 - 2 * dc25);
  w[0] = estimate(num, q00, 0);
}
