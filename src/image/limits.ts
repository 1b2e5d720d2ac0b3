// The pixel limit every decoder checks from the image header, before any pixel buffer is allocated.

import { ImageInputError } from './errors.js';

export const DEFAULT_MAX_PIXELS = 40_000_000;

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
