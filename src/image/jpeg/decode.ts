// JPEG decoding entry points: readJpegHeader (markers up to SOF, no pixel buffers) and decodeJpeg (libjpeg-turbo
// 2.1.5's default decode as PIL uses it: islow IDCT, fancy upsampling, fixed-point YCbCr→RGB). Walks the markers as
// jdmarker.c does, decodes each scan, then upsamples and colour-converts row by row.

import { JpegError } from './errors.js';
import { checkDcTable, type HuffmanDefinition, type HuffmanTable } from './huffman.js';
import { dequantize, idctIslow } from './idct.js';
import {
  checkFrameType, EOI, markerName, parseApp, parseFrame, parseHuffmanTables, parseQuantTables, parseScanHeader,
  segmentBounds, SOS, type AppInfo, type Frame, type ScanHeader,
} from './markers.js';
import { cmykToRgb, interleave3, rowSource, yccToRgb, type Plane } from './output.js';
import { checkProgression, ScanBudget } from './progression.js';
import { decodeScan, nextMarker, type ComponentState } from './scan.js';
import { idctSmoothed, smoothingApplies } from './smoothing.js';
import { STD_AC_TABLES, STD_DC_TABLES } from './std-tables.js';

export interface JpegImage {
  /** Interleaved samples, row-major (HWC): RGB when channels is 3, grey when 1. */
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3;
  /** EXIF Orientation (0x0112) of the first APP1 Exif segment, 1 when absent or invalid; not applied. */
  orientation: number;
  /** Coefficient visits the scans were charged (blocks × band width each), the image's budget (see progression.ts),
   *  blocks the entropy decoder was handed (those inside EOB runs with nothing to decode are counted off, not handed),
   *  and how many Huffman tables were built (DHT tables are built when a scan first uses them). */
  work: { used: number; budget: number; blocksDecoded: number; tablesBuilt: number };
}

export interface JpegHeader {
  width: number;
  height: number;
  components: number;
  progressive: boolean;
}

export interface DecodeJpegOptions {
  /** Largest width × height accepted, checked from the SOF before any pixel memory is allocated. Default 40e6. */
  maxPixels?: number;
}

const DEFAULT_MAX_PIXELS = 40e6;
/** Guards against files made of endless tiny progressive scans (libjpeg-turbo's tools offer a similar -maxscans). */
const MAX_SCANS = 1000;

/** Reads the frame header only: size, component count, progressive or not. Throws for non-JPEG or unsupported types. */
export function readJpegHeader(bytes: Uint8Array): JpegHeader {
  checkSoi(bytes);
  let pos = 2;
  for (;;) {
    const m = nextMarker(bytes, pos);
    if (m === null) throw new JpegError(`no SOF marker before the end of the data (${bytes.length} bytes)`);
    if (m.marker === SOS || m.marker === EOI) throw new JpegError(`${markerName(m.marker)} at byte ${m.at} before any SOF marker`);
    if (isStandalone(m.marker)) {
      pos = m.pos;
      continue;
    }
    const [start, end] = segmentBounds(bytes, m.pos, m.marker);
    if (isSof(m.marker)) {
      checkFrameType(m.marker);
      const f = parseFrame(bytes, start, end, m.marker);
      return { width: f.width, height: f.height, components: f.components.length, progressive: f.progressive };
    }
    pos = end;
  }
}

/** Decodes a baseline or progressive Huffman JPEG exactly as libjpeg-turbo 2.1.5 does by default (as PIL uses it). */
export function decodeJpeg(bytes: Uint8Array, opts: DecodeJpegOptions = {}): JpegImage {
  checkSoi(bytes);
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  const tables: Tables = { dc: [null, null, null, null], ac: [null, null, null, null], quant: [null, null, null, null], built: 0 };
  const app: AppInfo = { jfif: false, adobe: false, adobeTransform: -1, orientation: 1, sawExif: false };
  let frame: Frame | null = null;
  let states: ComponentState[] = [];
  let budget: ScanBudget | null = null;
  const sent: boolean[] = []; // sequential: components already decoded
  let restartInterval = 0;
  let scans = 0;
  let pos = 2;
  const counts = { blocks: 0 };

  for (;;) {
    const m = nextMarker(bytes, pos);
    if (m === null) {
      if (!frame || scans === 0) throw new JpegError(`truncated file: no image data before the end at byte ${bytes.length}`);
      // PIL accepts a single-scan sequential file without EOI (the image is complete); multi-scan files need EOI.
      if (frame.progressive || scans > 1) {
        throw new JpegError(`truncated file: ends after scan ${scans} at byte ${bytes.length} without an EOI marker`);
      }
      break;
    }
    const marker = m.marker;
    if (marker === EOI) {
      if (!frame || scans === 0) throw new JpegError(`EOI at byte ${m.at} before any image data`);
      break;
    }
    if (isStandalone(marker)) { // RSTn outside a scan, TEM: ignored as in read_markers
      pos = m.pos;
      continue;
    }
    const [start, end] = segmentBounds(bytes, m.pos, marker);
    pos = end;
    if (isSof(marker)) {
      if (frame) throw new JpegError(`second SOF marker at byte ${m.at}`);
      checkFrameType(marker);
      frame = parseFrame(bytes, start, end, marker);
      checkPixelLimit(frame, maxPixels);
      if (![1, 3, 4].includes(frame.components.length)) {
        throw new JpegError(`${frame.components.length}-component images are not supported (1, 3 or 4)`);
      }
    } else if (marker === 0xc4) {
      parseHuffmanTables(bytes, start, end, tables.dc, tables.ac);
    } else if (marker === 0xdb) {
      parseQuantTables(bytes, start, end, tables.quant);
    } else if (marker === 0xdd) {
      if (end - start !== 2) throw new JpegError(`DRI segment at byte ${m.at} has bad length ${end - start + 2}`);
      restartInterval = (bytes[start] << 8) | bytes[start + 1];
    } else if (marker >= 0xe0 && marker <= 0xef) {
      parseApp(bytes, start, end, marker, app);
    } else if (marker === SOS) {
      if (!frame) throw new JpegError(`SOS at byte ${m.at} before any SOF marker`);
      if (++scans > MAX_SCANS) throw new JpegError(`more than ${MAX_SCANS} scans`);
      if (scans === 1) {
        states = allocateStates(frame);
        budget = new ScanBudget(frame);
        fillStandardTables(tables); // libjpeg-turbo's std_huff_tables, for Motion-JPEG style files without DHT
      }
      const scan = parseScanHeader(bytes, start, end, frame);
      checkProgression(scan, states, frame, scans, sent);
      budget!.charge(scan, frame, scans);
      prepareScan(scan, states, frame, tables);
      pos = decodeScan({ data: bytes, frame, restartInterval, scanNumber: scans, counts }, scan, states, end);
    }
    // COM, DNL and other segments: skipped.
  }

  if (frame.progressive) finishProgressive(states, frame);
  const channels = frame.components.length === 1 ? 1 : 3;
  return {
    data: assembleOutput(frame, states, app),
    width: frame.width,
    height: frame.height,
    channels,
    orientation: app.orientation,
    work: { used: budget!.used, budget: budget!.budget, blocksDecoded: counts.blocks, tablesBuilt: tables.built },
  };
}

function checkSoi(bytes: Uint8Array): void {
  if (bytes.length < 2) throw new JpegError(`not a JPEG file: only ${bytes.length} byte(s)`);
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) {
    const hex = (b: number) => `0x${b.toString(16).padStart(2, '0')}`;
    throw new JpegError(`not a JPEG file: starts with ${hex(bytes[0])} ${hex(bytes[1])}, expected SOI 0xff 0xd8`);
  }
}

const isSof = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
const isStandalone = (m: number) => (m >= 0xd0 && m <= 0xd8) || m === 0x01;

function checkPixelLimit(frame: Frame, maxPixels: number): void {
  const pixels = frame.width * frame.height;
  if (pixels > maxPixels) {
    // "JPEG: image is 12000×9000 = 108.0 MP, over the 40 MP limit"
    const mp = (n: number) => (n >= 1e5 ? (n / 1e6).toFixed(1) : (n / 1e6).toPrecision(2));
    throw new JpegError(`image is ${frame.width}×${frame.height} = ${mp(pixels)} MP, over the ${+(maxPixels / 1e6).toPrecision(6)} MP limit`);
  }
}

function allocateStates(frame: Frame): ComponentState[] {
  return frame.components.map(comp => {
    const blocks = comp.blocksPerLine * comp.blocksPerColumn;
    // Samples of components never sent stay at the IDCT of zero coefficients: 128.
    return {
      comp,
      plane: new Uint8Array(blocks * 64).fill(128),
      coefs: frame.progressive ? new Int16Array(blocks * 64) : null,
      nonzero: frame.progressive ? new Uint32Array(blocks * 2) : null,
      quantRaw: null,
      quant: null,
      coefBits: new Int8Array(64).fill(-1),
      pred: 0,
      dc: null,
      ac: null,
    };
  });
}

interface Tables {
  dc: (HuffmanDefinition | null)[];
  ac: (HuffmanDefinition | null)[];
  quant: (Uint16Array | null)[];
  built: number;
}

function fillStandardTables(t: Tables): void {
  for (let i = 0; i < 2; i++) {
    t.dc[i] ??= STD_DC_TABLES[i];
    t.ac[i] ??= STD_AC_TABLES[i];
  }
}

/** Per-scan setup of each member component: quantisation latch, DC predictor reset, Huffman tables, and the
 *  coef_bits bookkeeping of start_pass_phuff_decoder (what block smoothing later looks at). */
function prepareScan(scan: ScanHeader, states: ComponentState[], frame: Frame, tables: Tables): void {
  const needDc = !frame.progressive || (scan.ss === 0 && scan.ah === 0);
  const needAc = !frame.progressive || scan.ss > 0;
  for (const { comp, td, ta } of scan.components) {
    const st = states[comp.index];
    if (!st.quantRaw) {
      // latch_quant_tables: a component keeps a copy of the table present at its first scan.
      const q = tables.quant[comp.tq];
      if (!q) throw new JpegError(`component ${comp.index} uses quantisation table ${comp.tq}, which is not defined`);
      st.quantRaw = q.slice();
      st.quant = new Int16Array(st.quantRaw.buffer); // ISLOW_MULT_TYPE is short
    }
    st.pred = 0;
    st.dc = needDc ? requireTable(tables, 'dc', td) : null;
    st.ac = needAc ? requireTable(tables, 'ac', ta) : null;
    if (st.dc) checkDcTable(st.dc, td);
    if (frame.progressive) st.coefBits.fill(scan.al, scan.ss, scan.se + 1);
  }
}

function requireTable(tables: Tables, kind: 'dc' | 'ac', id: number): HuffmanTable {
  const t = tables[kind][id];
  if (!t) throw new JpegError(`scan uses ${kind.toUpperCase()} Huffman table ${id}, which is not defined`);
  if (!t.isBuilt) tables.built++;
  return t.table();
}

/** Output side of a progressive file: IDCT of the whole coefficient arrays, with block smoothing when libjpeg-turbo
 *  would apply it (decompress_smooth_data) and plainly otherwise (decompress_data). */
function finishProgressive(states: ComponentState[], frame: Frame): void {
  if (smoothingApplies(states)) {
    for (const st of states) idctSmoothed(st, frame);
    return;
  }
  const ws = new Int32Array(64);
  const block = new Int32Array(64);
  for (const st of states) {
    if (!st.quant) continue;
    const { comp, coefs, plane, quant } = st;
    const stride = comp.blocksPerLine * 8;
    for (let by = 0; by < comp.heightInBlocks; by++) {
      for (let bx = 0; bx < comp.widthInBlocks; bx++) {
        dequantize(coefs!, (by * comp.blocksPerLine + bx) * 64, quant, block);
        idctIslow(block, plane, by * 8 * stride + bx * 8, stride, ws);
      }
    }
  }
}

/** jdapimin.c default_decompress_parms: is a 3-component image stored as RGB rather than YCbCr? */
function storedAsRgb(frame: Frame, app: AppInfo): boolean {
  if (app.jfif) return false;
  if (app.adobe) return app.adobeTransform === 0;
  const [a, b, c] = frame.components.map(x => x.id);
  return a === 0x52 && b === 0x47 && c === 0x42; // 'R', 'G', 'B'
}

function assembleOutput(frame: Frame, states: ComponentState[], app: AppInfo): Uint8Array {
  const { width, height } = frame;
  const n = frame.components.length;
  const planes = states.map((st): Plane => ({
    data: st.plane, stride: st.comp.blocksPerLine * 8, width: st.comp.width, height: st.comp.height,
  }));
  if (n === 1) {
    const out = new Uint8Array(width * height);
    const p = planes[0];
    for (let y = 0; y < height; y++) out.set(p.data.subarray(y * p.stride, y * p.stride + width), y * width);
    return out;
  }
  const out = new Uint8Array(width * height * 3);
  const view = new Uint8ClampedArray(out.buffer);
  const sources = states.map((st, i) => rowSource(st.comp, planes[i], frame));
  const rgb = n === 3 && storedAsRgb(frame, app);
  // 4 components: YCCK when Adobe transform is 2 (or unknown non-zero), CMYK otherwise (default_decompress_parms).
  const ycck = n === 4 && app.adobe && app.adobeTransform !== 0;
  for (let y = 0; y < height; y++) {
    const o = y * width * 3;
    if (n === 3) {
      const [a, b, c] = sources;
      const ao = a.row(y), bo = b.row(y), co = c.row(y);
      if (rgb) interleave3(a.buf, ao, b.buf, bo, c.buf, co, view, o, width);
      else yccToRgb(a.buf, ao, b.buf, bo, c.buf, co, view, o, width);
    } else {
      cmykToRgb(sources.map(s => [s.buf, s.row(y)] as [Uint8Array, number]), ycck, view, o, width);
    }
  }
  return out;
}
