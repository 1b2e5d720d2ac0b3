// The fuzz suite (fuzz/): its mutators are checked against independent references (zlib's CRC-32, byte-exact
// round trips of the seed files), its cases are deterministic, and a short fixed-seed run — the one CI runs —
// ends with no finding. Tests assert no timings: this run's CPU budget is ten times the stated one (1 s + 20 s
// per megapixel), a watchdog for runaway decodes; the stated budget is judged by the long runs (fuzz/README.md).

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { imageCase, onnxCase } from '../fuzz/cases.js';
import { loadCorpus } from '../fuzz/corpus.js';
import { progressiveBomb, stringBomb } from '../fuzz/crafted.js';
import { parseJpeg, serializeJpeg } from '../fuzz/jpeg-mutate.js';
import { mutatePng, parsePng, serializePng } from '../fuzz/png-mutate.js';
import { parseMessage, writeMessage } from '../fuzz/protobuf.js';
import { Rng } from '../fuzz/rng.js';

const REPO = path.resolve(import.meta.dirname, '..');
const corpus = loadCorpus();
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('fuzz mutators', () => {
  it('the corpus has the repo images, generated PNGs of every colour type and the small models', () => {
    expect(corpus.images.filter(s => s.name.includes('test/image/data/jpeg')).length).toBeGreaterThan(20);
    expect(corpus.images.filter(s => s.name.startsWith('generated/')).length).toBe(30);
    expect(corpus.models.some(s => s.dataFile)).toBe(true);   // the external-data fixture, with its data file
  });

  it('generated PNGs decode in zlib and carry valid CRCs; mutated PNGs with CRC fixing too', () => {
    const rng = new Rng(5);
    for (const seed of corpus.images.filter(s => s.name.startsWith('generated/'))) {
      const chunks = parsePng(seed.bytes)!;
      expect(serializePng(chunks)).toEqual(seed.bytes);          // byte-exact round trip
      const idat = Buffer.concat(chunks.filter(c => c.type === 'IDAT').map(c => c.data));
      expect(zlib.inflateSync(idat).length).toBeGreaterThan(0);
      const mutated = serializePng(mutatePng(rng, chunks, 1).chunks);
      for (let pos = 8; pos + 12 <= mutated.length;) {
        const len = Buffer.from(mutated).readUInt32BE(pos);
        const body = mutated.subarray(pos + 4, pos + 8 + len);
        expect(Buffer.from(mutated).readUInt32BE(pos + 8 + len)).toBe(zlib.crc32(body));
        pos += 12 + len;
      }
    }
  });

  it('JPEG segments and ONNX protobuf trees write back byte for byte', () => {
    for (const s of corpus.images.filter(x => /\.jpe?g$/i.test(x.name))) expect(hex(serializeJpeg(parseJpeg(s.bytes)!))).toBe(hex(s.bytes));
    for (const m of corpus.models.filter(x => !x.name.includes('/bad/truncated'))) {
      const tree = parseMessage(m.bytes);
      expect(tree, m.name).not.toBeNull();
      expect(Buffer.compare(Buffer.from(writeMessage(tree!)), Buffer.from(m.bytes)), m.name).toBe(0);
    }
  });

  it('the progressive bomb is many small scans over a huge frame; the STRING bomb declares 2^28 elements', () => {
    const bomb = progressiveBomb(new Rng(1));
    const segs = parseJpeg(bomb.bytes)!;
    const sof = segs.find(s => s.marker === 0xc2)!;
    const [h, w] = [(sof.body[1]! << 8) | sof.body[2]!, (sof.body[3]! << 8) | sof.body[4]!];
    expect(w * h).toBeGreaterThanOrEqual(4096 * 4096);
    const acScans = segs.filter(s => s.marker === 0xda && s.body[3] === 1 && s.body[4] === 63);
    expect(acScans.length).toBeGreaterThanOrEqual(200);
    for (const s of acScans) expect(s.ecs!.length).toBeLessThanOrEqual(48);
    const model = parseMessage(stringBomb())!;
    const graph = (model.find(f => f.no === 7) as { msg: typeof model }).msg;
    const tensor = (graph.find(f => f.no === 5) as { msg: typeof model }).msg;
    expect(tensor.filter(f => f.no === 1).map(f => (f as { value: bigint }).value)).toEqual([2n ** 28n]);
    expect(tensor.find(f => f.no === 2)).toMatchObject({ value: 8n });   // STRING
  });

  it('case i is the same bytes every time it is made, and seeds differ', () => {
    const again = loadCorpus();
    for (const i of [0, 1, 17, 173, 999]) {
      expect(hex(imageCase(1, i, again).bytes)).toBe(hex(imageCase(1, i, corpus).bytes));
      expect(hex(onnxCase(1, i, again).bytes)).toBe(hex(onnxCase(1, i, corpus).bytes));
    }
    const differ = [0, 1, 2, 3, 4, 5].filter(i => hex(imageCase(1, i, corpus).bytes) !== hex(imageCase(2, i, corpus).bytes));
    expect(differ.length).toBeGreaterThanOrEqual(5);
  });
});

describe('fuzz run (CI: seed 1, 300 images + 100 ONNX)', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-fuzz-ci-'));
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

  it('ends with no finding, and every case accounted for', () => {
    const json = path.join(out, 'summary.json');
    const r = spawnSync(path.join(REPO, 'node_modules/.bin/tsx'),
      ['fuzz/run.ts', '--seed', '1', '--images', '300', '--onnx', '100', '--jobs', '2', '--out', out, '--json', json,
        '--budget-fixed-ms', '1000', '--budget-ms-per-mp', '20000', '--budget-ms-per-mib', '1000'],
      { cwd: REPO, encoding: 'utf8', timeout: 600_000 });
    const log = `${r.stdout}${r.stderr}`;
    expect(fs.existsSync(json), log).toBe(true);
    const s = JSON.parse(fs.readFileSync(json, 'utf8')) as {
      outcomes: Record<string, Record<string, number>>; findings: { type: string; kind: string; index: number; detail: string }[];
    };
    const total = (k: string) => Object.values(s.outcomes[k]!).reduce((a, b) => a + b, 0);
    expect([total('image'), total('onnx')]).toEqual([300, 100]);
    // Both outcomes occur: the mutants are neither all refused nor all accepted.
    expect(s.outcomes.image!.decoded).toBeGreaterThan(30);
    expect(s.outcomes.onnx!['loaded and ran']).toBeGreaterThan(3);
    expect(s.findings, log).toEqual([]);
    expect(r.status, log).toBe(0);
  }, 600_000);
});
