// The pixel limit every decoder checks from the image header, before any pixel buffer is allocated, and DecodeWork,
// how decoders report their work against the budget each one enforces.

import { ImageInputError } from './errors.js';

export const DEFAULT_MAX_PIXELS = 40_000_000;

/** What a decode cost, in the unit its format's budget counts: filled in by decodeImage when passed as
 *  DecodeOptions.work (as far as decoding got, for a refused PNG). JPEG: coefficient visits its scans were charged
 *  (blocks × band width; budget 14 per coefficient). PNG: bytes inflated (budget: the IHDR's size plus 1 MiB of
 *  excess, which PIL ignores; the last feed of compressed data can pass it by about 8 MiB, 1032 × 8 KiB, before the
 *  refusal). */
export interface DecodeWork {
  format?: 'JPEG' | 'PNG';
  unit?: 'coefficient visits' | 'inflated bytes';
  used: number;
  budget: number;
}

export function resolveMaxPixels(maxPixels: number | undefined): number {
  if (maxPixels === undefined) return DEFAULT_MAX_PIXELS;
  if (typeof maxPixels !== 'number' || !(maxPixels > 0)) {
    throw new RangeError(`maxPixels must be a positive number, got ${String(maxPixels)}`);
  }
  return maxPixels;
}

export function checkPixelLimit(width: number, height: number, maxPixels: number, name: string): void {
  if (width * height > maxPixels) {
    const mp = ((width * height) / 1e6).toFixed(1);
    throw new ImageInputError(name, `${width}×${height} pixels (${mp} megapixels) is over the limit of ${maxPixels / 1e6} megapixels (maxPixels)`);
  }
}
