// EXIF orientation: reading tag 0x0112 from a TIFF-structured EXIF block, and applying it the way
// PIL.ImageOps.exif_transpose does (Image.transpose with FLIP_LEFT_RIGHT, ROTATE_180, ... per value 2–8).
// Values other than 2–8 (1, absent, out of range) leave the image as it is, as in PIL.

import type { RawImage } from './types.js';

const ORIENTATION_TAG = 0x0112;
const TYPE_SHORT = 3;

/** Orientation (1–8) from a TIFF header + IFD0 ("II*\0" / "MM\0*"), optionally behind "Exif\0\0"; 1 when absent or malformed. */
export function readExifOrientation(exif: Uint8Array): number {
  let t = exif;
  if (t.length >= 6 && t[0] === 0x45 && t[1] === 0x78 && t[2] === 0x69 && t[3] === 0x66 && t[4] === 0 && t[5] === 0) {
    t = t.subarray(6);
  }
  if (t.length < 8) return 1;
  const little = t[0] === 0x49 && t[1] === 0x49;
  if (!little && !(t[0] === 0x4d && t[1] === 0x4d)) return 1;
  const view = new DataView(t.buffer, t.byteOffset, t.byteLength);
  if (view.getUint16(2, little) !== 42) return 1;
  const ifd = view.getUint32(4, little);
  if (ifd + 2 > t.length) return 1;
  const count = view.getUint16(ifd, little);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > t.length) return 1;
    if (view.getUint16(entry, little) !== ORIENTATION_TAG) continue;
    if (view.getUint16(entry + 2, little) !== TYPE_SHORT) return 1;
    return view.getUint16(entry + 8, little);
  }
  return 1;
}

/** Source (row, col) of output pixel (r, c) for an input of size h×w, per orientation (PIL Transpose names). */
const SOURCE: Record<number, (r: number, c: number, h: number, w: number) => [number, number]> = {
  2: (r, c, _h, w) => [r, w - 1 - c],               // FLIP_LEFT_RIGHT
  3: (r, c, h, w) => [h - 1 - r, w - 1 - c],         // ROTATE_180
  4: (r, c, h) => [h - 1 - r, c],                    // FLIP_TOP_BOTTOM
  5: (r, c) => [c, r],                               // TRANSPOSE
  6: (r, c, h) => [h - 1 - c, r],                    // ROTATE_270 (90° clockwise)
  7: (r, c, h, w) => [h - 1 - c, w - 1 - r],         // TRANSVERSE
  8: (r, c, _h, w) => [c, w - 1 - r],                // ROTATE_90 (90° counter-clockwise)
};

/** `ImageOps.exif_transpose`: returns the image as it should be displayed; the input itself when no change is needed. */
export function applyExifOrientation(img: RawImage, orientation: number): RawImage {
  const source = SOURCE[orientation];
  if (!source) return img;
  const { width: w, height: h, channels: ch } = img;
  const swap = orientation >= 5;
  const outW = swap ? h : w;
  const outH = swap ? w : h;
  const out = new Uint8Array(img.data.length);
  for (let r = 0; r < outH; r++) {
    for (let c = 0; c < outW; c++) {
      const [sr, sc] = source(r, c, h, w);
      const s = (sr * w + sc) * ch;
      const o = (r * outW + c) * ch;
      for (let k = 0; k < ch; k++) out[o + k] = img.data[s + k]!;
    }
  }
  return { data: out, width: outW, height: outH, channels: ch };
}
