// Bounded work in the PNG decoder, counted in bytes inflated (DecodeOptions.work): zlib bombs in IDAT are refused
// having inflated at most ~8 MiB past the IHDR's size + 1 MiB (one 8 KiB feed × deflate's 1032), APNG frames (fdAT)
// are never inflated, interlaced and many-chunk files inflate exactly their scanlines, and a stream that never ends is judged by what it produced.
// The expected sizes come from the test's own PNG writer (png-writer.ts), not from the decoder.

import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../src/image/decode.js';
import { ImageInputError } from '../../src/image/errors.js';
import type { DecodeWork } from '../../src/image/limits.js';
import { imageDifference } from './helpers.js';
import { chunk, concat, ihdr, imageData, SIGNATURE, writePng, type PngSpec } from './png-writer.js';

const MiB = 1 << 20;

function decodeCounting(bytes: Uint8Array): { work: DecodeWork; image?: ReturnType<typeof decodeImage>; error?: ImageInputError } {
  const work: DecodeWork = { used: 0, budget: 0 };
  try {
    return { work, image: decodeImage(bytes, { name: 'bomb.png', work }) };
  } catch (e) {
    expect(e).toBeInstanceOf(ImageInputError);
    return { work, error: e as ImageInputError };
  }
}

/** The scanline bytes the writer deflated: what the decoder must inflate, no more. */
const rawSize = (spec: PngSpec) => zlib.inflateSync(imageData(spec)).length;

const u32 = (n: number) => Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);

describe('PNG work is counted in bytes inflated and bounded by the IHDR', () => {
  // 50 MB of zeros deflate to 48 KB: a 1,000× bomb.
  const bomb = new Uint8Array(zlib.deflateSync(Buffer.alloc(50_000_000), { level: 9 }));

  it('a zlib bomb in the IDAT of a 1×1 image is refused within 8.25 MiB past its budget (4 bytes + 1 MiB)', () => {
    const { work, error } = decodeCounting(concat([SIGNATURE, ihdr(1, 1, 8, 2), chunk('IDAT', bomb), chunk('IEND')]));
    expect(error?.message).toBe(`bomb.png: corrupt PNG: image data inflates past ${4 + MiB} bytes, its IHDR implies 4`);
    expect(work).toMatchObject({ format: 'PNG', unit: 'inflated bytes', budget: 4 + MiB });
    expect(work.used).toBeGreaterThan(work.budget);
    expect(work.used).toBeLessThanOrEqual(work.budget + 8.25 * MiB);
  });

  it('the same bomb behind a 2000×2000 header stops just past that image\'s budget', () => {
    const expected = 2000 * (1 + 2000);
    const { work, error } = decodeCounting(concat([SIGNATURE, ihdr(2000, 2000, 8, 0), chunk('IDAT', bomb), chunk('IEND')]));
    expect(error?.message).toMatch(/image data inflates past \d+ bytes, its IHDR implies 4002000$/);
    expect(work.budget).toBe(expected + MiB);
    expect(work.used).toBeLessThanOrEqual(work.budget + 8.25 * MiB);
  });

  it('APNG: frames in fdAT chunks (here 40 bombs) are never inflated; the default image decodes as without them', () => {
    const spec: PngSpec = { width: 16, height: 16, colorType: 0, bitDepth: 8, samples: Array.from({ length: 256 }, (_, i) => i) };
    const still = writePng(spec);
    const fctl = (seq: number) => chunk('fcTL', concat([u32(seq), u32(16), u32(16), u32(0), u32(0), Uint8Array.of(0, 1, 0, 100, 0, 0)]));
    const frames = Array.from({ length: 40 }, (_, i) => [fctl(2 * i + 1), chunk('fdAT', concat([u32(2 * i + 2), bomb]))]).flat();
    const idat = still.subarray(33, still.length - 12); // the IDAT chunk, whole
    const apng = concat([SIGNATURE, ihdr(16, 16, 8, 0), chunk('acTL', concat([u32(41), u32(0)])), fctl(0), idat, ...frames, chunk('IEND')]);
    expect(apng.length).toBeGreaterThan(40 * bomb.length);
    const { work, image } = decodeCounting(apng);
    expect(imageDifference(image!, decodeImage(still))).toBeNull();
    expect(work.used).toBe(rawSize(spec));
  });

  it.each([
    ['1×3000 interlaced, 1-bit grey', { width: 1, height: 3000, colorType: 0, bitDepth: 1, interlace: true }],
    ['3000×1 interlaced, 16-bit RGBA', { width: 3000, height: 1, colorType: 6, bitDepth: 16, interlace: true }],
    ['97×61 interlaced palette, 2-bit', { width: 97, height: 61, colorType: 3, bitDepth: 2, interlace: true, palette: [[0, 0, 0], [9, 9, 9], [99, 0, 0], [0, 0, 255]] }],
  ] as [string, Omit<PngSpec, 'samples'>][])('%s: inflates exactly its Adam7 scanlines, decodes as the plain file', (_name, shape) => {
    const spp = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[shape.colorType];
    const max = shape.colorType === 3 ? 3 : (1 << shape.bitDepth) - 1;
    const spec = { ...shape, samples: Array.from({ length: shape.width * shape.height * spp }, (_, i) => (i * 7919) % (max + 1)) };
    const { work, image } = decodeCounting(writePng(spec));
    expect(work.used).toBe(rawSize(spec));
    expect(imageDifference(image!, decodeImage(writePng({ ...spec, interlace: false })))).toBeNull();
  });

  it('image data split into 1-byte IDAT chunks between 20,000 empty ones decodes the same, inflating the same', () => {
    const spec: PngSpec = { width: 40, height: 30, colorType: 2, bitDepth: 8, samples: Array.from({ length: 3600 }, (_, i) => (i * 31) & 255) };
    const data = imageData(spec);
    const parts = [SIGNATURE, ihdr(40, 30, 8, 2)];
    for (let i = 0; i < 20_000; i++) parts.push(chunk('IDAT'), ...(i < data.length ? [chunk('IDAT', data.subarray(i, i + 1))] : []));
    parts.push(chunk('IEND'));
    const { work, image } = decodeCounting(concat(parts));
    expect(imageDifference(image!, decodeImage(writePng(spec)))).toBeNull();
    expect(work.used).toBe(rawSize(spec));
  });

  it('a stream of 200,000 empty stored blocks that never ends is refused, having inflated nothing', () => {
    const stored = Uint8Array.of(0x00, 0x00, 0x00, 0xff, 0xff); // BFINAL=0, BTYPE=00, LEN=0, NLEN=0xffff
    const stream = concat([Uint8Array.of(0x78, 0x01), ...new Array<Uint8Array>(200_000).fill(stored)]);
    const { work, error } = decodeCounting(concat([SIGNATURE, ihdr(100, 100, 8, 2), chunk('IDAT', stream), chunk('IEND')]));
    expect(error?.message).toBe('bomb.png: corrupt PNG: image data does not inflate (invalid zlib data)'); // no Adler-32 at its end
    expect(work.used).toBe(0);
  });
});
