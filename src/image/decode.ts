// The decoding front door: sniff the magic bytes, decode JPEG and PNG, refuse every other format by name,
// check the pixel limit from the header before any pixel buffer exists, and apply the EXIF orientation
// as PIL.ImageOps.exif_transpose does (transformers' `load_image` calls it before `convert('RGB')`).

import { ImageInputError } from './errors.js';
import { decodeJpeg, JpegError, readJpegHeader } from './jpeg/index.js';
import { applyExifOrientation } from './orientation.js';
import { checkPixelLimit, resolveMaxPixels, type DecodeWork } from './limits.js';
import { decodePng, isPng } from './png.js';
import type { RawImage } from './types.js';

export interface DecodeOptions {
  /** Refuse images with more pixels than this (default 40 megapixels), checked from the header. */
  maxPixels?: number;
  /** How errors name the input: a path, a URL, 'input 3'. Default 'input'. */
  name?: string;
  /** Filled in with what the decode cost against its format's budget (see DecodeWork). */
  work?: DecodeWork;
}

function startsWith(bytes: Uint8Array, sig: readonly number[], at = 0): boolean {
  if (bytes.length < at + sig.length) return false;
  for (let i = 0; i < sig.length; i++) if (bytes[at + i] !== sig[i]) return false;
  return true;
}

function ascii(s: string): number[] {
  return [...s].map(ch => ch.charCodeAt(0));
}

const HEIF_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs', 'mif1', 'msf1', 'mif2']);

/** ISO base media files ("....ftyp<brand>"): AVIF/HEIF by brand, anything else is a video or other media. */
function isoMediaFormat(bytes: Uint8Array): string | null {
  if (!startsWith(bytes, ascii('ftyp'), 4) || bytes.length < 12) return null;
  const brand = String.fromCharCode(...bytes.subarray(8, 12));
  if (brand === 'avif' || brand === 'avis') return 'AVIF';
  if (HEIF_BRANDS.has(brand)) return 'HEIC/HEIF';
  return `ISO media ('${brand.trim()}', e.g. MP4/QuickTime)`;
}

/** Text formats: SVG, other XML; leading BOM and whitespace are skipped. */
function textFormat(bytes: Uint8Array): string | null {
  let i = startsWith(bytes, [0xef, 0xbb, 0xbf]) ? 3 : 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d)) i++;
  const head = String.fromCharCode(...bytes.subarray(i, i + 1024)).toLowerCase();
  if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg'))) return 'SVG';
  if (head.startsWith('<?xml')) return 'XML';
  return null;
}

const SIGNATURES: [string, number[], number?][] = [
  ['GIF', ascii('GIF87a')], ['GIF', ascii('GIF89a')],
  ['TIFF', [0x49, 0x49, 0x2a, 0x00]], ['TIFF', [0x4d, 0x4d, 0x00, 0x2a]],
  ['TIFF', [0x49, 0x49, 0x2b, 0x00]], ['TIFF', [0x4d, 0x4d, 0x00, 0x2b]],
  ['BMP', ascii('BM')],
  ['ICO', [0x00, 0x00, 0x01, 0x00]], ['ICO', [0x00, 0x00, 0x02, 0x00]],
  ['PSD', ascii('8BPS')],
  ['JPEG 2000', [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a]], ['JPEG 2000', [0xff, 0x4f, 0xff, 0x51]],
  ['JPEG XL', [0x00, 0x00, 0x00, 0x0c, 0x4a, 0x58, 0x4c, 0x20, 0x0d, 0x0a, 0x87, 0x0a]], ['JPEG XL', [0xff, 0x0a]],
  ['QOI', ascii('qoif')],
  ['OpenEXR', [0x76, 0x2f, 0x31, 0x01]],
  ['DDS', ascii('DDS ')],
];

/** The format the bytes announce: 'JPEG', 'PNG', a refused format's name, or null for "not an image". */
export function detectFormat(bytes: Uint8Array): string | null {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'JPEG';
  if (isPng(bytes)) return 'PNG';
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return 'WebP';
  for (const [format, sig, at] of SIGNATURES) if (startsWith(bytes, sig, at)) return format;
  if (bytes.length >= 3 && bytes[0] === 0x50 && bytes[1]! >= 0x31 && bytes[1]! <= 0x37 && [0x20, 0x09, 0x0a, 0x0d].includes(bytes[2]!)) {
    return 'PNM (PBM/PGM/PPM)';
  }
  return isoMediaFormat(bytes) ?? textFormat(bytes);
}

function hexHead(bytes: Uint8Array): string {
  return [...bytes.subarray(0, 4)].map(b => b.toString(16).padStart(2, '0')).join(' ');
}

function jpegFailure(name: string, e: unknown): ImageInputError {
  const detail = e instanceof JpegError ? e.detail : (e as Error).message;
  return new ImageInputError(name, `cannot decode JPEG (${detail})`, { cause: e });
}

function decodeJpegImage(bytes: Uint8Array, name: string, maxPixels: number, work?: DecodeWork): RawImage {
  let header: { width: number; height: number };
  try {
    header = readJpegHeader(bytes);
  } catch (e) {
    throw jpegFailure(name, e);
  }
  checkPixelLimit(header.width, header.height, maxPixels, name);
  let decoded: ReturnType<typeof decodeJpeg>;
  try {
    decoded = decodeJpeg(bytes, { maxPixels });
  } catch (e) {
    throw jpegFailure(name, e);
  }
  if (work) Object.assign(work, { format: 'JPEG', unit: 'coefficient visits', used: decoded.work.used, budget: decoded.work.budget });
  const image: RawImage = { data: decoded.data, width: decoded.width, height: decoded.height, channels: decoded.channels };
  return applyExifOrientation(image, decoded.orientation);
}

/** Encoded JPEG or PNG bytes → RawImage (PIL's mode: L, LA, RGB or RGBA), upright per its EXIF orientation. */
export function decodeImage(bytes: Uint8Array, opts: DecodeOptions = {}): RawImage {
  const name = opts.name ?? 'input';
  const maxPixels = resolveMaxPixels(opts.maxPixels);
  if (bytes.length === 0) throw new ImageInputError(name, 'is empty (0 bytes), not an image');
  const format = detectFormat(bytes);
  if (format === 'JPEG') return decodeJpegImage(bytes, name, maxPixels, opts.work);
  if (format === 'PNG') {
    const { image, orientation } = decodePng(bytes, name, maxPixels, opts.work);
    return applyExifOrientation(image, orientation);
  }
  if (format === 'XML' || format?.startsWith('ISO media')) {
    throw new ImageInputError(name, `not an image (${format} file; JPEG and PNG are supported)`);
  }
  if (format) throw new ImageInputError(name, `${format} images are not supported (JPEG and PNG are)`);
  throw new ImageInputError(name, `not an image (starts with ${hexHead(bytes)})`);
}
