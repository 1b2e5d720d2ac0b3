// A small JPEG writer for crafting scans in tests, written from ITU T.81 and independent of src/image/jpeg: any SOF
// (baseline or progressive), DQT/DHT/DRI segments, and scans whose entropy-coded data the test builds bit by bit.
// Block counts per scan follow T.81 A.2 (non-interleaved scans cover the component's own blocks, interleaved ones
// whole MCUs), so a test can emit exactly one code per block.

export interface FrameSpec {
  width: number;
  height: number;
  progressive: boolean;
  /** Sampling factors per component (ids 1, 2, 3…; all use quantisation table 0). Default: one 1×1 component. */
  sampling?: [h: number, v: number][];
}

export interface HuffmanSpec {
  tc: 0 | 1;      // 0 DC, 1 AC
  th: number;     // table id 0..3
  /** Code lengths: symbols[i] gets the i-th canonical code; lengths[i] is its length in bits (non-decreasing). */
  lengths: number[];
  symbols: number[];
}

export interface ScanSpec {
  components: number[];   // frame component indices (0-based)
  ss: number;
  se: number;
  ah: number;
  al: number;
  /** Entropy-coded bytes, already byte-stuffed (BitWriter.bytes()). */
  data: Uint8Array;
  /** DC/AC table ids per component; default 0/0. */
  tables?: [number, number][];
}

/** MSB-first bit writer with 0xFF00 stuffing; the last byte is padded with 1 bits, as encoders do. */
export class BitWriter {
  private readonly out: number[] = [];
  private acc = 0;
  private n = 0;

  /** Appends the low `count` bits of `value` (count ≤ 24). */
  put(value: number, count: number): this {
    for (let i = count - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((value >>> i) & 1);
      if (++this.n === 8) this.flushByte();
    }
    return this;
  }

  private flushByte(): void {
    this.out.push(this.acc);
    if (this.acc === 0xff) this.out.push(0);
    this.acc = 0;
    this.n = 0;
  }

  bytes(): Uint8Array {
    if (this.n > 0) this.put((1 << (8 - this.n)) - 1, 8 - this.n);
    return Uint8Array.from(this.out);
  }
}

/** Canonical Huffman codes (T.81 C.2) for `lengths`: the code of each symbol index. */
export function canonicalCodes(lengths: number[]): number[] {
  const codes: number[] = [];
  let code = 0;
  let len = lengths[0] ?? 1;
  for (const l of lengths) {
    code <<= l - len;
    len = l;
    codes.push(code++);
  }
  return codes;
}

/** Blocks one scan covers (T.81 A.2): a single component's own blocks, or whole MCUs of an interleaved scan. */
export function blocksInScan(frame: FrameSpec, components: number[]): number {
  const sampling = frame.sampling ?? [[1, 1]];
  const hmax = Math.max(...sampling.map(s => s[0]));
  const vmax = Math.max(...sampling.map(s => s[1]));
  if (components.length === 1) {
    const [h, v] = sampling[components[0]!]!;
    return Math.ceil(Math.ceil((frame.width * h) / hmax) / 8) * Math.ceil(Math.ceil((frame.height * v) / vmax) / 8);
  }
  const mcus = Math.ceil(frame.width / (8 * hmax)) * Math.ceil(frame.height / (8 * vmax));
  return mcus * components.reduce((n, c) => n + sampling[c]![0] * sampling[c]![1], 0);
}

function segment(marker: number, payload: number[]): number[] {
  const len = payload.length + 2;
  return [0xff, marker, len >> 8, len & 0xff, ...payload];
}

export function writeJpeg(frame: FrameSpec, tables: HuffmanSpec[], scans: ScanSpec[], opts: { restartInterval?: number } = {}): Uint8Array {
  const sampling = frame.sampling ?? [[1, 1]];
  const parts: number[][] = [[0xff, 0xd8]];
  parts.push(segment(0xdb, [0x00, ...new Array<number>(64).fill(1)])); // quantisation table 0: all ones
  const sof = [8, frame.height >> 8, frame.height & 0xff, frame.width >> 8, frame.width & 0xff, sampling.length];
  sampling.forEach(([h, v], i) => sof.push(i + 1, (h << 4) | v, 0));
  parts.push(segment(frame.progressive ? 0xc2 : 0xc0, sof));
  for (const t of tables) {
    const counts = new Array<number>(16).fill(0);
    for (const l of t.lengths) counts[l - 1]!++;
    parts.push(segment(0xc4, [(t.tc << 4) | t.th, ...counts, ...t.symbols]));
  }
  if (opts.restartInterval) parts.push(segment(0xdd, [opts.restartInterval >> 8, opts.restartInterval & 0xff]));
  const out: number[] = parts.flat();
  const chunks: Uint8Array[] = [];
  for (const s of scans) {
    const sos = [s.components.length];
    s.components.forEach((c, i) => {
      const [td, ta] = s.tables?.[i] ?? [0, 0];
      sos.push(c + 1, (td << 4) | ta);
    });
    sos.push(s.ss, s.se, (s.ah << 4) | s.al);
    chunks.push(Uint8Array.from(segment(0xda, sos)), s.data);
  }
  chunks.push(Uint8Array.from([0xff, 0xd9]));
  const total = out.length + chunks.reduce((n, c) => n + c.length, 0);
  const bytes = new Uint8Array(total);
  bytes.set(out, 0);
  let at = out.length;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return bytes;
}

// ---- Entropy-coded data for the tables below: one code per block, no real image content beyond DC steps.

/** DC table 0: '0' = difference 0, '10'+bit = difference ±1. AC table 0: '0' = EOBRUN symbol 0xE0 (14 extra bits).
 *  AC table 1: '0' = EOB (0x00), for sequential scans. */
export const CRAFT_TABLES: HuffmanSpec[] = [
  { tc: 0, th: 0, lengths: [1, 2], symbols: [0, 1] },
  { tc: 1, th: 0, lengths: [1], symbols: [0xe0] },
  { tc: 1, th: 1, lengths: [1], symbols: [0x00] },
];

/** A DC first scan's data (or a sequential scan's DC part): difference diff(i) ∈ {-1, 0, 1} for block i. */
export function dcFirstData(blocks: number, diff: (i: number) => number = () => 0): Uint8Array {
  const w = new BitWriter();
  for (let i = 0; i < blocks; i++) {
    const d = diff(i);
    if (d === 0) w.put(0, 1);
    else w.put(0b10, 2).put(d > 0 ? 1 : 0, 1);
  }
  return w.bytes();
}

/** A DC refinement scan's data: one bit per block. */
export function dcRefineData(blocks: number, bit: (i: number) => number = () => 0): Uint8Array {
  const w = new BitWriter();
  for (let i = 0; i < blocks; i++) w.put(bit(i) & 1, 1);
  return w.bytes();
}

/** An AC scan (first or refinement) whose every block is inside an EOB run: code '0' + 14 one-bits per 32,767 blocks
 *  (first scans: EOBRUN = 2^14 - 1 + 16383 blocks after the current one; refinements: 2^14 + 16383 including it). */
export function eobRunData(blocks: number): Uint8Array {
  const w = new BitWriter();
  for (let left = blocks; left > 0; left -= 32767) w.put(0, 1).put(0x3fff, 14);
  return w.bytes();
}

/** A sequential scan with tables DC 0 / AC 1: each block is DC difference 0 then EOB. */
export function sequentialData(blocks: number): Uint8Array {
  const w = new BitWriter();
  for (let i = 0; i < blocks; i++) w.put(0, 2);
  return w.bytes();
}
