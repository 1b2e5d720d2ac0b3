// PNG → RawImage with the pixel values PIL (Pillow 9.4) gives after `convert('RGB')`, in plain JavaScript (fflate
// inflates), so it runs in Workers and browsers too: chunks walked and checked (signature, IHDR sanity, the pixel
// limit, truncation, CRCs except IDAT's as PIL), image data inflated bounded to the IHDR's size, scanlines
// unfiltered, Adam7 passes scattered, samples unpacked to PIL's modes. The eXIf orientation is read, not applied.

import { Unzlib } from 'fflate';
import { ImageInputError } from './errors.js';
import { checkPixelLimit, type DecodeWork } from './limits.js';
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

/** Adam7's passes: first column, first row, column step, row step. */
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] as const;

/** Inflated size of the image data: per pass (Adam7 has 7), rows × (1 filter byte + packed row bytes). */
function inflatedSize(h: PngHeader): number {
  const bitsPerPixel = SAMPLES_BY_COLOR_TYPE[h.colorType]! * h.bitDepth;
  const rowBytes = (w: number) => 1 + Math.ceil((w * bitsPerPixel) / 8);
  if (!h.interlaced) return h.height * rowBytes(h.width);
  let total = 0;
  for (const [x0, y0, dx, dy] of ADAM7) {
    const w = Math.ceil((h.width - x0) / dx);
    const rows = Math.ceil((h.height - y0) / dy);
    if (w > 0 && rows > 0) total += rows * rowBytes(w);
  }
  return total;
}

function concatIdat(bytes: Uint8Array, chunks: Chunk[]): Uint8Array {
  const parts = chunks.filter(c => c.type === 'IDAT').map(c => bytes.subarray(c.start + 8, c.start + 8 + c.length));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

const EXCESS_ALLOWED = 1 << 20;
/** Compressed bytes fed to the inflater at a time: bounds what one push can produce (deflate expands ≤ 1032×). Near
 *  the budget the feed shrinks to what the budget has left / 1032, but never below MIN_FEED, so a bomb is refused
 *  having inflated at most ~8 MiB past the budget (1032 × 8 KiB), whatever the image's size. Feeds are not smaller:
 *  fflate allocates a fresh window-plus-128-KiB output buffer per push, so 1 KiB feeds made a 600×400 PNG churn through
 *  ~165 MiB of short-lived buffers (measured in workerd, where that memory counts against the isolate). */
const FEED = 64 << 10;
const MIN_FEED = 8 << 10;
const MAX_RATIO = 1032;

/**
 * Inflate the image data once, bounded, and check its size against the IHDR: less is a truncated file (a stream
 * cut short still yields what it holds, as zlib's Z_SYNC_FLUSH gives PIL). More is what PIL ignores, so up to
 * 1 MiB of excess is dropped; beyond that the file is refused as a decompression bomb. Returns exactly the
 * IHDR's size.
 */
function inflateImageData(bytes: Uint8Array, chunks: Chunk[], header: PngHeader, name: string, work: DecodeWork): Uint8Array {
  const expected = inflatedSize(header);
  const budget = expected + EXCESS_ALLOWED;
  work.budget = budget;
  const idat = concatIdat(bytes, chunks);
  const out = new Uint8Array(expected);
  let got = 0;
  let ended = false;
  const inflater = new Unzlib((part, final) => {
    work.used += part.length;
    if (got + part.length > budget) {
      throw new ImageInputError(name, `corrupt PNG: image data inflates past ${budget} bytes, its IHDR implies ${expected}`);
    }
    out.set(part.subarray(0, Math.max(0, expected - got)), got);
    got += part.length;
    ended ||= final;
  });
  try {
    for (let at = 0; at < idat.length && !ended;) {
      const feed = Math.min(FEED, Math.max(MIN_FEED, Math.ceil((budget - got) / MAX_RATIO)));
      inflater.push(idat.subarray(at, at + feed), false);
      at += feed;
    }
    if (!ended && got < expected) inflater.push(new Uint8Array(0), true);
  } catch (e) {
    if (e instanceof ImageInputError) throw e;
    // A stream that stops early (fflate: 'unexpected EOF') is judged by the size check below, as zlib's sync flush does.
    if (!/unexpected EOF/i.test((e as Error).message)) {
      throw new ImageInputError(name, `corrupt PNG: image data does not inflate (${(e as Error).message})`, { cause: e });
    }
  }
  if (got < expected) throw new ImageInputError(name, `truncated PNG: image data ends after ${got} of ${expected} bytes`);
  return out;
}

/** Undoes one pass's scanline filters in place (`data` from `at`: rows × (filter byte + rowBytes)). */
function unfilter(data: Uint8Array, at: number, rows: number, rowBytes: number, bpp: number, name: string): void {
  for (let y = 0; y < rows; y++) {
    const f = data[at + y * (rowBytes + 1)]!;
    const row = at + y * (rowBytes + 1) + 1, up = row - rowBytes - 1;
    const hasUp = y > 0;
    switch (f) {
      case 0: break;
      case 1: for (let i = bpp; i < rowBytes; i++) data[row + i] = data[row + i]! + data[row + i - bpp]!; break;
      case 2: if (hasUp) for (let i = 0; i < rowBytes; i++) data[row + i] = data[row + i]! + data[up + i]!; break;
      case 3:
        for (let i = 0; i < rowBytes; i++) {
          const left = i >= bpp ? data[row + i - bpp]! : 0, above = hasUp ? data[up + i]! : 0;
          data[row + i] = data[row + i]! + ((left + above) >> 1);
        }
        break;
      case 4:
        for (let i = 0; i < rowBytes; i++) {
          const a = i >= bpp ? data[row + i - bpp]! : 0, b = hasUp ? data[up + i]! : 0, c = hasUp && i >= bpp ? data[up + i - bpp]! : 0;
          const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
          data[row + i] = data[row + i]! + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
        }
        break;
      default: throw new ImageInputError(name, `corrupt PNG: unknown filter type ${f} in a scanline (0–4)`);
    }
  }
}

/**
 * The image's samples, one Uint16Array entry per sample in pixel order (Adam7 passes scattered into place):
 * 8- and 16-bit samples as stored, sub-byte grey scaled to 0–255 as PIL's L;1/L;2/L;4 unpackers do, palette indices as is.
 */
function samples(data: Uint8Array, h: PngHeader, name: string): Uint16Array {
  const spp = SAMPLES_BY_COLOR_TYPE[h.colorType]!, bits = spp * h.bitDepth;
  const bpp = Math.max(1, bits >> 3);
  const out = new Uint16Array(h.width * h.height * spp);
  const scale = h.colorType === 0 && h.bitDepth < 8 ? 255 / ((1 << h.bitDepth) - 1) : 1;
  const passes = h.interlaced ? ADAM7 : [[0, 0, 1, 1] as const];
  let at = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const w = Math.ceil((h.width - x0) / dx), rows = Math.ceil((h.height - y0) / dy);
    if (w <= 0 || rows <= 0) continue;
    const rowBytes = Math.ceil((w * bits) / 8);
    unfilter(data, at, rows, rowBytes, bpp, name);
    for (let y = 0; y < rows; y++) {
      const row = at + y * (rowBytes + 1) + 1;
      for (let x = 0; x < w; x++) {
        const o = ((y0 + y * dy) * h.width + x0 + x * dx) * spp;
        for (let s = 0; s < spp; s++) {
          const k = x * spp + s;
          let v: number;
          if (h.bitDepth === 8) v = data[row + k]!;
          else if (h.bitDepth === 16) v = (data[row + 2 * k]! << 8) | data[row + 2 * k + 1]!;
          else v = (data[row + ((k * h.bitDepth) >> 3)]! >> (8 - h.bitDepth - ((k * h.bitDepth) & 7))) & ((1 << h.bitDepth) - 1);
          out[o + s] = scale === 1 ? v : Math.round(v * scale);
        }
      }
    }
    at += rows * (rowBytes + 1);
  }
  return out;
}

/** PIL's bytes after `convert('RGB')`'s input mode: grey, grey+alpha, RGB, RGBA, or the palette expanded (with tRNS alpha). */
function toRaw(s: Uint16Array, h: PngHeader, bytes: Uint8Array, chunks: Chunk[], name: string): RawImage {
  const n = h.width * h.height;
  if (h.colorType === 3) return expandPalette(s, h, bytes, chunks, name);
  const channels = SAMPLES_BY_COLOR_TYPE[h.colorType]! as RawImage['channels'];
  const out = new Uint8Array(n * channels);
  // PIL: 16-bit grey opens as mode I and convert() clips it to 0–255; other 16-bit modes keep the high byte.
  const clipGrey = h.bitDepth === 16 && h.colorType === 0;
  const shift = h.bitDepth === 16 && !clipGrey ? 8 : 0;
  for (let i = 0; i < out.length; i++) out[i] = clipGrey ? Math.min(s[i]!, 255) : s[i]! >> shift;
  return { data: out, width: h.width, height: h.height, channels };
}

/** Palette images become RGB, or RGBA when a tRNS chunk gives alpha (entries past its list are opaque). */
function expandPalette(s: Uint16Array, h: PngHeader, bytes: Uint8Array, chunks: Chunk[], name: string): RawImage {
  const plte = chunks.find(c => c.type === 'PLTE');
  if (!plte || plte.length % 3 !== 0 || plte.length === 0) throw new ImageInputError(name, `corrupt PNG: a palette image needs a PLTE chunk of 3·n bytes, found ${plte ? plte.length : 'none'}`);
  const trns = chunks.find(c => c.type === 'tRNS');
  const channels = trns ? 4 : 3;
  const entries = plte.length / 3;
  const table = new Uint8Array(256 * channels);
  for (let i = 0; i < 256; i++) {
    for (let k = 0; k < 3; k++) table[i * channels + k] = i < entries ? bytes[plte.start + 8 + i * 3 + k]! : 0;
    if (trns) table[i * channels + 3] = i < trns.length ? bytes[trns.start + 8 + i]! : 255;
  }
  const out = new Uint8Array(s.length * channels);
  for (let i = 0; i < s.length; i++) out.set(table.subarray(s[i]! * channels, s[i]! * channels + channels), i * channels);
  return { data: out, width: h.width, height: h.height, channels };
}

/** Decode a PNG; `orientation` is its eXIf chunk's value (1 when absent), not applied. `work` counts bytes inflated.
 *  Only the default image (IDAT) is decoded: APNG frames (fdAT) are never inflated. */
export function decodePng(bytes: Uint8Array, name: string, maxPixels: number, work: DecodeWork = { used: 0, budget: 0 }): { image: RawImage; orientation: number } {
  if (!isPng(bytes)) throw new ImageInputError(name, 'not a PNG (bad signature)');
  const header = readPngHeader(bytes, name);
  checkPixelLimit(header.width, header.height, maxPixels, name);
  const chunks = scanChunks(bytes, name);
  if (!chunks.some(c => c.type === 'IDAT')) throw new ImageInputError(name, 'truncated PNG: no image data (no IDAT chunk)');
  const exif = chunks.find(c => c.type === 'eXIf');
  const orientation = exif ? readExifOrientation(bytes.subarray(exif.start + 8, exif.start + 8 + exif.length)) : 1;
  Object.assign(work, { format: 'PNG', unit: 'inflated bytes', used: 0, budget: 0 });
  const data = inflateImageData(bytes, chunks, header, name, work);
  return { image: toRaw(samples(data, header, name), header, bytes, chunks, name), orientation };
}
