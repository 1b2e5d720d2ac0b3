// Huffman tables and the entropy-coded-segment bit reader of the JPEG decoder.
// Table building follows libjpeg-turbo's jpeg_make_d_derived_tbl (same validity checks); decoding uses a 9-bit
// lookahead table with a canonical-code fallback. A DHT's tables are checked when read but built on first use, as
// libjpeg builds them at the start of a scan: a file of many DHT segments costs only their reading. The reader un-stuffs 0xFF00, stops at markers and then feeds
// zero bits (as libjpeg's fill_bit_buffer does), counting them so callers can tell real data from padding.

import { JpegError } from './errors.js';

const LOOKAHEAD = 9;

export interface HuffmanTable {
  /** (codeLength << 8) | symbol for every 9-bit prefix that starts with a code of ≤ 9 bits; 0 = longer code. */
  readonly lookup: Uint16Array;
  /** For AC use: (value << 8) | (run << 4) | bitsUsed when a prefix holds a whole nonzero coefficient (code plus
   *  its extra bits within 9 bits); 0 otherwise. */
  readonly fastAc: Int32Array;
  /** Largest code of each length 1..16 (-1 when none); index 17 is a sentinel. */
  readonly maxCode: Int32Array;
  /** Index into `symbols` of the first code of each length, minus that code. */
  readonly valOffset: Int32Array;
  readonly symbols: Uint8Array;
}

/** A table as a DHT defines it: its code lengths checked at once, its decoding tables built when a scan uses it. */
export class HuffmanDefinition {
  private built: HuffmanTable | null = null;

  constructor(
    private readonly counts: Uint8Array,
    private readonly symbols: Uint8Array,
  ) {
    checkCodeLengths(counts, symbols.length);
  }

  get isBuilt(): boolean {
    return this.built !== null;
  }

  table(): HuffmanTable {
    return (this.built ??= buildHuffmanTable(this.counts, this.symbols));
  }
}

/** jpeg_make_d_derived_tbl's checks: as many symbols as codes, and every length's codes fit (no all-ones code). */
function checkCodeLengths(counts: Uint8Array, symbols: number): void {
  let total = 0;
  let code = 0;
  for (let len = 1; len <= 16; len++) {
    total += counts[len - 1];
    code += counts[len - 1];
    if (code >= 1 << len) throw new JpegError(`bad Huffman table: code lengths overflow at ${len} bits`);
    code <<= 1;
  }
  if (total > 256 || total !== symbols) throw new JpegError(`bad Huffman table: ${total} codes for ${symbols} symbols`);
}

/** Builds the decoding tables from a DHT's 16 code-length counts and its symbol list (jpeg_make_d_derived_tbl). */
export function buildHuffmanTable(counts: Uint8Array, symbols: Uint8Array): HuffmanTable {
  const sizes: number[] = [];
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < counts[len - 1]; i++) sizes.push(len);
  }
  if (sizes.length > 256 || sizes.length !== symbols.length) {
    throw new JpegError(`bad Huffman table: ${sizes.length} codes for ${symbols.length} symbols`);
  }
  const codes = new Int32Array(sizes.length);
  let code = 0;
  let p = 0;
  for (let len = 1; len <= 16; len++) {
    while (p < sizes.length && sizes[p] === len) codes[p++] = code++;
    // The next code must still fit in len bits: no all-ones code (jpeg_make_d_derived_tbl).
    if (code >= 1 << len) throw new JpegError(`bad Huffman table: code lengths overflow at ${len} bits`);
    code <<= 1;
  }
  const maxCode = new Int32Array(18).fill(-1);
  const valOffset = new Int32Array(18);
  p = 0;
  for (let len = 1; len <= 16; len++) {
    const n = counts[len - 1];
    if (n === 0) continue;
    valOffset[len] = p - codes[p];
    p += n;
    maxCode[len] = codes[p - 1];
  }
  maxCode[17] = 0x7fffffff;
  const lookup = new Uint16Array(1 << LOOKAHEAD);
  for (let i = 0; i < sizes.length; i++) {
    const len = sizes[i];
    if (len > LOOKAHEAD) break;
    const shift = LOOKAHEAD - len;
    const base = codes[i] << shift;
    for (let j = 0; j < 1 << shift; j++) lookup[base + j] = (len << 8) | symbols[i];
  }
  return { lookup, maxCode, valOffset, symbols, fastAc: buildFastAc(lookup) };
}

function buildFastAc(lookup: Uint16Array): Int32Array {
  const fast = new Int32Array(1 << LOOKAHEAD);
  for (let i = 0; i < fast.length; i++) {
    const e = lookup[i];
    if (e === 0) continue;
    const len = e >> 8;
    const run = (e >> 4) & 15;
    const size = e & 15;
    if (size === 0 || len + size > LOOKAHEAD) continue;
    const bits = (i >> (LOOKAHEAD - len - size)) & ((1 << size) - 1);
    const value = bits < 1 << (size - 1) ? bits - (1 << size) + 1 : bits; // HUFF_EXTEND
    fast[i] = (value << 8) | (run << 4) | (len + size);
  }
  return fast;
}

/** Checks a table used for DC differences: libjpeg-turbo rejects DC symbols above 15. */
export function checkDcTable(t: HuffmanTable, id: number): void {
  for (const s of t.symbols) {
    if (s > 15) throw new JpegError(`bad Huffman table: DC table ${id} has symbol ${s} > 15`);
  }
}

/** Reads bits MSB-first from entropy-coded data starting at `pos`. */
export class BitReader {
  private buf = 0;
  /** Number of valid bits at the bottom of `buf`. */
  cnt = 0;
  /** How many of the `cnt` bits are zero padding added after the data stopped. */
  padding = 0;
  /** Why the data stopped: '' while still reading, 'marker' at a marker, 'eof' at the end of the input. */
  stop: '' | 'marker' | 'eof' = '';

  constructor(
    private readonly data: Uint8Array,
    public pos: number,
  ) {}

  /** Discards buffered bits (at a restart marker) and resumes reading at `pos`. */
  reset(pos: number): void {
    this.buf = 0;
    this.cnt = 0;
    this.padding = 0;
    this.stop = '';
    this.pos = pos;
  }

  /** Byte offset of the next unread bit (bytes already buffered are not counted as read). */
  position(): number {
    return this.pos - Math.max(0, (this.cnt - this.padding + 7) >> 3);
  }

  /** True when decoding has consumed zero bits that were not in the data. */
  overran(): boolean {
    return this.cnt < this.padding;
  }

  private fill(): void {
    const d = this.data;
    while (this.cnt <= 24) {
      let b = 0;
      if (this.stop === '') {
        const p = this.pos;
        if (p >= d.length) {
          this.stop = 'eof';
        } else if ((b = d[p]) !== 0xff) {
          this.pos = p + 1;
        } else {
          // 0xFF: skip fill bytes; FF 00 is a stuffed data byte, anything else a marker (left unread).
          let q = p + 1;
          while (q < d.length && d[q] === 0xff) q++;
          if (q >= d.length) this.stop = 'eof';
          else if (d[q] === 0) this.pos = q + 1;
          else this.stop = 'marker';
        }
      }
      if (this.stop !== '') {
        b = 0;
        this.padding += 8;
      }
      this.buf = (this.buf << 8) | b;
      this.cnt += 8;
    }
  }

  /** The next 9 bits, without consuming them. */
  peek(): number {
    if (this.cnt < 16) this.fill();
    return (this.buf >>> (this.cnt - LOOKAHEAD)) & ((1 << LOOKAHEAD) - 1);
  }

  skip(n: number): void {
    this.cnt -= n;
  }

  /** Decodes one Huffman symbol. */
  decode(t: HuffmanTable): number {
    if (this.cnt < 16) this.fill();
    const e = t.lookup[(this.buf >>> (this.cnt - LOOKAHEAD)) & ((1 << LOOKAHEAD) - 1)];
    if (e !== 0) {
      this.cnt -= e >> 8;
      return e & 0xff;
    }
    for (let len = LOOKAHEAD + 1; len <= 16; len++) {
      const code = (this.buf >>> (this.cnt - len)) & ((1 << len) - 1);
      if (code <= t.maxCode[len]) {
        this.cnt -= len;
        return t.symbols[t.valOffset[len] + code];
      }
    }
    throw new JpegError('bad Huffman code');
  }

  /** Reads `n` (0..16) raw bits. */
  bits(n: number): number {
    if (this.cnt < n) this.fill();
    this.cnt -= n;
    return (this.buf >>> this.cnt) & ((1 << n) - 1);
  }

  bit(): number {
    if (this.cnt < 1) this.fill();
    this.cnt--;
    return (this.buf >>> this.cnt) & 1;
  }

  /** Reads an `s`-bit magnitude and sign-extends it (HUFF_EXTEND), s in 1..15. */
  extend(s: number): number {
    const v = this.bits(s);
    return v < 1 << (s - 1) ? v - (1 << s) + 1 : v;
  }
}
