// What a scan may ask of the decoder, checked from its SOS header before any of its data is decoded:
// - progression: the successive-approximation state of every coefficient of every component (cinfo->coef_bits),
//   refusing what libjpeg-turbo's start_pass_phuff_decoder only warns about as "Inconsistent progression sequence"
//   (an AC scan before the component's DC scan; Ah other than the Al its coefficients were last sent with). No
//   encoder built on libjpeg can write these (jcmaster.c validate_script rejects such scripts); crafted files use them
//   to make every refinement scan walk every coefficient of every block.
// - sequential files send each component once (libjpeg: "Didn't expect more than one scan").
// - work: each scan is charged its blocks × band width (Se - Ss + 1; 64 for sequential), an upper bound of the
//   coefficients its entropy decoder can visit. The total may not pass WORK_PER_COEFFICIENT per coefficient of the
//   image: the most a consistent progression needs (one first scan and at most 13 refinements per coefficient,
//   Al ≤ 13). libjpeg accepts first scans sent again after full precision (Ah = 0 = last Al); this bound is what
//   stops a file from cycling through them.

import { JpegError } from './errors.js';
import type { Frame, ScanHeader } from './markers.js';
import type { ComponentState } from './scan.js';

/** Coefficient visits allowed per coefficient of the image (14 × 64 per 8×8 block). */
export const WORK_PER_COEFFICIENT = 14;

/** Counts the decoder's work against its budget; `used` and `budget` are coefficient visits. */
export class ScanBudget {
  used = 0;
  readonly budget: number;

  constructor(frame: Frame) {
    const coefficients = frame.components.reduce((n, c) => n + c.blocksPerLine * c.blocksPerColumn * 64, 0);
    this.budget = WORK_PER_COEFFICIENT * coefficients;
  }

  /** Charges a scan before it is decoded; throws when it would take the total past the budget. */
  charge(scan: ScanHeader, frame: Frame, scanNumber: number): void {
    const band = frame.progressive ? scan.se - scan.ss + 1 : 64;
    const cost = band * scanBlocks(scan, frame);
    if (this.used + cost > this.budget) {
      throw new JpegError(
        `scan ${scanNumber} would bring the decoding work to ${fmt(this.used + cost)} coefficient visits, over this image's budget of ` +
        `${fmt(this.budget)} (${WORK_PER_COEFFICIENT} per coefficient, what a consistent progression needs at most)`);
    }
    this.used += cost;
  }
}

/** Blocks a scan covers: a single component's own blocks, or whole MCUs of an interleaved scan (T.81 A.2). */
function scanBlocks(scan: ScanHeader, frame: Frame): number {
  if (scan.components.length === 1) {
    const c = scan.components[0].comp;
    return c.widthInBlocks * c.heightInBlocks;
  }
  const perMcu = scan.components.reduce((n, { comp }) => n + comp.h * comp.v, 0);
  return frame.mcusPerLine * frame.mcusPerColumn * perMcu;
}

const fmt = (n: number) => n.toLocaleString('en-US');

/** Refuses an inconsistent progression (or a sequential component sent twice); call before prepareScan updates
 *  coefBits. `sent` marks the components sequential scans have already decoded. */
export function checkProgression(scan: ScanHeader, states: readonly ComponentState[], frame: Frame, scanNumber: number, sent: boolean[]): void {
  const params = `Ss=${scan.ss} Se=${scan.se} Ah=${scan.ah} Al=${scan.al}`;
  const refuse = (detail: string) => new JpegError(`inconsistent progression: scan ${scanNumber} (${params}) ${detail}`);
  for (const { comp } of scan.components) {
    if (!frame.progressive) {
      if (sent[comp.index]) {
        throw new JpegError(`scan ${scanNumber} sends component ${comp.index} again: a sequential JPEG sends each component in one scan`);
      }
      sent[comp.index] = true;
      continue;
    }
    const bits = states[comp.index].coefBits;
    if (scan.ss > 0 && bits[0] < 0) throw refuse(`sends AC coefficients of component ${comp.index} before its DC scan`);
    for (let k = scan.ss; k <= scan.se; k++) {
      const expected = bits[k] < 0 ? 0 : bits[k];
      if (scan.ah === expected) continue;
      const what = k === 0 ? 'DC' : `coefficient ${k}`;
      throw refuse(bits[k] < 0
        ? `refines ${what} of component ${comp.index}, which no earlier scan sent (Ah must be 0)`
        : `${scan.ah === 0 ? 'sends' : `refines from bit ${scan.ah}`} ${what} of component ${comp.index}, which an earlier scan ` +
          `left at bit ${bits[k]} (Ah must be ${bits[k]})`);
    }
  }
}
