// The JPEG decoder against independent references: PIL's decode (libjpeg-turbo 2.1.5) of the preprocess fixtures,
// SHA-256 of Debian libjpeg-turbo 2.1.5 djpeg output for small generated JPEGs (test/image/data/jpeg), and — when
// cjpeg/djpeg/jpegtran are installed (Debian package libjpeg-turbo-progs) — djpeg on variants made at test time.
// Also EXIF orientation, the header reader, the pixel limit, and clear errors for malformed input.

import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeJpeg, JpegError, readJpegHeader, type JpegImage } from '../../src/image/jpeg/index.js';
import { onnx } from '../../src/onnx/onnx-proto.js';
import { haveTestTool } from '../helpers/test-data.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const shared = path.resolve(here, '../..', '../shared');
const dataDir = path.join(here, 'data/jpeg');
const fixture = (name: string) => new Uint8Array(readFileSync(path.join(dataDir, name)));

interface Diff { exact: number; maxDiff: number; n: number }
function compare(a: Uint8Array, b: Uint8Array): Diff {
  expect(a.length).toBe(b.length);
  let exact = 0;
  let maxDiff = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d === 0) exact++;
    else if (d > maxDiff) maxDiff = d;
  }
  return { exact, maxDiff, n: a.length };
}
const share = (d: Diff) => `${((100 * d.exact) / d.n).toFixed(4)}% exact, max |diff| ${d.maxDiff}`;

/** Expects decoding to throw a JpegError whose message starts with "JPEG: " and matches `pattern`, quickly. */
function expectJpegError(bytes: Uint8Array, pattern: RegExp, opts?: { maxPixels?: number }): string {
  const t0 = performance.now();
  let err: unknown;
  try {
    decodeJpeg(bytes, opts);
  } catch (e) {
    err = e;
  }
  const ms = performance.now() - t0;
  expect(err).toBeInstanceOf(JpegError);
  const msg = (err as Error).message;
  expect(msg.startsWith('JPEG: ')).toBe(true);
  expect(msg).toMatch(pattern);
  expect(ms).toBeLessThan(3000); // generous: the CI machine is shared
  return msg;
}

describe('decodeJpeg vs PIL (Pillow 9.4 / libjpeg-turbo 2.1.5) decoded-rgb fixtures', () => {
  for (const name of ['dog', 'fruits', 'squirrel_cls']) {
    it(`${name}.jpg is value-for-value identical`, () => {
      const img = decodeJpeg(new Uint8Array(readFileSync(path.join(shared, `fixtures/preprocess/images/${name}.jpg`))));
      const ref = onnx.TensorProto.decode(readFileSync(path.join(shared, `fixtures/preprocess/${name}.decoded-rgb.pb`)));
      const dims = ref.dims.map(d => (typeof d === 'number' ? d : Number(d)));
      expect([img.height, img.width, img.channels]).toEqual(dims);
      const d = compare(img.data, ref.rawData);
      console.log(`PIL ${name}.jpg ${img.width}×${img.height}: ${share(d)}`);
      expect(d.exact).toBe(d.n);
    });
  }
});

describe('decodeJpeg vs djpeg (libjpeg-turbo 2.1.5) hashes of generated fixtures', () => {
  const manifest = JSON.parse(readFileSync(path.join(dataDir, 'djpeg.json'), 'utf8')) as {
    djpeg: string;
    files: Record<string, { width: number; height: number; channels: number; sha256: string }>;
  };
  it('covers progressive, smoothing, every sampling layout, greyscale, RGB, restarts and 4 components', () => {
    expect(manifest.djpeg).toContain('2.1.5');
    expect(Object.keys(manifest.files)).toEqual(expect.arrayContaining([
      'prog2x2.jpg', 'smooth-partial.jpg', 'smooth-dconly.jpg', 's2x1.jpg', 's1x2.jpg', 's4x1.jpg', 's3x2.jpg',
      'gray.jpg', 'rgb.jpg', 'restart.jpg', 'seqscans.jpg', 'cmyk-adobe.jpg', 'ycck-adobe.jpg', 'tiny2x9.jpg',
    ]));
  });
  for (const [name, ref] of Object.entries(manifest.files)) {
    it(name, () => {
      const img = decodeJpeg(fixture(name));
      expect({ width: img.width, height: img.height, channels: img.channels })
        .toEqual({ width: ref.width, height: ref.height, channels: ref.channels });
      expect(createHash('sha256').update(img.data).digest('hex')).toBe(ref.sha256);
    });
  }
});

describe('EXIF orientation', () => {
  const base = fixture('s2x2.jpg');
  /** Inserts an APP1 segment right after SOI. */
  const withApp1 = (jpeg: Uint8Array, payload: Uint8Array) => {
    const seg = [0xff, 0xe1, (payload.length + 2) >> 8, (payload.length + 2) & 255, ...payload];
    return Uint8Array.from([...jpeg.subarray(0, 2), ...seg, ...jpeg.subarray(2)]);
  };
  /** "Exif\0\0" + a TIFF header + IFD0 with the given (tag, type, value) entries. */
  const exif = (order: 'II' | 'MM', entries: [number, number, number][]) => {
    const le = order === 'II';
    const b: number[] = [];
    const u16 = (v: number) => (le ? b.push(v & 255, v >> 8) : b.push(v >> 8, v & 255));
    const u32 = (v: number) => (le ? [0, 8, 16, 24] : [24, 16, 8, 0]).forEach(s => b.push((v >>> s) & 255));
    b.push(...Buffer.from('Exif\0\0'), ...Buffer.from(order));
    u16(42);
    u32(8);
    u16(entries.length);
    for (const [tag, type, value] of entries) {
      u16(tag);
      u16(type);
      u32(1);
      if (type === 3) {
        u16(value);
        u16(0);
      } else u32(value);
    }
    u32(0);
    return Uint8Array.from(b);
  };

  it('is 1 without EXIF', () => {
    expect(decodeJpeg(base).orientation).toBe(1);
  });
  it('reads little-endian (II) and big-endian (MM) IFD0 tag 0x0112, without applying it', () => {
    const plain = decodeJpeg(base);
    const ii = decodeJpeg(withApp1(base, exif('II', [[0x010f, 2, 0], [0x0112, 3, 6]])));
    const mm = decodeJpeg(withApp1(base, exif('MM', [[0x0112, 3, 8], [0x011a, 5, 0]])));
    expect(ii.orientation).toBe(6);
    expect(mm.orientation).toBe(8);
    expect([ii.width, ii.height]).toEqual([plain.width, plain.height]);
    expect(Buffer.compare(ii.data, plain.data)).toBe(0);
  });
  it('reads the orientation of the shared photos that carry EXIF', () => {
    const dog = decodeJpeg(new Uint8Array(readFileSync(path.join(shared, 'images/photos/darknet/dog.jpg'))));
    expect(dog.orientation).toBe(1); // 'orientation=upper-left' per file(1)
  });
  it('tolerates junk: bad byte order, bad magic, truncated IFD, out-of-range value → 1', () => {
    const junk = [
      Uint8Array.from([...Buffer.from('Exif\0\0'), 0x58, 0x58, 0, 42, 0, 0, 0, 8]),
      Uint8Array.from([...Buffer.from('Exif\0\0'), 0x49, 0x49, 43, 0, 8, 0, 0, 0]),
      exif('II', [[0x0112, 3, 6]]).subarray(0, 20),
      Uint8Array.from([...Buffer.from('Exif\0\0'), 0x4d, 0x4d, 0, 42, 0xff, 0xff, 0xff, 0xf0]),
      exif('MM', [[0x0112, 3, 9]]),
      exif('II', [[0x0112, 3, 0]]),
      Buffer.from('Exif'),
    ];
    for (const payload of junk) expect(decodeJpeg(withApp1(base, payload)).orientation).toBe(1);
  });
  it('uses only the first Exif segment, as PIL does', () => {
    const twice = withApp1(withApp1(base, exif('II', [[0x0112, 3, 3]])), exif('II', [[0x0112, 3, 5]]));
    expect(decodeJpeg(twice).orientation).toBe(5);
  });
});

/** Returns a copy of a baseline/progressive JPEG with its SOF patched by `edit(bytes, sofPayloadStart)`. */
function patchSof(jpeg: Uint8Array, edit: (b: Uint8Array, p: number) => void): Uint8Array {
  const b = Uint8Array.from(jpeg);
  for (let p = 2; p < b.length;) {
    const m = b[p + 1];
    if (m >= 0xc0 && m <= 0xc2) {
      edit(b, p);
      return b;
    }
    p += 2 + ((b[p + 2] << 8) | b[p + 3]);
  }
  throw new Error('no SOF');
}
const setSize = (w: number, h: number) => (b: Uint8Array, p: number) => {
  b[p + 5] = h >> 8; b[p + 6] = h & 255; b[p + 7] = w >> 8; b[p + 8] = w & 255;
};

describe('readJpegHeader and the pixel limit', () => {
  it('reads size, components and progressive flag from the SOF', () => {
    expect(readJpegHeader(fixture('s2x2.jpg'))).toEqual({ width: 97, height: 71, components: 3, progressive: false });
    expect(readJpegHeader(fixture('prog-gray.jpg'))).toEqual({ width: 97, height: 71, components: 1, progressive: true });
    expect(readJpegHeader(fixture('cmyk-adobe.jpg'))).toMatchObject({ components: 4 });
  });
  it('reports a huge declared size without allocating, and decodeJpeg refuses it before any pixel buffer', () => {
    const huge = patchSof(fixture('s2x2.jpg'), setSize(12000, 9000));
    expect(readJpegHeader(huge)).toMatchObject({ width: 12000, height: 9000 });
    const msg = expectJpegError(huge, /over the 40 MP limit/);
    expect(msg).toBe('JPEG: image is 12000×9000 = 108.0 MP, over the 40 MP limit');
  });
  it('honours maxPixels', () => {
    expectJpegError(fixture('s2x2.jpg'), /^JPEG: image is 97×71 = 0\.0069 MP, over the 0\.005 MP limit$/, { maxPixels: 5000 });
    expect(decodeJpeg(fixture('s2x2.jpg'), { maxPixels: 97 * 71 }).width).toBe(97);
  });
  it('throws JPEG errors for non-JPEG data', () => {
    expect(() => readJpegHeader(new Uint8Array([0x89, 0x50, 0x4e, 0x47]))).toThrow(/^JPEG: not a JPEG file/);
    expect(() => readJpegHeader(new Uint8Array(0))).toThrow(/^JPEG: not a JPEG file/);
  });
});

describe('malformed and unsupported input gives a clear JPEG: error', () => {
  const base = fixture('s2x2.jpg');
  const prog = fixture('prog2x2.jpg');
  const photo = new Uint8Array(readFileSync(path.join(shared, 'images/photos/skimage/rocket.jpg')));

  it('empty, tiny and random input', () => {
    expectJpegError(new Uint8Array(0), /not a JPEG file: only 0 byte/);
    expectJpegError(new Uint8Array([0xff]), /not a JPEG file/);
    expectJpegError(new Uint8Array([0xff, 0xd8]), /no image data/);
    let seed = 7;
    const random = Uint8Array.from({ length: 4096 }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 24));
    expectJpegError(random, /not a JPEG file/);
    random[0] = 0xff;
    random[1] = 0xd8;
    expectJpegError(random, /^JPEG: /);
  });

  it('truncation at 10%, 50% and 99% (baseline, progressive, a 640-px photo)', () => {
    for (const jpeg of [base, prog, photo]) {
      for (const f of [0.1, 0.5, 0.99]) {
        const cut = jpeg.subarray(0, Math.floor(jpeg.length * f));
        const msg = expectJpegError(cut, /truncated/);
        if (f > 0.5) expect(msg).toMatch(/truncated (data in scan \d+ at byte \d+ of \d+|file)/);
      }
    }
    // The exact message shape for entropy data that runs out.
    expectJpegError(photo.subarray(0, photo.length - 500), /^JPEG: truncated data in scan 1 at byte \d+ of \d+ \(MCU \d+ of \d+\)$/);
  });

  it('progressive file missing its last scans (EOI absent) is refused like PIL does', () => {
    const sos: number[] = [];
    for (let p = 0; p + 1 < prog.length; p++) if (prog[p] === 0xff && prog[p + 1] === 0xda) sos.push(p);
    expectJpegError(prog.subarray(0, sos[3]), /truncated file: ends after scan 3 .* without an EOI marker/);
  });

  it('corrupted Huffman data', () => {
    const b = Uint8Array.from(photo);
    b.fill(0xfe, Math.floor(b.length / 2), Math.floor(b.length / 2) + 64);
    expectJpegError(b, /^JPEG: corrupt data in scan 1 at byte \d+ of \d+ \(MCU \d+ of \d+\): (bad Huffman code|AC coefficient index past 63)/);
  });

  it('bad or zero sizes, bad sampling, bad tables', () => {
    expectJpegError(patchSof(base, setSize(0, 71)), /SOF declares an empty image \(0×71/);
    expectJpegError(patchSof(base, setSize(97, 0)), /empty image .*DNL/);
    expectJpegError(patchSof(base, (b, p) => { b[p + 11] = 0x51; }), /bad sampling factors 5x1/);
    expectJpegError(patchSof(base, (b, p) => { b[p + 3] -= 3; }), /SOF length 14 does not match 3 components/);
    expectJpegError(patchSof(base, (b, p) => { b[p + 2] = 0; b[p + 3] = 1; }), /SOF0 segment at byte \d+ has bad length 1/);
    expectJpegError(patchSof(base, (b, p) => { b[p + 12] = 3; }), /quantisation table 3, which is not defined/);
  });

  it('unsupported coding processes are named', () => {
    expectJpegError(patchSof(base, (b, p) => { b[p + 1] = 0xc9; }), /arithmetic-coded \(SOF9\) JPEG is not supported/);
    expectJpegError(patchSof(base, (b, p) => { b[p + 1] = 0xc3; }), /lossless \(SOF3\) JPEG is not supported/);
    expectJpegError(patchSof(base, (b, p) => { b[p + 4] = 12; }), /12-bit samples are not supported/);
    expect(() => readJpegHeader(patchSof(base, (b, p) => { b[p + 1] = 0xca; }))).toThrow(/arithmetic-coded \(SOF10\)/);
  });

  it('random corruption never escapes as a non-JPEG error or hangs', () => {
    let seed = 99;
    const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < 150; i++) {
      const src = [base, prog, fixture('prog-restart.jpg'), fixture('restart.jpg')][i % 4];
      const b = Uint8Array.from(src);
      for (let k = 0; k < 1 + (i % 6); k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      const t0 = performance.now();
      try {
        const img = decodeJpeg(b);
        expect(img.data.length).toBe(img.width * img.height * img.channels);
      } catch (e) {
        expect(e).toBeInstanceOf(JpegError);
        expect((e as Error).message.startsWith('JPEG: ')).toBe(true);
      }
      expect(performance.now() - t0).toBeLessThan(3000);
    }
  });
});

// djpeg at test time: Debian's libjpeg-turbo-progs (cjpeg, djpeg, jpegtran). CI installs it; elsewhere these skip.
const hasTools = haveTestTool(['cjpeg', 'djpeg', 'jpegtran'].every(t => spawnSync(t, ['-version']).status === 0), 'cjpeg, djpeg and jpegtran (Debian package libjpeg-turbo-progs)');
describe.skipIf(!hasTools)('decodeJpeg vs djpeg on variants made at test time (needs libjpeg-turbo-progs)', () => {
  const tmp = hasTools ? mkdtempSync(path.join(tmpdir(), 'ocellus-jpeg-')) : '';
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });
  const djpeg = (file: string) => {
    const b = execFileSync('djpeg', ['-pnm', file], { maxBuffer: 1 << 28 });
    let p = 0;
    const tok: string[] = [];
    while (tok.length < 4) {
      while (b[p] === 0x20 || b[p] === 0x0a) p++;
      let s = '';
      while (b[p] !== 0x20 && b[p] !== 0x0a) s += String.fromCharCode(b[p++]);
      tok.push(s);
    }
    return { width: +tok[1], height: +tok[2], channels: tok[0] === 'P6' ? 3 : 1, data: b.subarray(p + 1) };
  };
  const check = (file: string): JpegImage => {
    const img = decodeJpeg(new Uint8Array(readFileSync(file)));
    const ref = djpeg(file);
    expect([img.width, img.height, img.channels]).toEqual([ref.width, ref.height, ref.channels]);
    const d = compare(img.data, ref.data);
    if (d.exact !== d.n) console.log(`${path.basename(file)}: ${share(d)}`);
    expect(d.exact).toBe(d.n);
    return img;
  };

  it('Debian djpeg is libjpeg-turbo 2.1.5, the version in PIL 9.4 wheels', () => {
    const v = spawnSync('djpeg', ['-version'], { encoding: 'utf8' });
    console.log(`djpeg: ${(v.stdout + v.stderr).trim()}`);
    expect(v.stdout + v.stderr).toMatch(/libjpeg-turbo version 2\.1\.5/);
  });

  it('every shared photo is identical to djpeg', () => {
    const dirs = ['darknet', 'opencv-doc', 'skimage'].map(d => path.join(shared, 'images/photos', d));
    const files = dirs.flatMap(d => readdirSync(d).filter(f => f.endsWith('.jpg')).map(f => path.join(d, f)));
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) check(f);
  });

  it('cjpeg/jpegtran variants of a photo: sampling, progressive, restarts, optimised tables, greyscale, smoothing', () => {
    const src = path.join(shared, 'images/photos/opencv-doc/butterfly.jpg');
    const ppm = path.join(tmp, 'src.ppm');
    writeFileSync(ppm, execFileSync('djpeg', ['-pnm', src], { maxBuffer: 1 << 28 }));
    const scans = path.join(tmp, 'partial.scans');
    writeFileSync(scans, '0,1,2: 0-0, 0, 1;\n0: 1-63, 0, 2;\n1: 1-9, 0, 1;\n2: 1-63, 0, 1;\n0,1,2: 0-0, 1, 0;\n0: 1-63, 2, 1;\n');
    const variants: Record<string, string[]> = {
      'sample-1x2': ['-sample', '1x2'], 'sample-2x1': ['-sample', '2x1'], 'sample-1x1': ['-sample', '1x1'],
      'sample-4x2': ['-sample', '4x2'], 'sample-1x4': ['-sample', '1x4'], grayscale: ['-grayscale'],
      'restart-1': ['-restart', '1'], optimize: ['-optimize', '-sample', '1x2'], rgb: ['-rgb'],
      progressive: ['-progressive'], 'progressive-restart': ['-progressive', '-restart', '3B', '-sample', '2x1'],
      'smoothing': ['-progressive', '-scans', scans, '-sample', '1x2'],
    };
    for (const [name, args] of Object.entries(variants)) {
      const out = path.join(tmp, `${name}.jpg`);
      writeFileSync(out, execFileSync('cjpeg', ['-quality', '85', ...args, ppm], { maxBuffer: 1 << 28 }));
      check(out);
    }
    for (const [name, args] of Object.entries({ 'jpegtran-progressive': ['-progressive'], 'jpegtran-rotate': ['-rotate', '90'] })) {
      const out = path.join(tmp, `${name}.jpg`);
      writeFileSync(out, execFileSync('jpegtran', [...args, path.join(shared, 'images/photos/darknet/dog.jpg')], { maxBuffer: 1 << 28 }));
      check(out);
    }
  });
});
