// Hand-crafted hostile inputs (issue #18's classes), each a family with parameters drawn from the case's PRNG:
//  - progressive-JPEG work bombs: a huge frame, an AC table whose only code (1 bit) is the EOB-run symbol 0xE0,
//    then many ~40-byte refinement scans (Ss=1 Se=63 Ah=1 Al=0), each of which makes a naive decoder walk every
//    coefficient of the image; and other header-vs-data mismatches (huge frame, little data);
//  - PNGs whose header promises much and whose data is tiny, or inflates far beyond the image, or is split into
//    thousands of chunks;
//  - ONNX files with a STRING / float / int64 initializer of huge dims and no or little data (the issue's 67-byte one),
//    external data through a symlink, at /dev/zero, outside the folder, with huge offsets and lengths.

import { zlibSync } from 'fflate';
import { concat, concatAll } from './mutate.js';
import { pngChunk, PNG_SIGNATURE } from './png-mutate.js';
import { type Field, pb, writeMessage } from './protobuf.js';
import type { Rng } from './rng.js';

export interface FolderFile { name: string; bytes?: Uint8Array; symlink?: string }

const seg = (marker: number, body: number[] | Uint8Array): Uint8Array => {
  const len = body.length + 2;
  return concat(Uint8Array.of(0xff, marker, len >> 8, len & 0xff), Uint8Array.from(body));
};

/** MSB-first bit writer with JPEG byte stuffing; pads the last byte with ones. */
class BitWriter {
  private bytes: number[] = [];
  private acc = 0;
  private n = 0;
  write(value: number, bits: number): void {
    for (let i = bits - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((value >> i) & 1);
      if (++this.n === 8) this.flushByte();
    }
  }
  private flushByte(): void {
    this.bytes.push(this.acc);
    if (this.acc === 0xff) this.bytes.push(0x00);
    this.acc = 0; this.n = 0;
  }
  finish(): Uint8Array {
    while (this.n !== 0) this.write(1, 1);
    return Uint8Array.from(this.bytes);
  }
}

/** One ≈40-byte AC scan whose every symbol is a maximal EOB run (0xE0 + 14 bits) until all blocks are covered. */
function eobRunScan(blocks: number, ah: number, al: number): Uint8Array {
  const w = new BitWriter();
  for (let left = blocks; left > 0; left -= 32767) {
    w.write(0, 1);                 // the 1-bit code of symbol 0xE0 (EOBRUN, r = 14)
    w.write(0x3fff, 14);           // EOBRUN = 2^14 + 16383 = 32767 blocks
  }
  return concat(seg(0xda, [1, 1, 0x00, 1, 63, (ah << 4) | al]), w.finish());
}

/** The progressive-JPEG refinement bomb (one grey component). */
export function progressiveBomb(rng: Rng): { desc: string; bytes: Uint8Array } {
  const [w, h] = rng.pick([[6320, 6320], [4096, 4096], [8000, 2000], [6320, 6320]] as const);
  const scans = rng.pick([200, 1000, 4000]);
  const withDc = rng.chance(0.7);
  const refine = rng.chance(0.8);
  const blocks = Math.ceil(w / 8) * Math.ceil(h / 8);
  const parts: Uint8Array[] = [Uint8Array.of(0xff, 0xd8)];
  parts.push(seg(0xdb, [0x00, ...new Array(64).fill(1)]));
  parts.push(seg(0xc2, [8, h >> 8, h & 0xff, w >> 8, w & 0xff, 1, 1, 0x11, 0]));
  parts.push(seg(0xc4, [0x00, 1, ...new Array(15).fill(0), 0x00]));     // DC table 0: one 1-bit code, category 0
  parts.push(seg(0xc4, [0x10, 1, ...new Array(15).fill(0), 0xe0]));     // AC table 0: one 1-bit code, EOBRUN r=14
  if (withDc) {
    const dc = new BitWriter();
    for (let i = 0; i < blocks; i++) dc.write(0, 1);
    parts.push(seg(0xda, [1, 1, 0x00, 0, 0, 0x00]), dc.finish());
  }
  if (refine) parts.push(eobRunScan(blocks, 0, 1));                    // a first AC scan, then refinements
  const scan = eobRunScan(blocks, refine ? 1 : 0, 0);
  for (let i = 0; i < scans; i++) parts.push(scan);
  parts.push(Uint8Array.of(0xff, 0xd9));
  return { desc: `progressive bomb ${w}×${h}, ${scans} ${refine ? 'refinement' : 'first'} scans${withDc ? '' : ', no DC scan'}`, bytes: concatAll(parts) };
}

/** A baseline or progressive JPEG with a big frame and almost no entropy data. */
export function jpegHugeFrame(rng: Rng): { desc: string; bytes: Uint8Array } {
  const w = rng.pick([6320, 8192, 40000, 65535]), h = rng.pick([1, 6320, 1000, 65535]);
  const sof = rng.pick([0xc0, 0xc1, 0xc2]);
  const comps = rng.pick([1, 3]);
  const compBytes = comps === 1 ? [1, 0x11, 0] : [1, 0x22, 0, 2, 0x11, 0, 3, 0x11, 0];
  const parts = [Uint8Array.of(0xff, 0xd8), seg(0xdb, [0x00, ...new Array(64).fill(1)]),
    seg(sof, [8, h >> 8, h & 0xff, w >> 8, w & 0xff, comps, ...compBytes]),
    seg(0xc4, [0x00, 1, ...new Array(15).fill(0), 0x00]), seg(0xc4, [0x10, 1, ...new Array(15).fill(0), 0x00])];
  const scanComps = comps === 1 ? [1, 0x00] : [1, 0x00, 2, 0x00, 3, 0x00];
  parts.push(seg(0xda, [comps, ...scanComps, 0, sof === 0xc2 ? 0 : 63, 0]), new Uint8Array(rng.pick([0, 1, 100])));
  if (rng.chance(0.5)) parts.push(Uint8Array.of(0xff, 0xd9));
  return { desc: `JPEG SOF${sof - 0xc0} ${w}×${h}×${comps} with little data`, bytes: concatAll(parts) };
}

function ihdr(w: number, h: number, depth: number, colorType: number, interlace: number): Uint8Array {
  const d = new Uint8Array(13);
  const v = new DataView(d.buffer);
  v.setUint32(0, w); v.setUint32(4, h);
  d[8] = depth; d[9] = colorType; d[12] = interlace;
  return pngChunk('IHDR', d);
}

/** PNGs whose header and data disagree: huge frame and tiny data, a zlib bomb, thousands of chunks. */
export function pngCrafted(rng: Rng): { desc: string; bytes: Uint8Array } {
  const what = rng.int(3);
  if (what === 0) {
    const w = rng.pick([6320, 40000, 1 << 20]), h = rng.pick([1, 1000, 6320]);
    const data = zlibSync(new Uint8Array(rng.pick([0, 10, 100000])));
    return { desc: `PNG ${w}×${h} with ${data.length} bytes of data`,
      bytes: concat(PNG_SIGNATURE, ihdr(w, h, 8, rng.pick([0, 2, 6]), rng.int(2)), pngChunk('IDAT', data), pngChunk('IEND', new Uint8Array(0))) };
  }
  if (what === 1) {
    const mb = rng.pick([16, 64, 200]);
    const data = zlibSync(new Uint8Array(mb << 20), { level: 9 });
    return { desc: `PNG 16×16 whose data inflates to ${mb} MiB`,
      bytes: concat(PNG_SIGNATURE, ihdr(16, 16, 8, 2, 0), pngChunk('IDAT', data), pngChunk('IEND', new Uint8Array(0))) };
  }
  const n = rng.pick([10000, 100000]);
  const data = zlibSync(new Uint8Array(64 * (1 + 64 * 3)));
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < n; i++) pieces.push(pngChunk(i % 2 ? 'tEXt' : 'IDAT', i === 0 ? data : new Uint8Array(0)));
  return { desc: `PNG 64×64 in ${n} chunks`, bytes: concatAll([PNG_SIGNATURE, ihdr(64, 64, 8, 2, 0), ...pieces, pngChunk('IEND', new Uint8Array(0))]) };
}

// ONNX: ModelProto { ir_version 1, opset_import 8 { version 2 }, graph 7 { initializer 5, input 11, output 12 } }
const ELEM = { float: 1, int64: 7, string: 8, double: 11 } as const;

function tensorProto(name: string, dims: bigint[], dataType: number, extra: Field[] = []): Field[] {
  return [...dims.map(d => pb.int(1, d)), pb.int(2, dataType), pb.str(8, name), ...extra];
}

function valueInfo(name: string, elem: number, dims: number[]): Field[] {
  return [pb.str(1, name), pb.sub(2, [pb.sub(1, [pb.int(1, elem), pb.sub(2, dims.map(d => pb.sub(1, [pb.int(1, d)])))])])];
}

/** A model whose graph is `Y = Identity(W)` or `Y = Add(X, W)` around one initializer. */
function modelAround(tensor: Field[], opts: { add?: boolean } = {}): Uint8Array {
  const node = opts.add ? [pb.str(1, 'X'), pb.str(1, 'W'), pb.str(2, 'Y'), pb.str(4, 'Add')] : [pb.str(1, 'W'), pb.str(2, 'Y'), pb.str(4, 'Identity')];
  const graph: Field[] = [pb.sub(1, node), pb.str(2, 'g'), pb.sub(5, tensor)];
  if (opts.add) graph.push(pb.sub(11, valueInfo('X', ELEM.float, [1, 4])));
  graph.push(pb.sub(12, [pb.str(1, 'Y')]));
  return writeMessage([pb.int(1, 8), pb.sub(8, [pb.int(2, 13)]), pb.sub(7, graph)]);
}

/** The issue's STRING-bomb model, pared to 26 bytes: a STRING initializer of dims [2^28] and no data. */
export function stringBomb(): Uint8Array {
  return writeMessage([pb.int(1, 8), pb.sub(8, [pb.int(2, 13)]),
    pb.sub(7, [pb.sub(5, tensorProto('s', [2n ** 28n], ELEM.string)), pb.sub(12, [pb.str(1, 's')])])]);
}

const HUGE_DIMS: bigint[][] = [[2n ** 28n], [2n ** 31n], [2n ** 32n], [65536n, 65536n], [2n ** 40n], [2n ** 62n, 4n],
  [1n, 3n, 32768n, 32768n], [2n ** 63n - 1n], [BigInt.asUintN(64, -1n)], [0n], [2n ** 28n, 0n]];

export function onnxCrafted(rng: Rng): { desc: string; bytes: Uint8Array; files?: FolderFile[] } {
  const what = rng.weighted([1, 3, 3, 4]);
  if (what === 0) return { desc: 'STRING initializer dims [2^28], no data (26 bytes)', bytes: stringBomb() };
  const dims = rng.pick(HUGE_DIMS);
  const dimText = `[${dims.join(', ')}]`;
  if (what === 1) {
    const type = rng.pick([ELEM.string, ELEM.float, ELEM.int64, ELEM.double]);
    const extra = type === ELEM.string ? [pb.bytes(6, Uint8Array.of(65))] : [];
    return { desc: `type-${type} initializer dims ${dimText} with one element`, bytes: modelAround(tensorProto('W', dims, type, extra), { add: rng.chance(0.5) }) };
  }
  if (what === 2) {
    const data = rng.pick([0, 4, 16, 4096]);
    const field = rng.chance(0.7) ? pb.bytes(9, new Uint8Array(data)) : pb.f32(4, 1);
    return { desc: `float initializer dims ${dimText} with ${field.no === 9 ? data + ' raw bytes' : 'one float_data'}`,
      bytes: modelAround(tensorProto('W', dims, ELEM.float, [field]), { add: rng.chance(0.5) }) };
  }
  // External data in a folder: the model is written as model.onnx next to the files listed.
  const target = rng.pick(['/dev/zero', '/dev/urandom', '/etc/hostname', '/proc/self/mem', '/', '..', '.']);
  const link = rng.chance(0.6);
  const location = link ? 'w.bin' : rng.pick(['/dev/zero', '../../../../dev/zero', 'sub/../w.bin', 'missing.bin', 'dir', '']);
  const smallDims = rng.chance(0.6);
  const tdims = smallDims ? [1n, 4n] : dims;
  const ext: Field[] = [pb.sub(13, [pb.str(1, 'location'), pb.str(2, location)])];
  if (rng.chance(0.5)) ext.push(pb.sub(13, [pb.str(1, 'offset'), pb.str(2, rng.pick(['0', '4096', '9007199254740993', '-16', '1e3']))]));
  if (rng.chance(0.5)) ext.push(pb.sub(13, [pb.str(1, 'length'), pb.str(2, rng.pick(['16', '0', '1073741824', '18446744073709551615']))]));
  const files: FolderFile[] = link ? [{ name: 'w.bin', symlink: target }] : [{ name: 'dir', symlink: '.' }];
  const tensor = tensorProto('W', tdims, ELEM.float, [...ext, pb.int(14, 1)]);
  return { desc: `external data '${location}'${link ? ` → symlink to ${target}` : ''}, dims [${tdims.join(', ')}]`,
    bytes: modelAround(tensor, { add: smallDims }), files };
}
