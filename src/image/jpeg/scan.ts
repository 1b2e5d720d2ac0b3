// Entropy decoding of one scan: sequential Huffman (jdhuff.c decode_mcu, followed directly by the IDCT into the
// component plane) and progressive Huffman (jdphuff.c: DC first/refine, AC first/refine with EOB runs, into the
// coefficient arrays). Handles MCU layout for interleaved and single-component scans and restart markers.
// Unlike libjpeg, which warns and fills with zeros, corrupt or truncated entropy data throws. Blocks inside an EOB
// run with nothing to decode are counted off together, and refinements visit only coefficients already nonzero
// (per-block masks), so a scan's cost follows its data, not its blocks × band width (progression.ts bounds those).

import { JpegError } from './errors.js';
import { BitReader, type HuffmanTable } from './huffman.js';
import { idctDcOnly, idctIslow } from './idct.js';
import { markerName, NATURAL_ORDER, type Component, type Frame, type ScanHeader } from './markers.js';

/** Per-component decoding state kept across scans. */
export interface ComponentState {
  readonly comp: Component;
  /** Samples, stride blocksPerLine*8, blocksPerColumn*8 rows (sequential: written per block; progressive: at the end). */
  readonly plane: Uint8Array;
  /** Progressive only: 64 coefficients per block (natural order), blocksPerLine × blocksPerColumn blocks. */
  readonly coefs: Int16Array | null;
  /** Progressive only: per block, two words whose bit k (zigzag index k: word k >> 5, bit k & 31) is set once AC
   *  coefficient k has been made nonzero, so a refinement inside an EOB run visits only those, not the band's zeros.
   *  Planar: words 0 of all blocks, then words 1 (a one-word band reads 4 bytes per block). */
  readonly nonzero: Uint32Array | null;
  /** Quantisation table latched at the component's first scan (jdinput.c latch_quant_tables), natural order. */
  quantRaw: Uint16Array | null;
  /** The same values as the IDCT sees them: libjpeg-turbo's ISLOW_MULT_TYPE (short). */
  quant: Int16Array | null;
  /** Progressive: successive-approximation bit position of each coefficient, -1 = never sent (cinfo->coef_bits). */
  readonly coefBits: Int8Array;
  pred: number;
  dc: HuffmanTable | null;
  ac: HuffmanTable | null;
}

export interface ScanContext {
  readonly data: Uint8Array;
  readonly frame: Frame;
  readonly restartInterval: number;
  /** 1-based, for messages. */
  readonly scanNumber: number;
  /** Blocks handed to the entropy decoder, over all scans (blocks counted off inside EOB runs are not). */
  readonly counts: { blocks: number };
}

/** Finds the next marker at or after `pos` as libjpeg's next_marker does (skipping garbage and 0xFF fill bytes).
 *  Returns the marker code and the position after it, or null at the end of the data. */
export function nextMarker(data: Uint8Array, pos: number): { marker: number; pos: number; at: number } | null {
  for (let p = pos; p + 1 < data.length; p++) {
    if (data[p] !== 0xff) continue;
    let q = p + 1;
    while (q < data.length && data[q] === 0xff) q++;
    if (q >= data.length) return null;
    if (data[q] !== 0) return { marker: data[q], pos: q + 1, at: q - 1 };
    p = q;
  }
  return null;
}

/** Decodes one scan starting at `pos` (just after the SOS header); returns the position where decoding stopped. */
export function decodeScan(ctx: ScanContext, scan: ScanHeader, states: ComponentState[], pos: number): number {
  const { data, frame, restartInterval, scanNumber, counts } = ctx;
  const br = new BitReader(data, pos);
  const members = scan.components.map(s => states[s.comp.index]);
  const decodeBlock = frame.progressive ? progressiveBlockDecoder(br, scan) : sequentialBlockDecoder(br);
  const single = members.length === 1;
  const first = members[0].comp;
  const total = single ? first.widthInBlocks * first.heightInBlocks : frame.mcusPerLine * frame.mcusPerColumn;
  const perLine = single ? first.widthInBlocks : frame.mcusPerLine;
  const blocksPerMcu = single ? 1 : members.reduce((n, st) => n + st.comp.h * st.comp.v, 0);

  const skip = single ? decodeBlock.skip : undefined;
  let restartsLeft = restartInterval;
  let nextRst = 0;
  let mcu = 0;
  let mcuStart = pos;
  // "truncated data in scan 3 at byte 48211 of 51200 (MCU 310 of 1200)[: detail]", the byte where that MCU starts
  const located = (what: 'truncated data' | 'corrupt data', detail = '') => new JpegError(
    `${what} in scan ${scanNumber} at byte ${mcuStart} of ${data.length} (MCU ${mcu} of ${total})${detail && `: ${detail}`}`, true);
  const overrun = (): JpegError => {
    if (br.stop === 'eof') return located('truncated data');
    const m = nextMarker(data, br.pos);
    return located('corrupt data', `entropy data ends at ${m ? `${markerName(m.marker)} (byte ${m.at})` : 'a marker'} before the scan is complete`);
  };
  try {
    for (; mcu < total; mcu++) {
      if (restartInterval > 0) {
        if (restartsLeft === 0) {
          const m = nextMarker(data, br.pos);
          if (m === null) throw located('truncated data', `no RST${nextRst} marker before the end`);
          if (m.marker !== 0xd0 + nextRst) {
            throw located('corrupt data', `expected RST${nextRst}, found ${markerName(m.marker)} at byte ${m.at}`);
          }
          nextRst = (nextRst + 1) & 7;
          br.reset(m.pos);
          for (const st of members) st.pred = 0;
          decodeBlock.restart();
          restartsLeft = restartInterval;
        }
        restartsLeft--;
      }
      if (skip) {
        const n = skip(members[0], mcu, restartInterval > 0 ? restartsLeft + 1 : total - mcu, perLine);
        if (n > 0) {
          mcu += n - 1;
          if (restartInterval > 0) restartsLeft -= n - 1;
          continue;
        }
      }
      mcuStart = br.position();
      counts.blocks += blocksPerMcu;
      const mx = mcu % perLine;
      const my = (mcu - mx) / perLine;
      if (single) {
        decodeBlock.block(members[0], mx, my);
      } else {
        for (const st of members) {
          const { h, v } = st.comp;
          for (let y = 0; y < v; y++) {
            for (let x = 0; x < h; x++) decodeBlock.block(st, mx * h + x, my * v + y);
          }
        }
      }
      if (br.overran()) throw overrun();
    }
  } catch (e) {
    if (!(e instanceof JpegError) || e.located) throw e;
    throw br.overran() ? overrun() : located('corrupt data', e.detail);
  }
  return br.pos;
}

interface BlockDecoder {
  block(st: ComponentState, bx: number, by: number): void;
  restart(): void;
  /** Progressive AC scans: how many of the next blocks (from block index `first` of a single-component scan, at most
   *  `limit`) lie inside the current EOB run with nothing to decode, counted off at once. */
  skip?(st: ComponentState, first: number, limit: number, perLine: number): number;
}

/** Baseline/extended sequential: Huffman-decode a block, then IDCT it straight into the plane. */
function sequentialBlockDecoder(br: BitReader): BlockDecoder {
  const blk = new Int32Array(64); // dequantised coefficients
  const ws = new Int32Array(64);
  const written = new Uint8Array(64); // natural indices set in blk, to re-zero only those
  return {
    restart() {},
    block(st, bx, by) {
      const t = br.decode(st.dc!);
      // DC prediction wraps like libjpeg-turbo's int arithmetic; the block keeps a JCOEF (short).
      st.pred = (st.pred + (t === 0 ? 0 : br.extend(t))) | 0;
      const q = st.quant!;
      blk[0] = ((st.pred << 16) >> 16) * q[0];
      const ac = st.ac!;
      const fast = ac.fastAc;
      let n = 0;
      for (let k = 1; k < 64; k++) {
        const f = fast[br.peek()];
        if (f !== 0) { // whole coefficient from one lookup
          br.skip(f & 15);
          k += (f >> 4) & 15;
          if (k > 63) throw new JpegError('AC coefficient index past 63');
          const z = NATURAL_ORDER[k];
          blk[z] = (f >> 8) * q[z];
          written[n++] = z;
          continue;
        }
        const rs = br.decode(ac);
        const s = rs & 15;
        if (s === 0) {
          if (rs !== 0xf0) break; // EOB
          k += 15; // ZRL
          continue;
        }
        k += rs >> 4;
        if (k > 63) throw new JpegError('AC coefficient index past 63');
        const z = NATURAL_ORDER[k];
        blk[z] = br.extend(s) * q[z];
        written[n++] = z;
      }
      const stride = st.comp.blocksPerLine * 8;
      const o = by * 8 * stride + bx * 8;
      if (n === 0) {
        idctDcOnly(blk[0], st.plane, o, stride);
        return;
      }
      idctIslow(blk, st.plane, o, stride, ws);
      for (let i = 0; i < n; i++) blk[written[i]] = 0;
    },
  };
}

/** Bits from..to (0..31 each) of a 32-bit word; 0 when from > to. */
function bitRange(from: number, to: number): number {
  if (from > to) return 0;
  return (to >= 31 ? -1 : (1 << (to + 1)) - 1) & (-1 << from);
}

/** The two nonzero-mask words' bits for zigzag indices from..to. */
const bandLow = (from: number, to: number) => (from > 31 ? 0 : bitRange(from, Math.min(to, 31)));
const bandHigh = (from: number, to: number) => (to < 32 ? 0 : bitRange(Math.max(from, 32) - 32, to - 32));

/** Progressive: one of the four jdphuff.c decoders, chosen by the scan's Ss and Ah. */
function progressiveBlockDecoder(br: BitReader, scan: ScanHeader): BlockDecoder {
  const { ss, se, ah, al } = scan;
  let eobrun = 0;
  const restart = () => {
    eobrun = 0;
  };
  const offset = (st: ComponentState, bx: number, by: number) => (by * st.comp.blocksPerLine + bx) * 64;

  if (ss === 0 && ah === 0) {
    return {
      restart,
      block(st, bx, by) { // decode_mcu_DC_first
        const t = br.decode(st.dc!);
        st.pred = (st.pred + (t === 0 ? 0 : br.extend(t))) | 0;
        st.coefs![offset(st, bx, by)] = st.pred << al;
      },
    };
  }
  if (ss === 0) {
    const p1 = 1 << al;
    return {
      restart,
      block(st, bx, by) { // decode_mcu_DC_refine
        if (br.bit()) st.coefs![offset(st, bx, by)] |= p1;
      },
    };
  }
  if (ah === 0) {
    return {
      restart,
      skip(_st, _first, limit) { // blocks inside an EOB run are left as they are
        const n = Math.min(eobrun, limit);
        eobrun -= n;
        return n;
      },
      block(st, bx, by) { // decode_mcu_AC_first
        if (eobrun > 0) {
          eobrun--;
          return;
        }
        const c = st.coefs!;
        const o = offset(st, bx, by);
        const nz = st.nonzero!;
        const b = o >> 6;
        const half = nz.length >> 1; // where words 1 start
        const ac = st.ac!;
        const fast = ac.fastAc;
        for (let k = ss; k <= se; k++) {
          const f = fast[br.peek()];
          if (f !== 0) {
            br.skip(f & 15);
            k += (f >> 4) & 15;
            if (k > 63) throw new JpegError('AC coefficient index past 63');
            c[o + NATURAL_ORDER[k]] = (f >> 8) << al;
            nz[k < 32 ? b : half + b] |= 1 << (k & 31);
            continue;
          }
          const rs = br.decode(ac);
          const r = rs >> 4;
          const s = rs & 15;
          if (s !== 0) {
            k += r;
            if (k > 63) throw new JpegError('AC coefficient index past 63');
            c[o + NATURAL_ORDER[k]] = br.extend(s) << al;
            nz[k < 32 ? b : half + b] |= 1 << (k & 31);
          } else if (r === 15) {
            k += 15;
          } else {
            eobrun = (1 << r) - 1 + (r > 0 ? br.bits(r) : 0);
            break;
          }
        }
      },
    };
  }
  const p1 = 1 << al;
  const m1 = -1 << al;
  const low = bandLow(ss, se);
  const high = bandHigh(ss, se);
  return {
    restart,
    skip(st, first, limit, perLine) { // blocks inside an EOB run with no nonzero coefficient in the band: no bits to read
      const nz = st.nonzero!;
      const half = nz.length >> 1;
      const bpl = st.comp.blocksPerLine;
      let mx = first % perLine;
      let row = ((first - mx) / perLine) * bpl;
      const most = Math.min(limit, eobrun);
      let n = 0;
      if (high === 0 || low === 0) { // the band lies in one word
        const mask = high === 0 ? low : high;
        const base = high === 0 ? 0 : half;
        while (n < most && (nz[base + row + mx] & mask) === 0) {
          n++;
          if (++mx === perLine) {
            mx = 0;
            row += bpl;
          }
        }
      } else {
        while (n < most && (nz[row + mx] & low) === 0 && (nz[half + row + mx] & high) === 0) {
          n++;
          if (++mx === perLine) {
            mx = 0;
            row += bpl;
          }
        }
      }
      eobrun -= n;
      return n;
    },
    block(st, bx, by) { // decode_mcu_AC_refine
      const c = st.coefs!;
      const o = offset(st, bx, by);
      const nz = st.nonzero!;
      const b = o >> 6;
      const half = nz.length >> 1;
      let k = ss;
      if (eobrun === 0) {
        const ac = st.ac!;
        for (; k <= se; k++) {
          const rs = br.decode(ac);
          let r = rs >> 4;
          let s = 0;
          if ((rs & 15) !== 0) {
            s = br.bit() ? p1 : m1; // a new ±1<<Al coefficient (libjpeg only warns when the size is not 1)
          } else if (r !== 15) {
            eobrun = (1 << r) + (r > 0 ? br.bits(r) : 0);
            break;
          }
          // Skip r zero coefficients, appending correction bits to the nonzero ones passed on the way.
          do {
            const z = o + NATURAL_ORDER[k];
            if (c[z] !== 0) {
              if (br.bit() && (c[z] & p1) === 0) c[z] += c[z] >= 0 ? p1 : m1;
            } else if (--r < 0) {
              break;
            }
            k++;
          } while (k <= se);
          if (s !== 0) {
            if (k > 63) throw new JpegError('AC coefficient index past 63');
            c[o + NATURAL_ORDER[k]] = s;
            nz[k < 32 ? b : half + b] |= 1 << (k & 31);
          }
        }
      }
      if (eobrun > 0) {
        // Inside an EOB run: only correction bits, for coefficients k..Se already nonzero, in zigzag order.
        for (let word = 0; word < 2; word++) {
          let m = word === 0 ? nz[b] & bandLow(k, se) : nz[half + b] & bandHigh(k, se);
          while (m !== 0) {
            const bit = m & -m;
            m ^= bit;
            const z = o + NATURAL_ORDER[(word << 5) + 31 - Math.clz32(bit)];
            if (c[z] !== 0 && br.bit() && (c[z] & p1) === 0) c[z] += c[z] >= 0 ? p1 : m1;
          }
        }
        eobrun--;
      }
    },
  };
}
