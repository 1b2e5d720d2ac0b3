// Bounded work in the JPEG decoder, on files crafted scan by scan (test/image/jpeg-writer.ts): the reported
// progressive CPU-amplification attack, each kind of progression libjpeg-turbo calls inconsistent, the deepest
// consistent progression (which must decode exactly as djpeg does, within the budget), and the re-sends libjpeg
// accepts that would otherwise repeat without end. djpeg (libjpeg-turbo 2.1.5) is the reference for what is
// inconsistent (it warns: exit status 2) and for the pixels of what is accepted; work is asserted by count.

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { decodeJpeg, JpegError } from '../../src/image/jpeg/index.js';
import { haveTestTool } from '../helpers/test-data.js';
import {
  BitWriter, blocksInScan, CRAFT_TABLES, dcFirstData, dcRefineData, eobRunData, sequentialData, writeJpeg, type FrameSpec, type ScanSpec,
} from './jpeg-writer.js';

const hasDjpeg = haveTestTool(spawnSync('djpeg', ['-version']).status === 0, 'djpeg (Debian package libjpeg-turbo-progs)');

/** djpeg's exit status (0 clean, 1 error, 2 warnings), its messages, and its pixels. */
function djpeg(bytes: Uint8Array): { status: number | null; stderr: string; data: Uint8Array } {
  const r = spawnSync('djpeg', ['-pnm'], { input: bytes, maxBuffer: 1 << 28 });
  let p = 0;
  for (let fields = 0; fields < 4 && p < r.stdout.length; p++) {
    if (r.stdout[p] === 0x0a || r.stdout[p] === 0x20) fields++;
  }
  return { status: r.status, stderr: r.stderr.toString(), data: r.stdout.subarray(p) };
}

function refusal(bytes: Uint8Array): string {
  try {
    decodeJpeg(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(JpegError);
    return (e as Error).message;
  }
  throw new Error('expected the decoder to refuse the file');
}

// Scan builders for a frame; every AC scan is one EOB run per 32,767 blocks, so scans are a few bytes each.
const all = (f: FrameSpec) => (f.sampling ?? [[1, 1]]).map((_, i) => i);
const dc = (f: FrameSpec, ah: number, al: number, bit: (i: number) => number = () => 0): ScanSpec => {
  const blocks = blocksInScan(f, all(f));
  const data = ah === 0 ? dcFirstData(blocks) : dcRefineData(blocks, bit);
  return { components: all(f), ss: 0, se: 0, ah, al, data };
};
const ac = (f: FrameSpec, c: number, ss: number, se: number, ah: number, al: number): ScanSpec =>
  ({ components: [c], ss, se, ah, al, data: eobRunData(blocksInScan(f, [c])) });

/** Pseudo-random refinement bits, so DC values differ block to block. */
const noise = (seed: number) => (i: number) => ((i * 2654435761 + seed * 40503) >>> 13) & 1;

/** The deepest consistent progression: every coefficient sent at Al=13 and refined 13 times down to bit 0 (DC refinements
 *  carry noise in their last 6 bits). 14 scans per coefficient: exactly what the budget allows. */
function deepest(f: FrameSpec): ScanSpec[] {
  const scans = [dc(f, 0, 13)];
  for (let ah = 13; ah > 0; ah--) scans.push(dc(f, ah, ah - 1, ah <= 6 ? noise(ah) : () => 0));
  for (const c of all(f)) {
    scans.push(ac(f, c, 1, 63, 0, 13));
    for (let ah = 13; ah > 0; ah--) scans.push(ac(f, c, 1, 63, ah, ah - 1));
  }
  return scans;
}

/** Σ blocks × band width of the scans: the work the decoder is expected to count (progression.ts). */
const expectedWork = (f: FrameSpec, scans: ScanSpec[]) =>
  scans.reduce((n, s) => n + blocksInScan(f, s.components) * (s.se - s.ss + 1), 0);

describe('the reported attack: refinement scans that walk every coefficient of every block', () => {
  it('6320×6320 grey, 1,000 scans Ss=1 Se=63 Ah=1 Al=0 (66 KB): refused at the first scan, as djpeg warns', () => {
    const f = { width: 6320, height: 6320, progressive: true };
    const attack = writeJpeg(f, CRAFT_TABLES, new Array(1000).fill(ac(f, 0, 1, 63, 1, 0)));
    expect(attack.length).toBeLessThan(70_000);
    expect(refusal(attack)).toBe('JPEG: inconsistent progression: scan 1 (Ss=1 Se=63 Ah=1 Al=0) sends AC coefficients of component 0 before its DC scan');
    if (hasDjpeg) {
      const first10 = writeJpeg(f, CRAFT_TABLES, new Array(10).fill(ac(f, 0, 1, 63, 1, 0)));
      const ref = djpeg(first10);
      expect(ref.status).toBe(2);
      expect(ref.stderr).toMatch(/Inconsistent progression sequence for component 0 coefficient 0/);
    }
  }, 60_000);

  it('with a DC scan and a first AC scan before them, the second refinement is refused (Ah=1 after Al=0)', () => {
    const f = { width: 640, height: 480, progressive: true };
    const scans = [dc(f, 0, 0), ac(f, 0, 1, 63, 0, 1), ...new Array(100).fill(ac(f, 0, 1, 63, 1, 0))];
    expect(refusal(writeJpeg(f, CRAFT_TABLES, scans)))
      .toBe('JPEG: inconsistent progression: scan 4 (Ss=1 Se=63 Ah=1 Al=0) refines from bit 1 coefficient 1 of component 0, which an earlier scan left at bit 0 (Ah must be 0)');
  });
});

describe('progressions libjpeg-turbo calls inconsistent are refused; consistent ones decode as djpeg does', () => {
  const f: FrameSpec = { width: 61, height: 35, progressive: true, sampling: [[2, 2], [1, 1], [1, 1]] };
  const inconsistent: [string, ScanSpec[], RegExp][] = [
    ['AC before DC', [ac(f, 0, 1, 5, 0, 0), dc(f, 0, 0)], /scan 1 .* sends AC coefficients of component 0 before its DC scan/],
    ['AC refinement with no first scan', [dc(f, 0, 0), ac(f, 1, 1, 63, 1, 0)], /scan 2 .* refines coefficient 1 of component 1, which no earlier scan sent/],
    ['DC refinement with no first scan', [dc(f, 1, 0)], /scan 1 \(Ss=0 Se=0 Ah=1 Al=0\) refines DC of component 0, which no earlier scan sent/],
    ['refinement skipping a bit', [dc(f, 0, 0), ac(f, 0, 1, 63, 0, 3), ac(f, 0, 1, 63, 2, 1)], /scan 3 .* refines from bit 2 coefficient 1 of component 0, which an earlier scan left at bit 3 \(Ah must be 3\)/],
    ['band overlapping a refined one', [dc(f, 0, 0), ac(f, 2, 1, 9, 0, 1), ac(f, 2, 5, 20, 1, 0)], /scan 3 \(Ss=5 Se=20 Ah=1 Al=0\) refines coefficient 10 of component 2, which no earlier scan sent/],
    ['first scan sent again before full precision', [dc(f, 0, 0), ac(f, 0, 1, 63, 0, 2), ac(f, 0, 1, 63, 0, 0)], /scan 3 .* sends coefficient 1 of component 0, which an earlier scan left at bit 2 \(Ah must be 2\)/],
    ['DC refined twice from the same bit', [dc(f, 0, 1), dc(f, 1, 0), dc(f, 1, 0)], /scan 3 .* refines from bit 1 DC of component 0, which an earlier scan left at bit 0/],
  ];
  it.each(inconsistent)('%s', (_name, scans, message) => {
    const bytes = writeJpeg(f, CRAFT_TABLES, scans);
    expect(refusal(bytes)).toMatch(message);
    if (hasDjpeg) {
      const ref = djpeg(bytes);
      expect(ref.status).toBe(2);
      expect(ref.stderr).toMatch(/Inconsistent progression sequence/);
    }
  });

  it.skipIf(!hasDjpeg)('the deepest consistent progression (4:2:0, 14 scans per coefficient) is identical to djpeg, without warnings', () => {
    const scans = deepest(f);
    const bytes = writeJpeg(f, CRAFT_TABLES, scans);
    const ref = djpeg(bytes);
    expect(ref.status, ref.stderr).toBe(0);
    const img = decodeJpeg(bytes);
    expect(Buffer.from(img.data).equals(Buffer.from(ref.data))).toBe(true);
    expect(new Set(img.data).size).toBeGreaterThan(4); // the DC noise shows
    expect(img.work.used).toBe(expectedWork(f, scans));
    expect(img.work.used).toBeLessThanOrEqual(img.work.budget);
  });
});

describe('work budget: 14 coefficient visits per coefficient', () => {
  const grey = { width: 100, height: 60, progressive: true };
  const blocks = 13 * 8;

  it('the deepest consistent progression of a grey image uses exactly the budget', () => {
    const img = decodeJpeg(writeJpeg(grey, CRAFT_TABLES, deepest(grey)));
    expect(img.work).toMatchObject({ used: 14 * 64 * blocks, budget: 14 * 64 * blocks });
  });

  it('one scan more — a first scan sent again after full precision, which libjpeg accepts silently — is refused', () => {
    const bytes = writeJpeg(grey, CRAFT_TABLES, [...deepest(grey), ac(grey, 0, 1, 1, 0, 0)]);
    if (hasDjpeg) expect(djpeg(bytes).status).toBe(0);
    expect(refusal(bytes)).toBe('JPEG: scan 29 would bring the decoding work to 93,288 coefficient visits, over this image\'s budget of ' +
      '93,184 (14 per coefficient, what a consistent progression needs at most)');
  });

  it('6320×6320: 1,000 first AC scans sent again at Al=0 (consistent for libjpeg, each one EOB run) stop at scan 16', () => {
    const f = { width: 6320, height: 6320, progressive: true };
    const again = ac(f, 0, 1, 63, 0, 0);
    const bytes = writeJpeg(f, CRAFT_TABLES, [dc(f, 0, 0), ...new Array(1000).fill(again)]);
    const n = 790 * 790;
    // DC (1 per block) + 14 AC scans (63 each) = 883 per block fit in 896; the 15th AC scan would make it 946.
    expect(refusal(bytes)).toBe(`JPEG: scan 16 would bring the decoding work to ${(946 * n).toLocaleString('en-US')} coefficient visits, ` +
      `over this image's budget of ${(896 * n).toLocaleString('en-US')} (14 per coefficient, what a consistent progression needs at most)`);
  }, 60_000);

  it('a crafted progressive or sequential file is charged its scans\' blocks × band widths', () => {
    const seq = { width: 100, height: 60, progressive: false };
    const seqScan: ScanSpec = { components: [0], ss: 0, se: 63, ah: 0, al: 0, data: sequentialData(blocks), tables: [[0, 1]] };
    expect(decodeJpeg(writeJpeg(seq, CRAFT_TABLES, [seqScan])).work).toEqual({ used: 64 * blocks, budget: 14 * 64 * blocks, blocksDecoded: blocks, tablesBuilt: 2 });
    const prog = [dc(grey, 0, 1), ac(grey, 0, 1, 5, 0, 2), ac(grey, 0, 6, 63, 0, 2), ac(grey, 0, 1, 63, 2, 1), dc(grey, 1, 0), ac(grey, 0, 1, 63, 1, 0)];
    expect(decodeJpeg(writeJpeg(grey, CRAFT_TABLES, prog)).work.used).toBe(expectedWork(grey, prog));
  });
});

describe('blocks inside EOB runs are counted off, not decoded one by one', () => {
  it('the most scans a consistent progression has (a band per coefficient, 14 scans each: 883) hand the decoder one block per AC scan', () => {
    const f = { width: 640, height: 480, progressive: true };
    const blocks = 80 * 60;
    const scans = [dc(f, 0, 0)];
    for (let k = 1; k < 64; k++) {
      scans.push(ac(f, 0, k, k, 0, 13));
      for (let ah = 13; ah > 0; ah--) scans.push(ac(f, 0, k, k, ah, ah - 1));
    }
    const bytes = writeJpeg(f, CRAFT_TABLES, scans);
    const img = decodeJpeg(bytes);
    expect(img.work).toMatchObject({ used: expectedWork(f, scans), blocksDecoded: blocks + 882 });
    if (hasDjpeg) {
      const ref = djpeg(bytes);
      expect(ref.status, ref.stderr).toBe(0);
      expect(Buffer.from(img.data).equals(Buffer.from(ref.data))).toBe(true);
    }
  });
});

describe('refinements inside EOB runs visit only the coefficients already nonzero', () => {
  it('a nonzero coefficient 63 in every block does not make refinements of band 1..62 decode each block', () => {
    const f = { width: 128, height: 128, progressive: true };
    const blocks = 256;
    // AC table 2: '0' + sign bit = a ±1 coefficient right here (run 0, size 1).
    const tables = [...CRAFT_TABLES, { tc: 1 as const, th: 2, lengths: [1], symbols: [0x01] }];
    const w = new BitWriter();
    for (let i = 0; i < blocks; i++) w.put(0, 1).put(i & 1, 1);
    const last: ScanSpec = { components: [0], ss: 63, se: 63, ah: 0, al: 0, data: w.bytes(), tables: [[0, 2]] };
    const scans = [dc(f, 0, 0), last, ac(f, 0, 1, 62, 0, 1), ac(f, 0, 1, 62, 1, 0)];
    const bytes = writeJpeg(f, tables, scans);
    const img = decodeJpeg(bytes);
    expect(img.work.blocksDecoded).toBe(blocks + blocks + 1 + 1); // DC, coefficient 63, one EOB run each for 1..62
    if (hasDjpeg) {
      const ref = djpeg(bytes);
      expect(ref.status, ref.stderr).toBe(0);
      expect(Buffer.from(img.data).equals(Buffer.from(ref.data))).toBe(true);
    }
  });
});

describe('sequential files send each component once', () => {
  it('a second scan of the same component is refused (djpeg: "Didn\'t expect more than one scan")', () => {
    const f = { width: 64, height: 64, progressive: false };
    const scan: ScanSpec = { components: [0], ss: 0, se: 63, ah: 0, al: 0, data: sequentialData(64), tables: [[0, 1]] };
    const bytes = writeJpeg(f, CRAFT_TABLES, [scan, scan]);
    expect(refusal(bytes)).toBe('JPEG: scan 2 sends component 0 again: a sequential JPEG sends each component in one scan');
    if (hasDjpeg) expect(djpeg(bytes).stderr).toMatch(/Didn't expect more than one scan/);
  });
});

describe('Huffman tables are built when a scan uses them, not when a DHT defines them', () => {
  it('2 MB of DHT segments (110,000 tables) before an 8×8 image: 2 tables built', () => {
    const tables: number[] = [];
    for (let i = 0; i < 3600; i++) tables.push(0x10 | (i & 3), 1, ...new Array<number>(15).fill(0), 0x00); // AC table: one 1-bit code
    const dht = Uint8Array.from([0xff, 0xc4, (tables.length + 2) >> 8, (tables.length + 2) & 0xff, ...tables]);
    const f = { width: 8, height: 8, progressive: false };
    const image = writeJpeg(f, CRAFT_TABLES, [{ components: [0], ss: 0, se: 63, ah: 0, al: 0, data: sequentialData(1), tables: [[0, 1]] }]);
    const copies = 32;
    const bytes = new Uint8Array(image.length + copies * dht.length);
    bytes.set(image.subarray(0, 2));
    for (let i = 0; i < copies; i++) bytes.set(dht, 2 + i * dht.length);
    bytes.set(image.subarray(2), 2 + copies * dht.length); // the image's own DHTs come last and win
    expect(bytes.length).toBeGreaterThan(2e6);
    const img = decodeJpeg(bytes);
    expect([...img.data]).toEqual(new Array(64).fill(128));
    expect(img.work.tablesBuilt).toBe(2);
  }, 60_000);
});

describe('decodeImage reports the work', () => {
  it('DecodeOptions.work gets a JPEG\'s coefficient visits and budget', async () => {
    const { decodeImage } = await import('../../src/image/decode.js');
    const grey = { width: 100, height: 60, progressive: true };
    const scans = [dc(grey, 0, 0), ac(grey, 0, 1, 63, 0, 0)];
    const work = { used: 0, budget: 0 };
    decodeImage(writeJpeg(grey, CRAFT_TABLES, scans), { work });
    expect(work).toEqual({ format: 'JPEG', unit: 'coefficient visits', used: 64 * 104, budget: 14 * 64 * 104 });
  });

  it('a refusal is an ImageInputError naming the input, the format, the work and the budget', async () => {
    const { decodeImage } = await import('../../src/image/decode.js');
    const { ImageInputError } = await import('../../src/image/errors.js');
    const grey = { width: 100, height: 60, progressive: true };
    const bytes = writeJpeg(grey, CRAFT_TABLES, [...deepest(grey), ac(grey, 0, 1, 1, 0, 0)]);
    expect(() => decodeImage(bytes, { name: 'upload.jpg' })).toThrow(ImageInputError);
    expect(() => decodeImage(bytes, { name: 'upload.jpg' })).toThrow(/^upload\.jpg: cannot decode JPEG \(scan 29 would bring the decoding work to 93,288 coefficient visits, over this image's budget of 93,184 /);
  });
});
