// The decoding front door: format sniffing (refused formats by name, non-images by their first bytes), the pixel
// limit for JPEG, and EXIF orientation — the transform checked against the EXIF/TIFF spec's definition of each
// value, and wired end to end through JPEG APP1 segments.

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeImage, detectFormat } from '../../src/image/decode.js';
import { ImageInputError } from '../../src/image/errors.js';
import { applyExifOrientation, readExifOrientation } from '../../src/image/orientation.js';
import type { RawImage } from '../../src/image/types.js';
import { imageDifference, PREPROCESS_DIR } from './helpers.js';
import { exifWithOrientation } from './png-writer.js';

const ascii = (s: string) => [...s].map(c => c.charCodeAt(0));
const bytes = (...parts: (number[] | string)[]) =>
  Uint8Array.from(parts.flatMap(p => (typeof p === 'string' ? ascii(p) : p)).concat(new Array(32).fill(0)));

function decodeError(b: Uint8Array, name = 'photo.x'): string {
  try {
    decodeImage(b, { name });
  } catch (e) {
    expect(e).toBeInstanceOf(ImageInputError);
    return (e as Error).message;
  }
  throw new Error('expected decodeImage to fail');
}

describe('format sniffing', () => {
  it.each([
    ['GIF', bytes('GIF89a')], ['GIF', bytes('GIF87a')],
    ['WebP', bytes('RIFF', [0x24, 0, 0, 0], 'WEBPVP8 ')],
    ['BMP', bytes('BM', [0x36, 0, 0, 0])],
    ['TIFF', bytes([0x49, 0x49, 0x2a, 0x00])], ['TIFF', bytes([0x4d, 0x4d, 0x00, 0x2a])],
    ['HEIC/HEIF', bytes([0, 0, 0, 0x18], 'ftypheic')], ['HEIC/HEIF', bytes([0, 0, 0, 0x18], 'ftypmif1')],
    ['AVIF', bytes([0, 0, 0, 0x1c], 'ftypavif')],
    ['ICO', bytes([0, 0, 1, 0, 1, 0])],
    ['PSD', bytes('8BPS', [0, 1])],
    ['JPEG 2000', bytes([0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a])], ['JPEG 2000', bytes([0xff, 0x4f, 0xff, 0x51])],
    ['JPEG XL', bytes([0xff, 0x0a])], ['JPEG XL', bytes([0, 0, 0, 0x0c], 'JXL ', [0x0d, 0x0a, 0x87, 0x0a])],
    ['QOI', bytes('qoif')],
    ['SVG', bytes('<svg xmlns="http://www.w3.org/2000/svg">')],
    ['SVG', bytes([0xef, 0xbb, 0xbf], '  <?xml version="1.0"?>\n<svg>')],
  ])('%s is recognised and refused by name', (format, b) => {
    expect(detectFormat(b)).toBe(format);
    expect(decodeError(b)).toBe(`photo.x: ${format} images are not supported (JPEG and PNG are)`);
  });

  it('non-image files say so and show their first bytes', () => {
    expect(decodeError(Uint8Array.from(ascii('<!DOCTYPE html><html>')), 'page.html')).toBe('page.html: not an image (starts with 3c 21 44 4f)');
    expect(decodeError(Uint8Array.from(ascii('%PDF-1.7')), 'input 3')).toBe('input 3: not an image (starts with 25 50 44 46)');
    expect(decodeError(bytes('<?xml version="1.0"?><note/>'))).toBe('photo.x: not an image (XML file; JPEG and PNG are supported)');
    expect(decodeError(bytes([0, 0, 0, 0x20], 'ftypisom'))).toMatch(/^photo\.x: not an image \(ISO media \('isom'/);
    expect(decodeError(new Uint8Array(0))).toBe('photo.x: is empty (0 bytes), not an image');
    expect(decodeError(Uint8Array.from([0xff, 0xd8]))).toBe('photo.x: not an image (starts with ff d8)');
  });

  it('JPEG and PNG are detected', () => {
    expect(detectFormat(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('JPEG');
    expect(detectFormat(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe('PNG');
  });

  it('maxPixels must be positive', () => {
    expect(() => decodeImage(bytes('GIF89a'), { maxPixels: 0 })).toThrow(/maxPixels must be a positive number, got 0/);
  });
});

// ---------------------------------------------------------------- orientation

/**
 * EXIF 2.3 / TIFF 6.0 Orientation: which side of the displayed image the stored 0th row and 0th column are on.
 * 1 top/left, 2 top/right, 3 bottom/right, 4 bottom/left, 5 left/top, 6 right/top, 7 right/bottom, 8 left/bottom.
 */
const SPEC: Record<number, [string, string]> = {
  1: ['top', 'left'], 2: ['top', 'right'], 3: ['bottom', 'right'], 4: ['bottom', 'left'],
  5: ['left', 'top'], 6: ['right', 'top'], 7: ['right', 'bottom'], 8: ['left', 'bottom'],
};

/** Where stored pixel (r, c) appears in the displayed image of size dw×dh, straight from the table above. */
function displayedAt(orientation: number, r: number, c: number, dw: number, dh: number): [number, number] {
  const [rowSide, colSide] = SPEC[orientation]!;
  let row = 0;
  let col = 0;
  if (rowSide === 'top') row = r; else if (rowSide === 'bottom') row = dh - 1 - r; else if (rowSide === 'left') col = r; else col = dw - 1 - r;
  if (colSide === 'left') col = c; else if (colSide === 'right') col = dw - 1 - c; else if (colSide === 'top') row = c; else row = dh - 1 - c;
  return [row, col];
}

function numbered(w: number, h: number, channels: RawImage['channels']): RawImage {
  return { data: Uint8Array.from({ length: w * h * channels }, (_, i) => i % 251), width: w, height: h, channels };
}

/** The displayed image per the spec mapping, built independently of applyExifOrientation. */
function displayed(img: RawImage, orientation: number): RawImage {
  const swap = orientation >= 5;
  const dw = swap ? img.height : img.width;
  const dh = swap ? img.width : img.height;
  const out = new Uint8Array(img.data.length);
  for (let r = 0; r < img.height; r++) {
    for (let c = 0; c < img.width; c++) {
      const [dr, dc] = displayedAt(orientation, r, c, dw, dh);
      for (let k = 0; k < img.channels; k++) out[(dr * dw + dc) * img.channels + k] = img.data[(r * img.width + c) * img.channels + k]!;
    }
  }
  return { data: out, width: dw, height: dh, channels: img.channels };
}

describe('EXIF orientation', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('orientation %i matches the EXIF definition', orientation => {
    for (const channels of [1, 3] as const) {
      const img = numbered(5, 3, channels);
      expect(imageDifference(applyExifOrientation(img, orientation), displayed(img, orientation))).toBeNull();
    }
  });

  it('values outside 2–8 leave the image alone, as PIL does', () => {
    const img = numbered(4, 2, 3);
    for (const o of [0, 1, 9, 65535]) expect(applyExifOrientation(img, o)).toBe(img);
  });

  it('readExifOrientation reads both byte orders, with or without the Exif header, and tolerates garbage', () => {
    expect(readExifOrientation(exifWithOrientation(6))).toBe(6);
    expect(readExifOrientation(exifWithOrientation(8, true))).toBe(8);
    expect(readExifOrientation(Uint8Array.from([...ascii('Exif'), 0, 0, ...exifWithOrientation(3)]))).toBe(3);
    expect(readExifOrientation(new Uint8Array(5))).toBe(1);
    expect(readExifOrientation(exifWithOrientation(6).subarray(0, 14))).toBe(1);
  });
});

// ---------------------------------------------------------------- JPEG wiring

/** A JPEG with an APP1 Exif segment carrying `orientation` inserted right after SOI. */
function withExif(jpeg: Uint8Array, orientation: number): Uint8Array {
  const payload = Uint8Array.from([...ascii('Exif'), 0, 0, ...exifWithOrientation(orientation)]);
  const seg = Uint8Array.from([0xff, 0xe1, (payload.length + 2) >> 8, (payload.length + 2) & 0xff, ...payload]);
  return Uint8Array.from([...jpeg.subarray(0, 2), ...seg, ...jpeg.subarray(2)]);
}

describe('JPEG through decodeImage', () => {
  const fruits = new Uint8Array(fs.readFileSync(path.join(PREPROCESS_DIR, 'images/fruits.jpg')));

  it.each([2, 3, 4, 5, 6, 7, 8])('EXIF orientation %i is applied to the decoded pixels', orientation => {
    const upright = decodeImage(fruits, { name: 'fruits.jpg' });
    expect(imageDifference(decodeImage(withExif(fruits, orientation)), displayed(upright, orientation))).toBeNull();
  });

  it('refuses a JPEG whose SOF claims more pixels than the limit, before decoding', () => {
    const big = fruits.slice();
    const sof = big.findIndex((b, i) => b === 0xff && (big[i + 1] === 0xc0 || big[i + 1] === 0xc2));
    big.set([0x4e, 0x20, 0x4e, 0x20], sof + 5); // height, width = 20000
    expect(decodeError(big, 'huge.jpg')).toBe('huge.jpg: 20000×20000 pixels (400.0 megapixels) is over the limit of 40 megapixels (maxPixels)');
    expect(() => decodeImage(fruits, { name: 'fruits.jpg', maxPixels: 100_000 })).toThrow(/fruits\.jpg: 512×480 pixels .* limit of 0\.1 megapixels/);
  });

  it('a truncated JPEG is one clear error naming the input', () => {
    expect(decodeError(fruits.subarray(0, 300), 'cut.jpg')).toMatch(/^cut\.jpg: cannot decode JPEG \(.+\)$/);
  });
});
