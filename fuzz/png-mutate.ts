// PNG-aware mutations: the file split into chunks, IHDR fields changed, chunks duplicated, dropped, swapped or
// split, the image data inflated, its scanlines (filter bytes, samples) corrupted and deflated again, and the CRCs
// recomputed most of the time, so the mutation gets past the CRC check and reaches the decoder.

import { unzlibSync, zlibSync } from 'fflate';
import { INTERESTING_32, concat, concatAll } from './mutate.js';
import type { Rng } from './rng.js';

export const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

export interface Chunk { type: string; data: Uint8Array; crc?: number }   // crc set: written as is (maybe wrong)

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(parts: readonly Uint8Array[]): number {
  let c = 0xffffffff;
  for (const p of parts) for (let i = 0; i < p.length; i++) c = CRC_TABLE[(c ^ p[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const typeBytes = (t: string): Uint8Array => Uint8Array.from(t, ch => ch.charCodeAt(0) & 0xff);

/** Chunks of a PNG, or null without the signature; a chunk running past the end keeps what is there. */
export function parsePng(bytes: Uint8Array): Chunk[] | null {
  if (bytes.length < 8 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) return null;
  const chunks: Chunk[] = [];
  let pos = 8;
  while (pos + 8 <= bytes.length) {
    const len = ((bytes[pos]! << 24) | (bytes[pos + 1]! << 16) | (bytes[pos + 2]! << 8) | bytes[pos + 3]!) >>> 0;
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8));
    const end = Math.min(bytes.length, pos + 8 + len);
    chunks.push({ type, data: bytes.slice(pos + 8, end) });
    pos = end + 4;
  }
  return chunks;
}

export function pngChunk(type: string, data: Uint8Array, crc?: number): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(typeBytes(type).subarray(0, 4), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc ?? crc32([out.subarray(4, 8), data]));
  return out;
}

export function serializePng(chunks: readonly Chunk[]): Uint8Array {
  return concatAll([PNG_SIGNATURE, ...chunks.map(c => pngChunk(c.type, c.data, c.crc))]);
}

function mutateIhdr(rng: Rng, c: Chunk): string {
  const d = (c.data = c.data.slice());
  if (d.length < 13) return 'IHDR short';
  const view = new DataView(d.buffer);
  const what = rng.int(6);
  if (what <= 1) view.setUint32(what * 4, rng.pick([...INTERESTING_32, 6320, 8193, 40000, 1 << 20]));
  else if (what === 2) d[8] = rng.pick([0, 1, 2, 3, 4, 5, 8, 16, 32, 255]);
  else if (what === 3) d[9] = rng.pick([0, 1, 2, 3, 4, 5, 6, 7, 255]);
  else if (what === 4) d[12] = rng.pick([0, 1, 2, 255]);
  else d[10 + rng.int(2)] = rng.pick([1, 2, 255]);
  return 'IHDR';
}

/** Inflate the IDAT stream, corrupt the filtered scanlines, deflate again into one or many IDATs. */
function mutateImageData(rng: Rng, chunks: Chunk[]): string {
  const idat = chunks.filter(c => c.type === 'IDAT');
  if (idat.length === 0) return 'no IDAT';
  let raw: Uint8Array;
  try {
    raw = unzlibSync(concatAll(idat.map(c => c.data)));
  } catch {
    return 'IDAT not inflatable';
  }
  const what = rng.int(4);
  let name: string;
  if (what === 0) {                                   // filter-type bytes (the first byte of rows, roughly)
    raw = raw.slice();
    for (let k = rng.pick([1, 4, 32]); k > 0 && raw.length; k--) raw[rng.int(raw.length)] = rng.pick([0, 1, 2, 3, 4, 5, 255]);
    name = 'scanline-bytes';
  } else if (what === 1) {
    raw = raw.slice(0, rng.int(raw.length + 1));
    name = 'scanlines-short';
  } else if (what === 2) {
    raw = concat(raw, new Uint8Array(rng.pick([1, 1000, 1 << 20, 16 << 20])));    // too much data, zeros compress well
    name = 'scanlines-long';
  } else {
    raw = raw.slice();
    for (let k = rng.pick([1, 8, 64]); k > 0 && raw.length; k--) raw[rng.int(raw.length)] ^= 1 << rng.int(8);
    name = 'scanline-bits';
  }
  const z = zlibSync(raw, { level: 6 });
  const first = chunks.indexOf(idat[0]!);
  const rest = chunks.filter(c => c.type !== 'IDAT');
  const pieces: Chunk[] = [];
  // Sometimes many small IDATs (at most 20,000: a 1-byte split of a big stream would be millions).
  const size = Math.max(rng.chance(0.2) ? rng.pick([1, 7, 100]) : z.length || 1, Math.ceil(z.length / 20000));
  for (let at = 0; at < z.length; at += size) pieces.push({ type: 'IDAT', data: z.subarray(at, at + size) });
  const at = Math.min(first, rest.length);
  chunks.length = 0;
  for (const c of [...rest.slice(0, at), ...pieces, ...rest.slice(at)]) chunks.push(c);
  return name;
}

/** One chunk-aware mutation; the CRCs are recomputed with probability fixCrc, else the old ones stay. */
export function mutatePng(rng: Rng, chunks: Chunk[], fixCrc: number): { name: string; chunks: Chunk[] } {
  const out = chunks.map(c => ({ ...c }));
  const before = new Map(out.map(c => [c, c.data] as const));
  let name: string;
  switch (rng.weighted([3, 3, 1, 1, 1, 1, 2])) {
    case 0: {
      const ihdr = out.find(c => c.type === 'IHDR');
      name = ihdr ? mutateIhdr(rng, ihdr) : 'no IHDR';
      break;
    }
    case 1: name = mutateImageData(rng, out); break;
    case 2: {
      if (out.length) out.splice(rng.int(out.length), 1);
      name = 'chunk-delete';
      break;
    }
    case 3: {
      if (out.length) {
        const c = rng.pick(out);
        const copies = rng.pick([1, 1, 5, 1000]);
        out.splice(rng.int(out.length + 1), 0, ...Array.from({ length: copies }, () => ({ ...c })));
      }
      name = 'chunk-duplicate';
      break;
    }
    case 4: {
      if (out.length > 1) {
        const i = rng.int(out.length), j = rng.int(out.length);
        [out[i], out[j]] = [out[j]!, out[i]!];
      }
      name = 'chunk-swap';
      break;
    }
    case 5: {
      const type = rng.pick(['PLTE', 'tRNS', 'eXIf', 'IEND', 'IHDR', 'acTL', 'iCCP', 'zTXt']);
      const data = rng.bytes(rng.pick([0, 1, 3, 6, 13, 768, 1024]));
      out.splice(rng.int(out.length + 1), 0, { type, data });
      name = `chunk-insert ${type}`;
      break;
    }
    default: {
      if (out.length) {
        const c = rng.pick(out);
        c.data = c.data.slice();
        if (c.data.length) c.data[rng.int(c.data.length)] = rng.int(256);
        name = `chunk-byte ${c.type}`;
      } else name = 'none';
    }
  }
  const fix = rng.chance(fixCrc);
  for (const c of out) {
    if (fix) delete c.crc;
    else if (c.crc === undefined && before.get(c) !== undefined && before.get(c) !== c.data) {
      c.crc = crc32([typeBytes(c.type), before.get(c)!]);   // the CRC of the data before the change: now wrong
    }
  }
  return { name: fix ? name : `${name} (stale CRC)`, chunks: out };
}
