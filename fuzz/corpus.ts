// The seeds the mutators start from, in a fixed order (sorted paths, then generated PNGs), so case i is the same
// bytes wherever ../shared has the same files; the fingerprint printed with every run says which corpus it used.

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { zlibSync } from 'fflate';
import { concatAll } from './mutate.js';
import { pngChunk, PNG_SIGNATURE } from './png-mutate.js';
import { stringBomb } from './crafted.js';

export const REPO = path.resolve(import.meta.dirname, '..');
export const SHARED = path.resolve(REPO, '..', 'shared');

/** Largest photo from ../shared/images taken as a seed: mutating big files is slow and adds little. */
const MAX_SHARED_IMAGE = 64 * 1024;

export interface Seed { name: string; bytes: Uint8Array; dataFile?: Uint8Array }   // dataFile: model.onnx.data beside it

export interface Corpus { images: Seed[]; models: Seed[]; fingerprint: string }

function files(dir: string, pred: (p: string, size: number) => boolean): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .map(f => path.join(dir, f))
    .filter(p => { const st = fs.statSync(p); return st.isFile() && pred(p, st.size); })
    .sort();
}

function read(p: string): Seed {
  return { name: path.relative(path.dirname(REPO), p), bytes: new Uint8Array(fs.readFileSync(p)) };
}

/** A PNG of any colour type and depth, Adam7 or not, with varied filter types per row (a small encoder of our own). */
export function makePng(w: number, h: number, depth: number, colorType: number, interlace: boolean): Uint8Array {
  const samples = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[colorType]!;
  const bpp = Math.max(1, (samples * depth) >> 3);
  const passes = interlace
    ? [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]]
    : [[0, 0, 1, 1]];
  const max = colorType === 3 ? Math.min(255, (1 << depth) - 1) : (1 << depth) - 1;
  const rows: Uint8Array[] = [];
  let filter = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const pw = Math.ceil((w - x0!) / dx!), ph = Math.ceil((h - y0!) / dy!);
    if (pw <= 0 || ph <= 0) continue;
    const rowBytes = Math.ceil((pw * samples * depth) / 8);
    let prev = new Uint8Array(rowBytes);
    for (let r = 0; r < ph; r++) {
      const y = y0! + r * dy!;
      const raw = new Uint8Array(rowBytes);
      let bit = 0;
      for (let c = 0; c < pw; c++) {
        const x = x0! + c * dx!;
        for (let s = 0; s < samples; s++) {
          const v = ((x * 37 + y * 101 + s * 53) * 2654435761) % (max + 1);
          for (let b = depth - 1; b >= 0; b--, bit++) if ((v >> b) & 1) raw[bit >> 3]! |= 0x80 >> (bit & 7);
        }
      }
      const f = filter++ % 5;
      const out = new Uint8Array(rowBytes + 1);
      out[0] = f;
      for (let i = 0; i < rowBytes; i++) {
        const a = i >= bpp ? raw[i - bpp]! : 0, up = prev[i]!, c = i >= bpp ? prev[i - bpp]! : 0;
        const p = a + up - c, pa = Math.abs(p - a), pb = Math.abs(p - up), pc = Math.abs(p - c);
        const pred = [0, a, up, (a + up) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? up : c][f]!;
        out[i + 1] = (raw[i]! - pred) & 0xff;
      }
      rows.push(out);
      prev = raw;
    }
  }
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, w); v.setUint32(4, h);
  ihdr[8] = depth; ihdr[9] = colorType; ihdr[12] = interlace ? 1 : 0;
  const chunks = [pngChunk('IHDR', ihdr)];
  if (colorType === 3) {
    const n = 1 << Math.min(depth, 8);
    chunks.push(pngChunk('PLTE', Uint8Array.from({ length: 3 * n }, (_, i) => (i * 29) & 0xff)));
    chunks.push(pngChunk('tRNS', Uint8Array.from({ length: Math.min(n, 7) }, (_, i) => i * 40)));
  }
  if (colorType === 0 && depth === 16) chunks.push(pngChunk('tRNS', Uint8Array.of(0, 7)));
  chunks.push(pngChunk('IDAT', zlibSync(concatAll(rows))), pngChunk('IEND', new Uint8Array(0)));
  return concatAll([PNG_SIGNATURE, ...chunks]);
}

function generatedPngs(): Seed[] {
  const out: Seed[] = [];
  const combos: [number, number[]][] = [[0, [1, 2, 4, 8, 16]], [2, [8, 16]], [3, [1, 2, 4, 8]], [4, [8, 16]], [6, [8, 16]]];
  let k = 0;
  for (const [ct, depths] of combos) {
    for (const d of depths) {
      for (const interlace of [false, true]) {
        const w = [1, 7, 13, 33][k % 4]!, h = [5, 9, 1, 17][(k >> 1) % 4]!;
        out.push({ name: `generated/ct${ct}-d${d}${interlace ? '-adam7' : ''}-${w}x${h}.png`, bytes: makePng(w, h, d, ct, interlace) });
        k++;
      }
    }
  }
  return out;
}

export function loadCorpus(): Corpus {
  const isImage = (p: string) => /\.(jpe?g|png)$/i.test(p);
  const images = [
    ...files(path.join(REPO, 'test/image/data/jpeg'), p => /\.jpg$/.test(p)).map(read),
    read(path.join(REPO, 'assets/coffee.png')),
    ...files(path.join(SHARED, 'images'), (p, size) => isImage(p) && size <= MAX_SHARED_IMAGE).map(read),
    ...generatedPngs(),
  ];
  const models: Seed[] = [
    ...files(path.join(SHARED, 'fixtures'), p => /\/model\.onnx$/.test(p)).map(p => {
      const seed = read(p);
      const data = `${p}.data`;
      return fs.existsSync(data) ? { ...seed, dataFile: new Uint8Array(fs.readFileSync(data)) } : seed;
    }),
    ...files(path.join(SHARED, 'fixtures/bad'), p => /\.onnx$/.test(p)).map(read),
    ...files(path.join(SHARED, 'zoo/small'), p => /\.onnx$/.test(p)).map(read),
    { name: 'crafted/string-2^28.onnx', bytes: stringBomb() },
  ];
  const h = createHash('sha256');
  for (const s of [...images, ...models]) { h.update(s.name); h.update(s.bytes); if (s.dataFile) h.update(s.dataFile); }
  return { images, models, fingerprint: h.digest('hex').slice(0, 12) };
}
