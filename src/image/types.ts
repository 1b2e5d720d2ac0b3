// The one decoded-image type every decoder returns and the preprocessor consumes.
// Pixels are 8-bit, row-major, channels interleaved (HWC): grey (1), grey+alpha (2), RGB (3) or RGBA (4).

export interface RawImage {
  data: Uint8Array;   // (height, width, channels)
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}
