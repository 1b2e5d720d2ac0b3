// --cold (issue #20): the flags, the run (fresh processes taking turns, with a stub child standing in for
// bench/cold-child.mjs), the medians and the start-up goals, classify against the onnxruntime-node script (stub
// scripts), the report text and JSON; and real cold children on a small zoo model.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { classifyCold, coldTry, runCold, top1Label, type ColdJob } from '../../bench/cold.js';
import { coldResults, coldTargets, COLD_HEADING } from '../../bench/cold-report.js';
import { parseBenchArgs, type EngineVariant } from '../../bench/options.js';
import { formatReport } from '../../bench/report.js';
import { checkReport, type ColdTry } from '../../bench/schema.js';
import { Progress } from '../../bench/suite.js';
import { ZOO_SOURCE } from '../../bench/zoo.js';
import { REPO } from '../helpers/onnx-tests.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-bench-cold-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const lines: string[] = [];
const progress = new Progress({ write: (s: string) => { lines.push(s); return true; }, isTTY: false } as unknown as NodeJS.WriteStream);
const STUB = path.join(import.meta.dirname, 'stub-cold-child.mjs');
const SMALL = path.join(ZOO_SOURCE, 'small');

describe('--cold flags', () => {
  it('--cold: three tries per engine unless --rounds says otherwise; --dist names the build', () => {
    expect(parseBenchArgs(['--cold'])).toMatchObject({ cold: true, rounds: 3, dist: undefined });
    expect(parseBenchArgs(['--cold', '--rounds', '5', '--dist', 'build'])).toMatchObject({ cold: true, rounds: 5, dist: 'build' });
    expect(parseBenchArgs([])).toMatchObject({ cold: false, rounds: 1 });
  });
});

describe('runCold with a stub child', () => {
  it('every try a fresh process, engines alternating (order reversed every other round); medians, goals, report', async () => {
    const log = path.join(tmp, 'order.log');
    process.env.STUB_COLD_LOG = log;
    const dist = path.join(tmp, 'dist');
    fs.mkdirSync(path.join(dist, 'src'), { recursive: true });
    fs.writeFileSync(path.join(dist, 'src', 'index.js'), '');
    const opts = parseBenchArgs(['--cold', '--models', 'mini_mobilenet_v2_op13', '--engines', 'ocellus:1,ort-node:1', '--dist', dist]);
    opts.engines.push({ kind: 'broken', threads: 1 } as unknown as EngineVariant);
    const r = await runCold(opts, 'ocellus bench --cold', progress, STUB);
    delete process.env.STUB_COLD_LOG;
    // OCELLUS_THREADS is set for ocellus only
    // ocellus twice a round: its plan cache cold (removed first), then warm
    expect(fs.readFileSync(log, 'utf8').trim().split('\n')).toEqual([
      'ocellus:1:1', 'ocellus:1:1', 'ort-node:1:-', 'broken:1:-',
      'broken:1:-', 'ort-node:1:-', 'ocellus:1:1', 'ocellus:1:1',
      'ocellus:1:1', 'ocellus:1:1', 'ort-node:1:-', 'broken:1:-',
    ]);
    expect(r.cold!.tries).toHaveLength(12);
    expect(r.cold!.tries.filter(t => t.kind === 'ocellus').map(t => t.planCache)).toEqual(['cold', 'warm', 'cold', 'warm', 'cold', 'warm']);
    expect(r.cold!.tries.filter(t => t.error).map(t => t.error)).toEqual(Array(3).fill(`${path.join(SMALL, 'mini_mobilenet_v2_op13.onnx')}: cannot load`));
    for (const t of r.cold!.tries.filter(x => !x.error)) expect(t.wallMs).toBeGreaterThan(0);
    expect(r.cold!.results.map(x => [x.engine, x.planCache, x.tries, x.createMs, x.createFirstMs, x.importMs, x.peakRssMiB])).toEqual([
      ['ocellus:1', 'cold', 3, 100, 105, 10, 50], ['ocellus:1', 'warm', 3, 100, 105, 10, 50], ['ort-node:1', 'none', 3, 200, 205, 10, 50]]);
    expect(r.targets).toEqual([expect.objectContaining({ group: 'cold', model: 'mini_mobilenet_v2_op13', ours: 100, theirs: 200, ratio: 0.5, met: true })]);
    expect(r.models[0]).toMatchObject({ id: 'mini_mobilenet_v2_op13', family: 'small-zoo', inputs: "torch's reference input" });
    expect(checkReport(JSON.parse(JSON.stringify(r)))).toEqual([]);
    const text = formatReport(r);
    expect(text).not.toMatch(/images\/s/);   // no warm table
    expect(text).toMatch(/mini mobilenet_v2 op13\s+ocellus\s+1\s+warm\s+3\s+10\.0\s+100\.0\s+5\.0\s+105\.0\s+\d+\.\d\s+50/);
    expect(text).toMatch(/FAILED mini mobilenet_v2 op13 broken:1 \(round 1\): .*cannot load/);
    expect(text).toContain(COLD_HEADING);
    expect(text).toMatch(/CNN family: create ≤ 1\.5 × onnxruntime-node's \(1 threads\)\s+100\.0 ms\s+200\.0 ms\s+0\.50\s+met/);
  }, 60_000);

  it('a missing ocellus build is a clear error', async () => {
    const opts = parseBenchArgs(['--cold', '--models', 'mini_mobilenet_v2_op13', '--engines', 'ocellus:1', '--dist', path.join(tmp, 'nowhere')]);
    await expect(runCold(opts, 'x', progress, STUB)).rejects.toThrow(/nowhere\/src\/index\.js: missing; build ocellus first \(npm run build\)/);
  });
});

describe('cold goals', () => {
  const tryOf = (model: string, kind: string, threads: number, createMs: number, firstRunMs: number, round = 0, planCache = kind === 'ocellus' ? 'warm' : 'none'): ColdTry =>
    ({ model, engine: `${kind}:${threads}`, kind, threads, round, planCache, importMs: 1, createMs, firstRunMs, wallMs: 2000, peakRssMiB: 100 });

  it('create + first run vs onnxruntime-web (0.5 and 1.0) and -node (1.0) for ResNet-50 and ViT-B/16, create vs -node (1.5) for CNNs, classify (1.5)', () => {
    const tries = [
      // the median of create + first over the tries, not the sum of medians: (300+10, 200+150, 310+60) → 350
      tryOf('resnet50', 'ocellus', 2, 300, 10), tryOf('resnet50', 'ocellus', 2, 200, 150, 1), tryOf('resnet50', 'ocellus', 2, 310, 60, 2),
      tryOf('resnet50', 'ocellus', 2, 600, 100, 0, 'cold'),   // the first ever start: judged only by the cache-cold goal
      tryOf('resnet50', 'ort-web', 2, 600, 100), tryOf('resnet50', 'ort-node', 2, 250, 50), tryOf('resnet50', 'ort-node', 1, 10, 1),
      tryOf('vitb16', 'ocellus', 2, 900, 100), tryOf('vitb16', 'ort-web', 2, 1000, 200), tryOf('vitb16', 'ort-node', 2, 400, 100),
      tryOf('swin_t_op13', 'ocellus', 2, 900, 100), tryOf('swin_t_op13', 'ort-node', 2, 100, 100),
    ];
    const results = coldResults(tries);
    expect(results.find(x => x.model === 'resnet50' && x.engine === 'ocellus:2')).toMatchObject({ tries: 3, createMs: 300, firstRunMs: 60, createFirstMs: 350 });
    const t = coldTargets(results, { photo: 'p.jpg', modelDir: 'm', ocellusMs: [3000, 3300, 2900], ortNodeMs: [2000, 2100, 1900], ocellusMedian: 3000, ortNodeMedian: 2000, sameTop1: true });
    const row = (model: string, start: string) => t.filter(x => x.model === model && x.goal.startsWith(start)).map(x => [x.ratio, x.met]);
    expect(row('resnet50', 'create + first run ≤ 0.5 × onnxruntime-web')).toEqual([[350 / 700, true]]);
    expect(row('resnet50', 'create + first run ≤ 1.0 × onnxruntime-node')).toEqual([[350 / 300, false]]);   // at 2 threads, not 1
    expect(row('resnet50', 'create + first run ≤ 1.0 × onnxruntime-web, cache cold')).toEqual([[1, true]]);
    expect(row('vitb16', 'create + first run ≤ 0.5')).toEqual([[1000 / 1200, false]]);
    expect(row('resnet50', 'CNN family')).toEqual([[300 / 250, true]]);
    expect(row('vitb16', 'CNN family')).toEqual([]);
    expect(row('swin_t_op13', 'CNN family')).toEqual([]);
    expect(row('classify', '`ocellus classify')).toEqual([[1.5, true]]);
    expect(t.every(x => x.group === 'cold')).toBe(true);
    expect(row('vitb16', 'create + first run ≤ 1.0 × onnxruntime-web, cache cold')).toEqual([]);   // no cold try of ViT-B/16 here
  });
});

describe('classify against the onnxruntime-node script', () => {
  const script = (name: string, body: string) => { const f = path.join(tmp, name); fs.writeFileSync(f, body); return f; };
  const answer = (label: string) => `process.stdout.write(JSON.stringify([{ input: 'p', results: [{ label: '${label}', score: 0.9 }] }]));`;

  it('alternates the two whole processes, times each, compares their top-1', async () => {
    const order = path.join(tmp, 'classify-order.log');
    const cli = script('cli.mjs', `import fs from 'node:fs'; fs.appendFileSync('${order}', 'cli ' + process.argv.slice(2).join(' ') + '\\n'); ${answer('tench')}`);
    const ortNode = script('ort.mjs', `import fs from 'node:fs'; fs.appendFileSync('${order}', 'ort ' + process.argv.slice(2).join(' ') + '\\n'); ${answer('tench')}`);
    const c = await classifyCold('p.jpg', 'model-dir', 'dist-dir', 3, 60, progress, { cli, ortNode });
    expect(fs.readFileSync(order, 'utf8').trim().split('\n')).toEqual([
      'cli classify p.jpg --model model-dir --json', 'ort p.jpg model-dir dist-dir', 'ort p.jpg model-dir dist-dir',
      'cli classify p.jpg --model model-dir --json', 'cli classify p.jpg --model model-dir --json', 'ort p.jpg model-dir dist-dir']);
    expect(c.ocellusMs).toHaveLength(3);
    expect(c.ortNodeMs).toHaveLength(3);
    expect(c.ocellusMedian).toBeGreaterThan(0);
    expect(c.sameTop1).toBe(true);
    expect(c.error).toBeUndefined();
    const other = script('other.mjs', answer('goldfish'));
    expect((await classifyCold('p.jpg', 'm', 'd', 1, 60, progress, { cli, ortNode: other })).sameTop1).toBe(false);
    const broken = script('broken.mjs', 'console.error("no such model"); process.exit(3);');
    expect((await classifyCold('p.jpg', 'm', 'd', 1, 60, progress, { cli: broken, ortNode })).error).toMatch(/^ocellus classify .*: exit 3: no such model/);
  }, 60_000);

  it('top1Label reads classify --json output', () => {
    expect(top1Label('[{"input":"a","results":[{"label":"tench","score":1}]}]')).toBe('tench');
    expect(top1Label('tench 99%')).toBeUndefined();
  });
});

describe('real cold children on a small zoo model', () => {
  const job = (kind: ColdJob['kind'], modelPath = path.join(SMALL, 'mini_regnet_x_400mf_op13.onnx')): ColdJob =>
    ({ kind, threads: 1, modelPath, dist: path.join(REPO, 'dist'), inputFile: path.join(SMALL, 'input_224.f32'), imageDims: [3, 224, 224], planCache: 'none' });
  const built = fs.existsSync(path.join(REPO, 'dist', 'src', 'index.js'));

  const check = async (kind: ColdJob['kind']) => {
    const t = await coldTry(job(kind), 120);
    expect(t.error).toBeUndefined();
    for (const ms of [t.importMs!, t.createMs!, t.firstRunMs!]) expect(ms).toBeGreaterThan(0);
    expect(t.wallMs!).toBeGreaterThan(t.importMs! + t.createMs! + t.firstRunMs!);
    expect(t.peakRssMiB!).toBeGreaterThan(30);
  };
  it('ort-node: import, create, first run and peak RSS from the child, wall from the parent', () => check('ort-node'), 120_000);
  // ocellus is imported from the build (npm run build), as its users run it
  it.skipIf(!built)('ocellus (from dist/): the same figures', () => check('ocellus'), 120_000);

  it('a model that cannot load is an error naming the file', async () => {
    const t = await coldTry(job('ort-node', path.join(tmp, 'no-such-model.onnx')), 120);
    expect(t.error).toMatch(/no-such-model\.onnx/);
    expect(t.createMs).toBeUndefined();
  }, 120_000);
});
