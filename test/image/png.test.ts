// PNG decoding: every colour type and bit depth, palettes with tRNS, Adam7 interlacing and eXIf orientation,
// written by pngjs's encoder or by our own spec-based writer (png-writer.ts), and compared with the samples
// encoded, mapped by PIL 9.4's rules (16-bit: high byte, 16-bit grey: clipped to 255, tRNS on grey/RGB ignored).
// Plus broken files: truncated, corrupt, bombs, refused before decoding by the pixel limit.

import zlib from 'node:zlib';
import pngjs from 'pngjs';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../src/image/decode.js';
import { ImageInputError } from '../../src/image/errors.js';
import { readPngHeader } from '../../src/image/png.js';
import type { RawImage } from '../../src/image/types.js';
import { rng } from '../helpers/random.js';
import { imageDifference } from './helpers.js';
import { chunk, concat, exifWithOrientation, ihdr, SIGNATURE, writePng, type PngSpec } from './png-writer.js';

const W = 13;
const H = 9;   // odd sizes exercise partial bytes and every Adam7 pass

const uniform = rng(12345);
function random(max: number): number {   // an integer in [0, max] from the 32 bits of one draw
  return Math.floor(uniform() * 2 ** 32) % (max + 1);
}
function samples(n: number, max: number): number[] {
  return Array.from({ length: n }, () => random(max));
}

function decode(bytes: Uint8Array, name = 'test.png', maxPixels?: number): RawImage {
  return decodeImage(bytes, { name, maxPixels });
}

function expectImage(img: RawImage, width: number, height: number, channels: number, data: ArrayLike<number>): void {
  expect({ width: img.width, height: img.height, channels: img.channels }).toEqual({ width, height, channels });
  expect([...img.data]).toEqual([...Array.from(data)]);
}

describe('PNG colour types and bit depths (pngjs encoder)', () => {
  const encode = (data: Buffer, colorType: 0 | 2 | 4 | 6, inputColorType: 0 | 2 | 4 | 6, bitDepth: 8 | 16) => {
    const png = new pngjs.PNG({ width: W, height: H });
    png.data = data;
    return new Uint8Array(pngjs.PNG.sync.write(png, { colorType, inputColorType, bitDepth, inputHasAlpha: inputColorType >= 4 }));
  };

  it('8-bit RGB', () => {
    const px = samples(W * H * 3, 255);
    expectImage(decode(encode(Buffer.from(px), 2, 2, 8)), W, H, 3, px);
  });

  it('8-bit RGBA keeps alpha (dropped only by the RGB conversion)', () => {
    const px = samples(W * H * 4, 255);
    expectImage(decode(encode(Buffer.from(px), 6, 6, 8)), W, H, 4, px);
  });

  it('8-bit grey', () => {
    const px = samples(W * H, 255);
    expectImage(decode(encode(Buffer.from(px), 0, 0, 8)), W, H, 1, px);
  });

  it('8-bit grey + alpha', () => {
    const px = samples(W * H * 2, 255);
    expectImage(decode(encode(Buffer.from(px), 4, 4, 8)), W, H, 2, px);
  });

  it.each([0, 1, 2, 3, 4])('scanline filter %i (pngjs writes every row with it), RGB and 16-bit RGBA', filterType => {
    const rgb = samples(W * H * 3, 255);
    const png = new pngjs.PNG({ width: W, height: H });
    png.data = Buffer.from(rgb);
    const bytes = new Uint8Array(pngjs.PNG.sync.write(png, { colorType: 2, inputColorType: 2, bitDepth: 8, inputHasAlpha: false, filterType }));
    expectImage(decode(bytes), W, H, 3, rgb);
    const rgba16 = samples(W * H * 4, 65535);
    const png16 = new pngjs.PNG({ width: W, height: H });
    png16.data = Buffer.from(Uint16Array.from(rgba16).buffer);
    const bytes16 = new Uint8Array(pngjs.PNG.sync.write(png16, { colorType: 6, inputColorType: 6, bitDepth: 16, inputHasAlpha: true, filterType }));
    expectImage(decode(bytes16), W, H, 4, rgba16.map(v => v >> 8));
  });

  it('16-bit RGB keeps the high byte of each sample, as PIL (rawmode RGB;16B)', () => {
    const px = samples(W * H * 3, 65535);
    const img = decode(encode(Buffer.from(Uint16Array.from(px).buffer), 2, 2, 16));
    expectImage(img, W, H, 3, px.map(v => v >> 8));
  });
});

describe('PNG variants (spec-based writer)', () => {
  const spec = (colorType: PngSpec['colorType'], bitDepth: PngSpec['bitDepth'], spp: number, extra: Partial<PngSpec> = {}): PngSpec => ({
    width: W, height: H, colorType, bitDepth, samples: samples(W * H * spp, 2 ** bitDepth - 1), ...extra,
  });

  it.each([1, 2, 4] as const)('%i-bit grey is scaled to 0–255', depth => {
    const s = spec(0, depth, 1);
    expectImage(decode(writePng(s)), W, H, 1, Array.from(s.samples, v => (v * 255) / (2 ** depth - 1)));
  });

  it('16-bit grey is clipped to 255, as PIL does (mode I → convert clips)', () => {
    const s = spec(0, 16, 1, { samples: [...samples(W * H - 3, 400), 0, 255, 65535] });
    expectImage(decode(writePng(s)), W, H, 1, Array.from(s.samples, v => Math.min(v, 255)));
  });

  it('16-bit grey + alpha and 16-bit RGBA keep the high bytes', () => {
    const la = spec(4, 16, 2);
    expectImage(decode(writePng(la)), W, H, 2, Array.from(la.samples, v => v >> 8));
    const rgba = spec(6, 16, 4);
    expectImage(decode(writePng(rgba)), W, H, 4, Array.from(rgba.samples, v => v >> 8));
  });

  it.each([1, 2, 4, 8] as const)('%i-bit palette expands to RGB', depth => {
    const palette = Array.from({ length: 2 ** depth }, () => samples(3, 255));
    const s = spec(3, depth, 1, { palette });
    expectImage(decode(writePng(s)), W, H, 3, Array.from(s.samples).flatMap(i => palette[i]!));
  });

  it('palette + tRNS expands to RGBA; entries past the tRNS list are opaque', () => {
    const palette = Array.from({ length: 16 }, () => samples(3, 255));
    const trns = samples(5, 255);
    const s = spec(3, 4, 1, { palette, trns });
    expectImage(decode(writePng(s)), W, H, 4, Array.from(s.samples).flatMap(i => [...palette[i]!, trns[i] ?? 255]));
  });

  it('tRNS on grey and RGB does not change pixels (PIL keeps them; the key colour is only metadata)', () => {
    const grey = spec(0, 8, 1, { samples: samples(W * H, 3), trns: [2] });
    expectImage(decode(writePng(grey)), W, H, 1, grey.samples);
    const rgb = spec(2, 8, 3, { samples: samples(W * H * 3, 1), trns: [1, 0, 1] });
    expectImage(decode(writePng(rgb)), W, H, 3, rgb.samples);
  });

  it.each([
    ['RGB 8', 2, 8, 3], ['RGBA 16', 6, 16, 4], ['grey 1', 0, 1, 1], ['grey 16', 0, 16, 1], ['grey+alpha 8', 4, 8, 2], ['palette 2', 3, 2, 1],
  ] as const)('Adam7-interlaced %s decodes to the same pixels as non-interlaced', (_label, colorType, depth, spp) => {
    const palette = colorType === 3 ? Array.from({ length: 4 }, () => samples(3, 255)) : undefined;
    const s = spec(colorType, depth, spp, { palette });
    const plain = decode(writePng(s));
    const interlaced = decode(writePng({ ...s, interlace: true }));
    expect(imageDifference(interlaced, plain)).toBeNull();
  });

  it('a 1×1 interlaced image (most Adam7 passes empty)', () => {
    expectImage(decode(writePng({ width: 1, height: 1, colorType: 2, bitDepth: 8, samples: [9, 8, 7], interlace: true })), 1, 1, 3, [9, 8, 7]);
  });

  it('eXIf orientation is applied (6: rotate 90° clockwise)', () => {
    const s = spec(0, 8, 1);
    const img = decode(writePng({ ...s, exif: exifWithOrientation(6, true) }));
    expect([img.width, img.height]).toEqual([H, W]);
    // EXIF 6: the stored row 0 is the displayed right-hand column, stored column 0 the displayed top row.
    for (let x = 0; x < W; x++) expect(img.data[x * H + (H - 1)]).toBe(s.samples[x]);
  });

  it('readPngHeader reads size and format without decoding', () => {
    const bytes = writePng({ ...spec(3, 4, 1, { palette: [[1, 2, 3]] }), samples: new Array(W * H).fill(0), interlace: true });
    expect(readPngHeader(bytes)).toEqual({ width: W, height: H, bitDepth: 4, colorType: 3, interlaced: true });
  });
});

describe('PNG errors', () => {
  const good = writePng({ width: 40, height: 30, colorType: 2, bitDepth: 8, samples: samples(40 * 30 * 3, 255) });
  const errorOf = (bytes: Uint8Array, maxPixels?: number): ImageInputError => {
    try {
      decode(bytes, 'bad.png', maxPixels);
    } catch (e) {
      expect(e).toBeInstanceOf(ImageInputError);
      return e as ImageInputError;
    }
    throw new Error('expected decoding to fail');
  };

  it('refuses an IHDR claiming 20000×20000 on the pixel limit, before looking for data', () => {
    const t0 = performance.now();
    const e = errorOf(concat([SIGNATURE, ihdr(20000, 20000, 8, 2)]));
    expect(performance.now() - t0).toBeLessThan(100);
    expect(e.message).toBe('bad.png: 20000×20000 pixels (400.0 megapixels) is over the limit of 40 megapixels (maxPixels)');
  });

  it('honours a custom pixel limit', () => {
    expect(errorOf(good, 1000).message).toMatch(/^bad\.png: 40×30 pixels .* over the limit of 0\.001 megapixels/);
    expect(decode(good, 'ok.png', 1200).width).toBe(40);
  });

  it.each([
    ['cut inside the IHDR', 20, /truncated PNG: 20 bytes, too short for its IHDR/],
    ['cut inside a chunk header', 37, /truncated PNG: a chunk header at byte 33 is cut off/],
    ['cut inside IDAT', 200, /truncated PNG: chunk 'IDAT' at byte 33 needs \d+ bytes, the file has 167 left/],
  ])('truncated: %s', (_label, cut, message) => {
    expect(errorOf(good.subarray(0, cut)).message).toMatch(message);
  });

  it('a file missing only its IEND still decodes (PIL accepts it)', () => {
    expect(imageDifference(decode(good.subarray(0, good.length - 12)), decode(good))).toBeNull();
  });

  it('image data that inflates short of the IHDR size is truncated, not padded', () => {
    const raw = zlib.deflateSync(Buffer.alloc(10));
    expect(errorOf(concat([SIGNATURE, ihdr(6000, 6000, 8, 2), chunk('IDAT', raw), chunk('IEND')])).message)
      .toMatch(/truncated PNG: image data ends after 10 of 108006000 bytes/);
  });

  it('a little excess image data is ignored, as PIL does; a decompression bomb is refused', () => {
    const raw = Buffer.alloc(4 * (1 + 12) + 50);
    raw[1] = 200;
    const img = decode(concat([SIGNATURE, ihdr(4, 4, 8, 2), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND')]));
    expect([...img.data.subarray(0, 3)]).toEqual([200, 0, 0]);
    const bomb = concat([SIGNATURE, ihdr(10, 10, 8, 2, 1), chunk('IDAT', zlib.deflateSync(Buffer.alloc(20_000_000))), chunk('IEND')]);
    expect(errorOf(bomb).message).toMatch(/corrupt PNG: image data inflates past \d+ bytes, its IHDR implies 320/);
  });

  it('corrupt data, bad CRCs, bad headers and missing chunks give one clear line', () => {
    const ihdrCrc = good.slice();
    ihdrCrc[30] ^= 0xff;
    expect(errorOf(ihdrCrc).message).toBe("bad.png: corrupt PNG: CRC mismatch in chunk 'IHDR' at byte 8");
    expect(errorOf(concat([SIGNATURE, ihdr(10, 10, 8, 2), chunk('IDAT', new Uint8Array(300).fill(0x55)), chunk('IEND')])).message)
      .toMatch(/corrupt PNG: image data does not inflate/);
    expect(errorOf(concat([SIGNATURE, ihdr(10, 10, 8, 2), chunk('IEND')])).message).toMatch(/no image data \(no IDAT chunk\)/);
    expect(errorOf(concat([SIGNATURE, ihdr(10, 10, 3, 2), chunk('IEND')])).message).toMatch(/bit depth 3 is invalid for colour type 2/);
    expect(errorOf(concat([SIGNATURE, ihdr(10, 10, 8, 5), chunk('IEND')])).message).toMatch(/colour type 5 is invalid/);
    expect(errorOf(concat([SIGNATURE, ihdr(0, 10, 8, 2), chunk('IEND')])).message).toMatch(/IHDR size 0×10 is invalid/);
    expect(errorOf(concat([SIGNATURE, chunk('tEXt', new Uint8Array(13)), ihdr(1, 1, 8, 2)])).message).toMatch(/first chunk must be a 13-byte IHDR, found 'tEXt'/);
    const noPalette = concat([SIGNATURE, ihdr(10, 10, 8, 3), chunk('IDAT', zlib.deflateSync(Buffer.alloc(110))), chunk('IEND')]);
    expect(errorOf(noPalette).message).toMatch(/^bad\.png: corrupt PNG: .*palette/);
    const badFilter = concat([SIGNATURE, ihdr(10, 10, 8, 2), chunk('IDAT', zlib.deflateSync(Buffer.alloc(310, 9))), chunk('IEND')]);
    expect(errorOf(badFilter).message).toMatch(/^bad\.png: corrupt PNG: .*filter/i);
  });

  it('every truncation point of a real file errors cleanly or decodes, never hangs or crashes', () => {
    const small = writePng({ width: 7, height: 5, colorType: 6, bitDepth: 8, samples: samples(7 * 5 * 4, 255), interlace: true });
    for (let cut = 0; cut < small.length; cut++) {
      try {
        decode(small.subarray(0, cut));
      } catch (e) {
        expect(e).toBeInstanceOf(ImageInputError);
      }
    }
  });
});
