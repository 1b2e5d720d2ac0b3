// The zoo in the bench (issue #21): --models zoo / small-zoo / by name, a small twin run by a real bench child and
// checked against torch's logits (the committed references of ../shared/zoo/small), the export on first use (a stub
// Python that writes the files) and its clear error without torch, the relative error, and the dev-set goals.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { modelSpec } from '../../bench/models.js';
import { parseModels, ZOO_IDS, zooParts } from '../../bench/options.js';
import { formatReport, targetChecks, timingRows } from '../../bench/report.js';
import { checkReport } from '../../bench/schema.js';
import { Progress, startChild } from '../../bench/suite.js';
import { prepareZoo, readF32, relError, zooCheck, zooTargets, ZOO_SOURCE } from '../../bench/zoo.js';
import { syntheticReport } from './fixtures.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-bench-zoo-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const quiet = new Progress({ write: () => true, isTTY: false } as unknown as NodeJS.WriteStream);

describe('zoo model ids', () => {
  it('zoo = the seven dev-set models at opset 13, small-zoo their twins; a bare name means opset 13', () => {
    expect(parseModels('zoo')).toEqual(['mobilenet_v2_op13', 'mobilenet_v3_small_op13', 'efficientnet_b1_op13', 'regnet_x_400mf_op13',
      'shufflenet_v2_x0_5_op13', 'convnext_tiny_op13', 'swin_t_op13']);
    expect(parseModels('small-zoo').every(id => id.startsWith('mini_') && id.endsWith('_op13'))).toBe(true);
    expect(parseModels('Convnext_Tiny_op17,resnet50,mobilenet_v2,mini_swin_t')).toEqual(['convnext_tiny_op17', 'resnet50', 'mobilenet_v2_op13', 'mini_swin_t_op13']);
    expect(ZOO_IDS).toHaveLength(20);   // 7 + 3 opset-17 files, full and small
    expect(zooParts('mini_swin_t_op17')).toEqual({ name: 'swin_t', opset: 17, small: true });
    expect(zooParts('resnet50')).toBeUndefined();
    expect(modelSpec('convnext_tiny_op13')).toMatchObject({ name: 'convnext_tiny op13', family: 'zoo', trained: false });
    expect(modelSpec('mini_regnet_x_400mf_op13')).toMatchObject({ family: 'small-zoo', macsPerImage: 0 });
  });

  it('every small twin named in the ids is committed with its references', async () => {
    for (const id of ZOO_IDS.filter(z => z.startsWith('mini_'))) {
      const m = await prepareZoo(id, path.join(tmp, 'unused'), () => { throw new Error('no export for a small twin'); });
      expect(readF32(m.logitsB2).length).toBe(2 * m.classes);
      expect(fs.statSync(m.inputB2).size).toBe(2 * 4 * m.inputDims.reduce((a, b) => a * b, 1));
    }
  });
});

describe('relError', () => {
  it('max |ours − ref| over max |ref|; NaN propagates; a length mismatch is an error', () => {
    expect(relError([1, 2, -4], [1, 2.5, -4])).toBeCloseTo(0.5 / 4, 15);
    expect(relError([0, 0], [0, -2])).toBe(1);
    expect(relError([NaN, 0], [1, 1])).toBeNaN();
    expect(() => relError([1], [1, 2])).toThrow(/output has 1 values, torch's logits 2/);
  });
});

describe('a small twin through a real bench child', () => {
  it.each(['ocellus', 'ort-web'] as const)('%s: outputs at batch 1 and 2 within 1e-4 of torch, same top-1; a wrong reference is caught', async kind => {
    const m = await prepareZoo('mini_mobilenet_v3_small_op17', tmp, () => {});
    const child = await startChild({
      model: 'mini_mobilenet_v3_small_op17', modelPath: m.onnxPath, engine: { kind, threads: 1 }, inputs: { file: m.inputB2, count: 2, imageDims: m.inputDims },
      batches: [1], runs: 1, warmup: 0, accuracy: 0, accuracyBatch: 1, profile: false, soak: 0, checkBatches: [1, 2],
    }, quiet, false);
    await child.time(1, 1, 0);
    const res = await child.finish();
    expect(res.checks!.map(c => [c.batch, c.data.length])).toEqual([[1, m.classes], [2, 2 * m.classes]]);
    const c = zooCheck('mini_mobilenet_v3_small_op17', `${kind}:1`, m, res.checks!);
    expect(c.relB1).toBeLessThan(1e-4);
    expect(c.relB2).toBeLessThan(1e-4);
    expect(c.top1Equal).toBe(true);
    // Against another model's logits the check fails.
    const other = await prepareZoo('mini_regnet_x_400mf_op13', tmp, () => {});
    expect(zooCheck('x', 'e', { ...m, logits: other.logits, logitsB2: other.logitsB2 }, res.checks!).relB1).toBeGreaterThan(1e-2);
  }, 120_000);
});

describe('export on first use', () => {
  /** A stand-in for /usr/bin/python3: `-c …` succeeds (or fails, for the no-torch case); `export.py --out DIR --only NAME`
   *  writes NAME's files and manifest as export.py does, and records its arguments. */
  function stubPython(torch: boolean): string {
    const file = path.join(tmp, `python-${torch}.mjs`);
    fs.writeFileSync(file, `#!${process.execPath}
import fs from 'node:fs'; import path from 'node:path';
const a = process.argv.slice(2);
if (a[0] === '-c') { if (!${torch}) { console.error("ModuleNotFoundError: No module named 'torch'"); process.exit(1); } process.exit(0); }
const out = a[a.indexOf('--out') + 1], name = a[a.indexOf('--only') + 1];
fs.writeFileSync(path.join(out, 'args.json'), JSON.stringify(a));
const f = n => (fs.writeFileSync(path.join(out, n), new Uint8Array(8)), n);
fs.writeFileSync(path.join(out, 'models.json'), JSON.stringify([{ file: f(name + '_op13.onnx'), input: f(name + '_input.f32'), logits: f(name + '_logits.f32'),
  input_b2: f(name + '_input_b2.f32'), logits_b2: f(name + '_logits_b2.f32'), input_shape: [1, 3, 224, 224], output_shape: [1, 1000] }]));
`);
    fs.chmodSync(file, 0o755);
    return file;
  }

  it('a missing full-size model is exported into the zoo folder with a message saying so, then reused', async () => {
    const dir = path.join(tmp, 'zoo');
    const log: string[] = [];
    const m = await prepareZoo('regnet_x_400mf_op13', dir, l => log.push(l), ZOO_SOURCE, stubPython(true));
    expect(m.onnxPath).toBe(path.join(dir, 'regnet_x_400mf_op13.onnx'));
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'args.json'), 'utf8'))).toEqual([path.join(ZOO_SOURCE, 'export.py'), '--out', dir, '--only', 'regnet_x_400mf']);
    expect(log[0]).toMatch(/regnet_x_400mf_op13\.onnx is missing: exporting regnet_x_400mf with .*export\.py \(once; the whole dev set is ~560 MB/);
    const again: string[] = [];
    await prepareZoo('regnet_x_400mf_op13', dir, l => again.push(l), ZOO_SOURCE, '/no/such/python');
    expect(again).toEqual([]);
  }, 60_000);   // two stub processes: generous for a loaded machine

  it('without torch: a clear error naming the packages, and nothing exported', async () => {
    const dir = path.join(tmp, 'zoo-no-torch');
    await expect(prepareZoo('swin_t_op13', dir, () => {}, ZOO_SOURCE, stubPython(false)))
      .rejects.toThrow(/swin_t_op13\.onnx is missing and cannot be exported: .* has no torch\/torchvision\/onnx \(ModuleNotFoundError: No module named 'torch'\)\. Install Debian's python3-torch python3-torchvision python3-onnx/);
    expect(fs.existsSync(dir)).toBe(false);
  }, 60_000);
});

describe('dev-set goals', () => {
  /** syntheticReport's ResNet-50 figures (ratio 160/210) re-labelled as two dev-set models, plus torch checks. */
  function zooReport() {
    const r = syntheticReport();
    const ids = ['mobilenet_v2_op13', 'convnext_tiny_op13'];
    r.models = ids.map(id => ({ id, name: modelSpec(id as 'mobilenet_v2_op13').name, macsPerImage: 1e9, path: `${id}.onnx`, inputs: 'torch', family: 'zoo' }));
    const scale = { mobilenet_v2_op13: 1, convnext_tiny_op13: 2 } as Record<string, number>;
    r.engines = ids.flatMap(model => ['ocellus:2', 'ort-web:2'].map(engine => ({ model, engine, kind: engine.split(':')[0]!, threads: 2, peakRssMiB: 100, info: {} })));
    r.results = ids.flatMap(model => [
      ...timingRows({ model, engine: 'ocellus:2', kind: 'ocellus', threads: 2 }, [{ batch: 1, rounds: [[50 * scale[model]!]] }, { batch: 8, rounds: [[300]] }], 1e9, 1),
      ...timingRows({ model, engine: 'ort-web:2', kind: 'ort-web', threads: 2 }, [{ batch: 1, rounds: [[100]] }, { batch: 8, rounds: [[400]] }], 1e9, 1),
    ]);
    r.zooChecks = [
      { model: ids[0]!, engine: 'ocellus:2', relB1: 2e-6, relB2: 3e-6, top1Equal: true }, { model: ids[0]!, engine: 'ort-web:2', relB1: 1e-6, relB2: 1e-6, top1Equal: true },
      { model: ids[1]!, engine: 'ocellus:2', relB1: 2e-6, relB2: 5e-3, top1Equal: true },
    ];
    r.soak = [];
    r.accuracy = [];
    r.targets = targetChecks(r);
    r.targets.push(...zooTargets(r, () => 2));
    return r;
  }

  it('per model: latency and throughput vs onnxruntime-web, logits vs torch (worst of batch 1 and 2); no RSS goal; the geometric mean', () => {
    const r = zooReport();
    const goals = (model: string) => r.targets.filter(t => t.model === model).map(t => [t.goal.split(' (')[0], t.met]);
    expect(goals('mobilenet_v2_op13')).toEqual([
      ['batch 1 median latency ≤ 0.8 × onnxruntime-web', true], ['batch 8 throughput ≥ 1.25 × onnxruntime-web', true],
      ["logits within 0.0001 of torch's, batch 1 and 2", true]]);
    expect(r.targets.find(t => t.model === 'convnext_tiny_op13' && t.unit === 'rel')).toMatchObject({ ours: 5e-3, met: false });
    expect(r.targets.find(t => t.model === 'mobilenet_v2_op13' && t.unit === 'rel')).toMatchObject({ ours: 3e-6, theirs: 1e-6 });
    // ratios 0.5 and 1.0: geometric mean √0.5
    const g = r.targets.find(t => t.model === 'dev set')!;
    expect(g.ratio).toBeCloseTo(Math.SQRT1_2, 12);
    expect(g).toMatchObject({ met: false });
    expect(g.goal).toMatch(/\(2 of 2 models ran on both\)/);
    expect(g.perRound).toBeUndefined();   // one round
    // with rounds: each round's geometric mean (ratios 0.5, 1 then 0.25, 1)
    const [m1, m2] = r.targets.filter(t => t.goal.startsWith('batch 1 median latency'));
    m1!.perRound = [0.5, 0.25];
    m2!.perRound = [1, 1];
    const rounds = zooTargets(r, () => 2).find(t => t.model === 'dev set')!.perRound!;
    expect(rounds).toHaveLength(2);
    expect(rounds[0]).toBeCloseTo(Math.SQRT1_2, 12);
    expect(rounds[1]).toBeCloseTo(0.5, 12);
    expect(checkReport(JSON.parse(JSON.stringify(r)))).toEqual([]);
    const text = formatReport(r);
    expect(text).toMatch(/convnext_tiny op13\s+ocellus:2\s+2\.00e-6\s+5\.00e-3\s+yes/);
    expect(text).toMatch(/logits within 0\.0001 .*\s+5\.00e-3\s+–\s+–\s+NOT met/);
    expect(text).toMatch(/dev set\s+geometric mean .*\s+0\.71 ×\s+–\s+0\.71\s+NOT met/);
  });
});
