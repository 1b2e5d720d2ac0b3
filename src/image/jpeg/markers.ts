// JPEG marker segments: SOF, DHT, DQT, DRI, SOS, and the APPn markers that change decoding (JFIF APP0, Adobe APP14)
// or that callers need (EXIF APP1 orientation). Checks mirror libjpeg-turbo's jdmarker.c / jdinput.c limits.

import { JpegError } from './errors.js';
import { HuffmanDefinition } from './huffman.js';

/** Zigzag index → natural (row-major) index: jpeg_natural_order. */
export const NATURAL_ORDER = new Uint8Array([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21,
  28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61,
  54, 47, 55, 62, 63,
]);

const MAX_DIMENSION = 65500; // JPEG_MAX_DIMENSION

export const SOI = 0xd8;
export const EOI = 0xd9;
export const SOS = 0xda;

export interface Component {
  readonly id: number;
  readonly index: number;
  readonly h: number;
  readonly v: number;
  readonly tq: number;
  /** Sample columns/rows that carry image data: ceil(width * h / hmax), ceil(height * v / vmax). */
  readonly width: number;
  readonly height: number;
  /** Blocks holding those samples (non-interleaved scans cover exactly these). */
  readonly widthInBlocks: number;
  readonly heightInBlocks: number;
  /** Blocks per line/column padded to whole MCUs (interleaved scans cover these). */
  readonly blocksPerLine: number;
  readonly blocksPerColumn: number;
}

export interface Frame {
  readonly marker: number;
  readonly progressive: boolean;
  readonly width: number;
  readonly height: number;
  readonly components: readonly Component[];
  readonly hmax: number;
  readonly vmax: number;
  readonly mcusPerLine: number;
  readonly mcusPerColumn: number;
}

export interface ScanHeader {
  readonly components: readonly { comp: Component; td: number; ta: number }[];
  readonly ss: number;
  readonly se: number;
  readonly ah: number;
  readonly al: number;
}

/** Reads a segment's big-endian length and checks it fits in the data; returns the payload [start, end). */
export function segmentBounds(data: Uint8Array, pos: number, marker: number): [number, number] {
  if (pos + 2 > data.length) throw new JpegError(`truncated ${markerName(marker)} segment at byte ${pos}`);
  const len = (data[pos] << 8) | data[pos + 1];
  if (len < 2) throw new JpegError(`${markerName(marker)} segment at byte ${pos} has bad length ${len}`);
  if (pos + len > data.length) {
    throw new JpegError(`truncated ${markerName(marker)} segment at byte ${pos}: length ${len}, ${data.length - pos} bytes left`);
  }
  return [pos + 2, pos + len];
}

export function markerName(m: number): string {
  const names: Record<number, string> = { 0xc4: 'DHT', 0xdb: 'DQT', 0xdd: 'DRI', 0xda: 'SOS', 0xd8: 'SOI', 0xd9: 'EOI', 0xdc: 'DNL' };
  if (names[m]) return names[m];
  if (m >= 0xc0 && m <= 0xcf) return `SOF${m - 0xc0}`;
  if (m >= 0xd0 && m <= 0xd7) return `RST${m - 0xd0}`;
  if (m >= 0xe0 && m <= 0xef) return `APP${m - 0xe0}`;
  if (m === 0xfe) return 'COM';
  return `marker 0xFF${m.toString(16).toUpperCase().padStart(2, '0')}`;
}

/** Rejects the frame types libjpeg-turbo's default build (and so PIL) cannot decode, or that we do not. */
export function checkFrameType(m: number): void {
  if (m === 0xc0 || m === 0xc1 || m === 0xc2) return;
  const what =
    m === 0xc3 ? 'lossless (SOF3)'
      : m >= 0xc5 && m <= 0xc7 ? `hierarchical/differential (SOF${m - 0xc0})`
        : m === 0xcb ? 'lossless arithmetic-coded (SOF11)'
          : m === 0xcf ? 'hierarchical arithmetic-coded (SOF15)'
            : `arithmetic-coded (SOF${m - 0xc0})`;
  throw new JpegError(`${what} JPEG is not supported`);
}

/** SOF0/1/2 (get_sof + jdinput.c initial_setup). */
export function parseFrame(data: Uint8Array, start: number, end: number, marker: number): Frame {
  if (end - start < 6) throw new JpegError(`SOF segment at byte ${start - 4} is too short`);
  const precision = data[start];
  const height = (data[start + 1] << 8) | data[start + 2];
  const width = (data[start + 3] << 8) | data[start + 4];
  const n = data[start + 5];
  if (precision !== 8) throw new JpegError(`${precision}-bit samples are not supported (only 8-bit)`);
  if (width === 0 || height === 0) {
    throw new JpegError(`SOF declares an empty image (${width}×${height}; a height defined later by DNL is not supported)`);
  }
  if (width > MAX_DIMENSION || height > MAX_DIMENSION) {
    throw new JpegError(`image ${width}×${height} exceeds the JPEG maximum of ${MAX_DIMENSION} per side`);
  }
  if (n === 0) throw new JpegError('SOF declares 0 components');
  if (end - start !== 6 + 3 * n) throw new JpegError(`SOF length ${end - start + 2} does not match ${n} components`);
  const raw: { id: number; h: number; v: number; tq: number }[] = [];
  for (let i = 0; i < n; i++) {
    const p = start + 6 + 3 * i;
    const h = data[p + 1] >> 4;
    const v = data[p + 1] & 15;
    const tq = data[p + 2];
    if (h < 1 || h > 4 || v < 1 || v > 4) throw new JpegError(`component ${i} has bad sampling factors ${h}x${v}`);
    if (tq > 3) throw new JpegError(`component ${i} uses quantisation table ${tq} (max 3)`);
    raw.push({ id: data[p], h, v, tq });
  }
  const hmax = Math.max(...raw.map(c => c.h));
  const vmax = Math.max(...raw.map(c => c.v));
  const mcusPerLine = Math.ceil(width / (8 * hmax));
  const mcusPerColumn = Math.ceil(height / (8 * vmax));
  const components = raw.map((c, index): Component => {
    const cw = Math.ceil((width * c.h) / hmax);
    const ch = Math.ceil((height * c.v) / vmax);
    return {
      ...c, index, width: cw, height: ch,
      widthInBlocks: Math.ceil(cw / 8), heightInBlocks: Math.ceil(ch / 8),
      blocksPerLine: mcusPerLine * c.h, blocksPerColumn: mcusPerColumn * c.v,
    };
  });
  return { marker, progressive: marker === 0xc2, width, height, components, hmax, vmax, mcusPerLine, mcusPerColumn };
}

/** DHT: one or more tables, stored by class (0 DC, 1 AC) and id 0..3. */
export function parseHuffmanTables(data: Uint8Array, start: number, end: number, dc: (HuffmanDefinition | null)[], ac: (HuffmanDefinition | null)[]): void {
  let p = start;
  while (p < end) {
    if (p + 17 > end) throw new JpegError(`DHT segment at byte ${start - 4} is truncated`);
    const tc = data[p] >> 4;
    const th = data[p] & 15;
    if (tc > 1 || th > 3) throw new JpegError(`DHT defines bad table class ${tc} / id ${th}`);
    const counts = data.subarray(p + 1, p + 17);
    let total = 0;
    for (let i = 0; i < 16; i++) total += counts[i];
    p += 17;
    if (total > 256 || p + total > end) throw new JpegError(`DHT table ${tc ? 'AC' : 'DC'}${th} declares ${total} symbols, segment too short`);
    const table = new HuffmanDefinition(counts, data.subarray(p, p + total));
    p += total;
    (tc === 0 ? dc : ac)[th] = table;
  }
}

/** DQT: tables of 8- or 16-bit values, given in zigzag order; stored in natural order. */
export function parseQuantTables(data: Uint8Array, start: number, end: number, tables: (Uint16Array | null)[]): void {
  let p = start;
  while (p < end) {
    const pq = data[p] >> 4;
    const tq = data[p] & 15;
    if (pq > 1 || tq > 3) throw new JpegError(`DQT defines bad table precision ${pq} / id ${tq}`);
    const size = pq ? 128 : 64;
    if (p + 1 + size > end) throw new JpegError(`DQT segment at byte ${start - 4} is truncated`);
    const t = new Uint16Array(64);
    for (let k = 0; k < 64; k++) {
      t[NATURAL_ORDER[k]] = pq ? (data[p + 1 + 2 * k] << 8) | data[p + 2 + 2 * k] : data[p + 1 + k];
    }
    tables[tq] = t;
    p += 1 + size;
  }
}

/** SOS header (get_sos), with the progression-parameter checks of jdphuff.c start_pass_phuff_decoder. */
export function parseScanHeader(data: Uint8Array, start: number, end: number, frame: Frame): ScanHeader {
  const n = data[start];
  if (n < 1 || n > 4) throw new JpegError(`SOS has ${n} components (1 to 4 allowed)`);
  if (end - start !== 4 + 2 * n) throw new JpegError(`SOS length ${end - start + 2} does not match ${n} components`);
  const components: { comp: Component; td: number; ta: number }[] = [];
  for (let i = 0; i < n; i++) {
    const id = data[start + 1 + 2 * i];
    const comp = frame.components.find(c => c.id === id && !components.some(s => s.comp === c));
    if (!comp) throw new JpegError(`SOS refers to component id ${id}, not in the frame (or repeated)`);
    const t = data[start + 2 + 2 * i];
    components.push({ comp, td: t >> 4, ta: t & 15 });
    if ((t >> 4) > 3 || (t & 15) > 3) throw new JpegError(`SOS uses Huffman table ${t >> 4}/${t & 15} (max 3)`);
  }
  const q = start + 1 + 2 * n;
  const ss = data[q];
  const se = data[q + 1];
  const ah = data[q + 2] >> 4;
  const al = data[q + 2] & 15;
  if (n > 1) {
    const blocks = components.reduce((s, c) => s + c.comp.h * c.comp.v, 0);
    if (blocks > 10) throw new JpegError(`scan MCU has ${blocks} blocks (max 10)`);
  }
  if (frame.progressive) {
    const bad =
      (ss === 0 ? se !== 0 : ss > se || se > 63 || n !== 1) || (ah !== 0 && al !== ah - 1) || al > 13;
    if (bad) throw new JpegError(`invalid progressive scan parameters Ss=${ss} Se=${se} Ah=${ah} Al=${al} for ${n} component(s)`);
  }
  return { components, ss, se, ah, al };
}

/** Facts from APPn segments that affect decoding or the result. */
export interface AppInfo {
  jfif: boolean;
  adobe: boolean;
  adobeTransform: number;
  orientation: number;
  sawExif: boolean;
}

export function parseApp(data: Uint8Array, start: number, end: number, marker: number, info: AppInfo): void {
  const len = end - start;
  const is = (s: string) => len >= s.length && s.split('').every((ch, i) => data[start + i] === ch.charCodeAt(0));
  if (marker === 0xe0 && len >= 14 && is('JFIF\0')) info.jfif = true; // get_interesting_appn, APP0_DATA_LEN
  if (marker === 0xee && len >= 12 && is('Adobe')) {
    info.adobe = true;
    info.adobeTransform = data[start + 11];
  }
  if (marker === 0xe1 && !info.sawExif && is('Exif\0\0')) {
    info.sawExif = true; // like PIL, only the first Exif segment counts
    info.orientation = exifOrientation(data.subarray(start + 6, end));
  }
}

/** The Orientation tag (0x0112) of IFD0 of a TIFF-structured Exif payload; 1 when absent or unreadable. */
export function exifOrientation(tiff: Uint8Array): number {
  if (tiff.length < 8) return 1;
  const le = tiff[0] === 0x49 && tiff[1] === 0x49;
  if (!le && !(tiff[0] === 0x4d && tiff[1] === 0x4d)) return 1;
  const u16 = (p: number) => (le ? tiff[p] | (tiff[p + 1] << 8) : (tiff[p] << 8) | tiff[p + 1]);
  const u32 = (p: number) => (le ? u16(p) + u16(p + 2) * 65536 : u16(p) * 65536 + u16(p + 2));
  if (u16(2) !== 42) return 1;
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return 1;
  const count = u16(ifd);
  for (let i = 0; i < count; i++) {
    const e = ifd + 2 + 12 * i;
    if (e + 12 > tiff.length) return 1;
    if (u16(e) !== 0x0112) continue;
    const type = u16(e + 2);
    const value = type === 3 ? u16(e + 8) : type === 4 ? u32(e + 8) : 0;
    return value >= 1 && value <= 8 ? value : 1;
  }
  return 1;
}
