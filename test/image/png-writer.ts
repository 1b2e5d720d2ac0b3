// A small PNG encoder for tests, written from the PNG spec and independent of pngjs: any colour type and bit
// depth, Adam7 interlacing, PLTE/tRNS/eXIf chunks, and raw chunk access for crafting broken files.

import zlib from 'node:zlib';

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
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function chunk(type: string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

export const SIGNATURE = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function ihdr(width: number, height: number, bitDepth: number, colorType: number, interlace = 0): Uint8Array {
  const d = new Uint8Array(13);
  const view = new DataView(d.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  d.set([bitDepth, colorType, 0, 0, interlace], 8);
  return chunk('IHDR', d);
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const SAMPLES: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Filter-type-0 scanlines of the pixels (x, y) in `xs` × `ys`, samples packed MSB first / 16-bit big-endian. */
function scanlines(samples: ArrayLike<number>, width: number, spp: number, depth: number, xs: number[], ys: number[]): number[] {
  const out: number[] = [];
  for (const y of ys) {
    out.push(0);
    let acc = 0;
    let bits = 0;
    for (const x of xs) {
      for (let s = 0; s < spp; s++) {
        const v = samples[(y * width + x) * spp + s]!;
        if (depth === 16) out.push(v >> 8, v & 0xff);
        else if (depth === 8) out.push(v);
        else {
          acc = (acc << depth) | v;
          bits += depth;
          if (bits === 8) { out.push(acc); acc = 0; bits = 0; }
        }
      }
    }
    if (bits > 0) out.push(acc << (8 - bits));
  }
  return out;
}

const range = (start: number, end: number, step: number) => {
  const r: number[] = [];
  for (let i = start; i < end; i += step) r.push(i);
  return r;
};

const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] as const;

export interface PngSpec {
  width: number;
  height: number;
  colorType: 0 | 2 | 3 | 4 | 6;
  bitDepth: 1 | 2 | 4 | 8 | 16;
  samples: ArrayLike<number>;        // (height, width, samples per pixel); palette images: indices
  interlace?: boolean;
  palette?: number[][];              // [r, g, b] entries
  trns?: number[];                   // palette alphas, or the transparent grey / RGB sample values
  exif?: Uint8Array;                 // eXIf chunk payload (TIFF)
}

export function imageData(spec: PngSpec): Uint8Array {
  const spp = SAMPLES[spec.colorType]!;
  const passes: number[][] = [];
  if (!spec.interlace) {
    passes.push(scanlines(spec.samples, spec.width, spp, spec.bitDepth, range(0, spec.width, 1), range(0, spec.height, 1)));
  } else {
    for (const [x0, y0, dx, dy] of ADAM7) {
      const xs = range(x0, spec.width, dx);
      const ys = range(y0, spec.height, dy);
      if (xs.length && ys.length) passes.push(scanlines(spec.samples, spec.width, spp, spec.bitDepth, xs, ys));
    }
  }
  return new Uint8Array(zlib.deflateSync(Uint8Array.from(passes.flat())));
}

export function writePng(spec: PngSpec): Uint8Array {
  const parts = [SIGNATURE, ihdr(spec.width, spec.height, spec.bitDepth, spec.colorType, spec.interlace ? 1 : 0)];
  if (spec.exif) parts.push(chunk('eXIf', spec.exif));
  if (spec.palette) parts.push(chunk('PLTE', Uint8Array.from(spec.palette.flat())));
  if (spec.trns) {
    const t = spec.colorType === 3 ? Uint8Array.from(spec.trns) : Uint8Array.from(spec.trns.flatMap(v => [v >> 8, v & 0xff]));
    parts.push(chunk('tRNS', t));
  }
  parts.push(chunk('IDAT', imageData(spec)), chunk('IEND'));
  return concat(parts);
}

/** A minimal big-endian TIFF block whose IFD0 holds only the Orientation tag (0x0112, SHORT). */
export function exifWithOrientation(orientation: number, littleEndian = false): Uint8Array {
  const b = new Uint8Array(26);
  const view = new DataView(b.buffer);
  b.set(littleEndian ? [0x49, 0x49] : [0x4d, 0x4d], 0);
  view.setUint16(2, 42, littleEndian);
  view.setUint32(4, 8, littleEndian);
  view.setUint16(8, 1, littleEndian);
  view.setUint16(10, 0x0112, littleEndian);
  view.setUint16(12, 3, littleEndian);
  view.setUint32(14, 1, littleEndian);
  view.setUint16(18, orientation, littleEndian);
  view.setUint32(22, 0, littleEndian);
  return b;
}
