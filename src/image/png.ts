// PNG → RawImage through pngjs, with the pixel values PIL (Pillow 9.4) gives after `convert('RGB')`.
// Before pngjs sees the bytes we walk the chunks ourselves: signature, IHDR sanity, the pixel limit, truncation,
// CRCs (not IDAT's: PIL skips those too), the eXIf orientation, and the inflated size of the image data, which
// must be at least what the IHDR implies (pngjs 7 on Node 20 returns an image-sized buffer even for short data).

import pngjs from 'pngjs';
import { constants as zlibConstants, deflateSync, inflateSync } from 'node:zlib';
import { ImageInputError } from './errors.js';
import { checkPixelLimit } from './limits.js';
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

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
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
    if (type !== 'IDAT' && crc32(bytes.subarray(at + 4, at + 8 + length)) !== u32(bytes, at + 8 + length)) {
      throw new ImageInputError(name, `corrupt PNG: CRC mismatch in chunk '${type}' at byte ${at}`);
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

const ZLIB_OPTS = { finishFlush: zlibConstants.Z_SYNC_FLUSH };   // a stream cut short still yields what it holds
const EXCESS_ALLOWED = 1 << 20;

/**
 * Inflate the image data once, bounded, and check its size against the IHDR: less is a truncated file. More is
 * what PIL ignores, so up to 1 MiB of excess is trimmed (the IDAT is then re-packed for pngjs); beyond that the
 * file is refused as a decompression bomb. Returns the trimmed data when re-packing is needed, else null.
 */
function checkImageData(bytes: Uint8Array, chunks: Chunk[], header: PngHeader, name: string): Buffer | null {
  const expected = inflatedSize(header);
  const idat = concatIdat(bytes, chunks);
  const inflate = (limit: number) => inflateSync(idat, { ...ZLIB_OPTS, maxOutputLength: limit });
  let data: Buffer | null = null;
  let excess = false;
  try {
    try {
      data = inflate(expected);
    } catch (e) {
      if ((e as { code?: string }).code !== 'ERR_BUFFER_TOO_LARGE') throw e;
      excess = true;
      data = inflate(expected + EXCESS_ALLOWED).subarray(0, expected);
    }
  } catch (e) {
    const tooBig = (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
    const detail = tooBig ? `image data inflates past ${expected + EXCESS_ALLOWED} bytes, its IHDR implies ${expected}` : `image data does not inflate (${(e as Error).message})`;
    throw new ImageInputError(name, `corrupt PNG: ${detail}`, { cause: e });
  }
  if (data.length < expected) throw new ImageInputError(name, `truncated PNG: image data ends after ${data.length} of ${expected} bytes`);
  return excess ? data : null;
}

function writeChunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/**
 * The bytes pngjs gets: the file itself, or a rebuilt copy without a grey/RGB tRNS (it only marks one colour
 * transparent: PIL keeps the pixel, pngjs would zero it), with trimmed image data, and always ending in IEND.
 */
function pngjsInput(bytes: Uint8Array, chunks: Chunk[], header: PngHeader, trimmed: Buffer | null): Buffer {
  const dropTrns = header.colorType === 0 || header.colorType === 2;
  const keep = (c: Chunk) => !(dropTrns && c.type === 'tRNS') && !(trimmed && c.type === 'IDAT') && c.type !== 'IEND';
  if (!trimmed && chunks.every(c => keep(c) || c.type === 'IEND') && chunks[chunks.length - 1]!.type === 'IEND') {
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  const firstIdat = chunks.findIndex(c => c.type === 'IDAT');
  chunks.forEach((c, i) => {
    if (trimmed && i === firstIdat) parts.push(writeChunk('IDAT', deflateSync(trimmed, { level: 1 })));
    if (keep(c)) parts.push(bytes.subarray(c.start, c.start + 12 + c.length));
  });
  parts.push(writeChunk('IEND', new Uint8Array(0)));
  return Buffer.concat(parts);
}

/** pngjs gives RGBA (8-bit Buffer, or 16-bit Uint16Array with skipRescale): pick PIL's channels and bytes. */
function toRaw(rgba: Uint8Array | Uint16Array, h: PngHeader, paletteAlpha: boolean): RawImage {
  const n = h.width * h.height;
  const pick: Record<number, number[]> = { 0: [0], 2: [0, 1, 2], 3: paletteAlpha ? [0, 1, 2, 3] : [0, 1, 2], 4: [0, 3], 6: [0, 1, 2, 3] };
  const src = pick[h.colorType]!;
  const channels = src.length as RawImage['channels'];
  const out = new Uint8Array(n * channels);
  // PIL: 16-bit grey opens as mode I and convert() clips it to 0–255; other 16-bit modes keep the high byte.
  const clipGrey = h.bitDepth === 16 && h.colorType === 0;
  const shift = h.bitDepth === 16 && !clipGrey ? 8 : 0;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < channels; k++) {
      const v = rgba[i * 4 + src[k]!]!;
      out[i * channels + k] = clipGrey ? Math.min(v, 255) : v >> shift;
    }
  }
  return { data: out, width: h.width, height: h.height, channels };
}

/** Decode a PNG; `orientation` is its eXIf chunk's value (1 when absent), not applied. */
export function decodePng(bytes: Uint8Array, name: string, maxPixels: number): { image: RawImage; orientation: number } {
  if (!isPng(bytes)) throw new ImageInputError(name, 'not a PNG (bad signature)');
  const header = readPngHeader(bytes, name);
  checkPixelLimit(header.width, header.height, maxPixels, name);
  const chunks = scanChunks(bytes, name);
  if (!chunks.some(c => c.type === 'IDAT')) throw new ImageInputError(name, 'truncated PNG: no image data (no IDAT chunk)');
  const exif = chunks.find(c => c.type === 'eXIf');
  const orientation = exif ? readExifOrientation(bytes.subarray(exif.start + 8, exif.start + 8 + exif.length)) : 1;
  const trimmed = checkImageData(bytes, chunks, header, name);
  const input = pngjsInput(bytes, chunks, header, trimmed);
  let decoded: { data: Uint8Array | Uint16Array };
  try {
    decoded = pngjs.PNG.sync.read(input, { skipRescale: header.bitDepth === 16, checkCRC: false }) as unknown as { data: Uint8Array | Uint16Array };
  } catch (e) {
    throw new ImageInputError(name, `corrupt PNG: ${(e as Error).message}`, { cause: e });
  }
  const paletteAlpha = header.colorType === 3 && chunks.some(c => c.type === 'tRNS');
  return { image: toRaw(decoded.data, header, paletteAlpha), orientation };
}
