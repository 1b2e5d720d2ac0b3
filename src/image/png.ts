// PNG → RawImage through pngjs, with the pixel values PIL (Pillow 9.4) gives after `convert('RGB')`.
// Before pngjs sees the bytes we walk the chunks ourselves: signature, IHDR sanity, the pixel limit, truncation,
// the eXIf orientation, and a bound on the inflated size of interlaced images (pngjs bounds the others itself).

import pngjs from 'pngjs';
import inflateSync from 'pngjs/lib/sync-inflate.js';
import { ImageInputError } from './errors.js';
import { readExifOrientation } from './orientation.js';
import type { RawImage } from './types.js';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;   // 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA
  interlaced: boolean;
}

interface Chunk { type: string; start: number; length: number }   // start = offset of the length field

const DEPTHS_BY_COLOR_TYPE: Record<number, number[]> = {
  0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16],
};
const SAMPLES_BY_COLOR_TYPE: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);
}

function u32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

function chunkType(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
}

/** Every chunk up to IEND (or the end of the file when IEND is missing, which PIL tolerates too). */
function scanChunks(bytes: Uint8Array, name: string): Chunk[] {
  const chunks: Chunk[] = [];
  let at = 8;
  while (at < bytes.length) {
    if (at + 8 > bytes.length) throw new ImageInputError(name, `truncated PNG: a chunk header at byte ${at} is cut off (file is ${bytes.length} bytes)`);
    const length = u32(bytes, at);
    const type = chunkType(bytes, at + 4);
    if (length > 0x7fffffff || at + 12 + length > bytes.length) {
      throw new ImageInputError(name, `truncated PNG: chunk '${type}' at byte ${at} needs ${length + 12} bytes, the file has ${bytes.length - at} left`);
    }
    chunks.push({ type, start: at, length });
    at += 12 + length;
    if (type === 'IEND') break;
  }
  return chunks;
}

function parseHeader(bytes: Uint8Array, chunks: Chunk[], name: string): PngHeader {
  const ihdr = chunks[0];
  if (!ihdr || ihdr.type !== 'IHDR' || ihdr.length !== 13) {
    throw new ImageInputError(name, `corrupt PNG: the first chunk must be a 13-byte IHDR, found ${ihdr ? `'${ihdr.type}' of ${ihdr.length} bytes` : 'nothing'}`);
  }
  const d = ihdr.start + 8;
  const header: PngHeader = {
    width: u32(bytes, d), height: u32(bytes, d + 4), bitDepth: bytes[d + 8]!, colorType: bytes[d + 9]!,
    interlaced: bytes[d + 12] === 1,
  };
  if (header.width < 1 || header.height < 1 || header.width > 0x7fffffff || header.height > 0x7fffffff) {
    throw new ImageInputError(name, `corrupt PNG: IHDR size ${header.width}×${header.height} is invalid`);
  }
  const depths = DEPTHS_BY_COLOR_TYPE[header.colorType];
  if (!depths) throw new ImageInputError(name, `corrupt PNG: IHDR colour type ${header.colorType} is invalid (0, 2, 3, 4 or 6)`);
  if (!depths.includes(header.bitDepth)) {
    throw new ImageInputError(name, `corrupt PNG: bit depth ${header.bitDepth} is invalid for colour type ${header.colorType} (${depths.join(', ')})`);
  }
  if (bytes[d + 10] !== 0 || bytes[d + 11] !== 0 || bytes[d + 12]! > 1) {
    throw new ImageInputError(name, `corrupt PNG: IHDR compression/filter/interlace = ${bytes[d + 10]}/${bytes[d + 11]}/${bytes[d + 12]} (expected 0/0/0 or 0/0/1)`);
  }
  return header;
}

/** Width, height and format of a PNG from its first 33 bytes, without decoding. */
export function readPngHeader(bytes: Uint8Array, name = 'input'): PngHeader {
  if (!isPng(bytes)) throw new ImageInputError(name, 'not a PNG (bad signature)');
  if (bytes.length < 33) throw new ImageInputError(name, `truncated PNG: ${bytes.length} bytes, too short for its IHDR`);
  return parseHeader(bytes, [{ type: chunkType(bytes, 12), start: 8, length: u32(bytes, 8) }], name);
}

/** Inflated size of the image data: per pass (Adam7 has 7), rows × (1 filter byte + packed row bytes). */
function inflatedSize(h: PngHeader): number {
  const bitsPerPixel = SAMPLES_BY_COLOR_TYPE[h.colorType]! * h.bitDepth;
  const rowBytes = (w: number) => 1 + Math.ceil((w * bitsPerPixel) / 8);
  if (!h.interlaced) return h.height * rowBytes(h.width);
  const passes = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];
  let total = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const w = Math.ceil((h.width - x0!) / dx!);
    const rows = Math.ceil((h.height - y0!) / dy!);
    if (w > 0 && rows > 0) total += rows * rowBytes(w);
  }
  return total;
}

function concatIdat(bytes: Uint8Array, chunks: Chunk[]): Buffer {
  return Buffer.concat(chunks.filter(c => c.type === 'IDAT').map(c => bytes.subarray(c.start + 8, c.start + 8 + c.length)));
}

/** pngjs inflates interlaced data without a bound: refuse data that inflates past what the IHDR allows. */
function checkInterlacedSize(bytes: Uint8Array, chunks: Chunk[], header: PngHeader, name: string): void {
  const expected = inflatedSize(header);
  let got: Buffer;
  try {
    got = inflateSync(concatIdat(bytes, chunks), { chunkSize: 64 * 1024, maxLength: expected + 1 });
  } catch (e) {
    throw new ImageInputError(name, `corrupt PNG: image data does not inflate (${(e as Error).message})`, { cause: e });
  }
  if (got.length > expected) throw new ImageInputError(name, `corrupt PNG: image data inflates past the ${expected} bytes its IHDR allows`);
}

/** tRNS on grey/RGB images only marks one colour transparent; PIL keeps the pixel, pngjs zeroes it: drop the chunk. */
function withoutChunk(bytes: Uint8Array, chunk: Chunk): Buffer {
  return Buffer.concat([bytes.subarray(0, chunk.start), bytes.subarray(chunk.start + 12 + chunk.length)]);
}

/** pngjs gives RGBA (8-bit Buffer, or 16-bit Uint16Array with skipRescale): pick PIL's channels and bytes. */
function toRaw(rgba: Uint8Array | Uint16Array, h: PngHeader, hasTrns: boolean): RawImage {
  const n = h.width * h.height;
  // PIL: 16-bit grey opens as mode I and convert() clips it to 0–255; other 16-bit modes keep the high byte.
  const sample = h.bitDepth !== 16 ? (v: number) => v : h.colorType === 0 ? (v: number) => Math.min(v, 255) : (v: number) => v >> 8;
  const pick: Record<number, number[]> = { 0: [0], 2: [0, 1, 2], 3: hasTrns ? [0, 1, 2, 3] : [0, 1, 2], 4: [0, 3], 6: [0, 1, 2, 3] };
  const src = pick[h.colorType]!;
  const channels = src.length as RawImage['channels'];
  const out = new Uint8Array(n * channels);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < channels; k++) out[i * channels + k] = sample(rgba[i * 4 + src[k]!]!);
  }
  return { data: out, width: h.width, height: h.height, channels };
}

function describePixels(width: number, height: number): string {
  return `${width}×${height} pixels (${((width * height) / 1e6).toFixed(1)} megapixels)`;
}

export function checkPixelLimit(width: number, height: number, maxPixels: number, name: string): void {
  if (width * height > maxPixels) {
    throw new ImageInputError(name, `${describePixels(width, height)} is over the limit of ${maxPixels / 1e6} megapixels (maxPixels)`);
  }
}

/** Decode a PNG; `orientation` is its eXIf chunk's value (1 when absent), not applied. */
export function decodePng(bytes: Uint8Array, name: string, maxPixels: number): { image: RawImage; orientation: number } {
  if (!isPng(bytes)) throw new ImageInputError(name, 'not a PNG (bad signature)');
  const header = readPngHeader(bytes, name);
  checkPixelLimit(header.width, header.height, maxPixels, name);
  const chunks = scanChunks(bytes, name);
  parseHeader(bytes, chunks, name);
  if (!chunks.some(c => c.type === 'IDAT')) throw new ImageInputError(name, 'truncated PNG: no image data (no IDAT chunk)');
  const exif = chunks.find(c => c.type === 'eXIf');
  const orientation = exif ? readExifOrientation(bytes.subarray(exif.start + 8, exif.start + 8 + exif.length)) : 1;
  if (header.interlaced) checkInterlacedSize(bytes, chunks, header, name);

  const trns = chunks.find(c => c.type === 'tRNS');
  let input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (trns && (header.colorType === 0 || header.colorType === 2)) input = withoutChunk(bytes, trns);
  if (chunks[chunks.length - 1]!.type !== 'IEND') input = Buffer.concat([input, IEND]);
  let decoded: { data: Uint8Array | Uint16Array };
  try {
    decoded = pngjs.PNG.sync.read(input, { skipRescale: header.bitDepth === 16 }) as unknown as { data: Uint8Array | Uint16Array };
  } catch (e) {
    throw new ImageInputError(name, `corrupt PNG: ${(e as Error).message}`, { cause: e });
  }
  return { image: toRaw(decoded.data, header, trns !== undefined && header.colorType === 3), orientation };
}

const IEND = Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);
