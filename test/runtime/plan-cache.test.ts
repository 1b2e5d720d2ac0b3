// The planned-model cache (src/runtime/plan-cache.ts): the second create() of a model file loads the optimized graph
// written by the first instead of running the load passes, and gives the same bits as a session without the cache
// (a ResNet fixture, a small zoo model, a quantized fixture). Never stale: an engine change (the salt stands in for a
// version bump), a changed model file, or a damaged cache (header byte, body byte, truncation) is refused with a
// notice, the passes run, and the cache is rewritten. A read-only folder sends it under OCELLUS_CACHE;
// external data, planCache: false and OCELLUS_PLAN_CACHE=0 leave no cache.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished as onTeardown, vi } from 'vitest';
import { ensureBackend } from '../../kernels/backend.js';
import { InferenceSession, Tensor } from '../../src/index.js';
import { LOAD_PASSES } from '../../src/passes/index.js';
import { PLAN_SUFFIX, planCacheSalt, planCacheStats } from '../../src/runtime/plan-cache.js';
import { SHARED } from '../helpers/onnx-tests.js';
import { haveTestData } from '../helpers/test-data.js';

const FIXTURES = path.join(SHARED, 'fixtures');
const ZOO = path.join(SHARED, 'zoo/small');
const MODELS = {
  resnet: path.join(FIXTURES, 'resnet-tv-tiny-op13/model.onnx'),
  mobilenet: path.join(ZOO, 'mini_mobilenet_v2_op13.onnx'),
  quantized: path.join(FIXTURES, 'resnet-tv-tiny-op13-q8/model.onnx'),
  external: path.join(FIXTURES, 'resnet-hf-tiny-op17-extdata/model.onnx'),
};
const have = haveTestData(Object.values(MODELS), 'plan-cache fixtures (../shared/fixtures, ../shared/zoo/small)');

let tmp: string;
beforeAll(async () => {
  await ensureBackend();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-plan-cache-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
afterEach(() => {
  planCacheSalt.value = '';
  vi.unstubAllEnvs();
});

/** A private copy of a model file (the cache is written beside it). */
function copy(file: string, name = path.basename(path.dirname(file)) + '-' + path.basename(file)): string {
  const dir = fs.mkdtempSync(path.join(tmp, 'm-'));
  const to = path.join(dir, name);
  fs.copyFileSync(file, to);
  return to;
}

/** Creates a session, runs it on a fixed input, releases it: the output's bytes, what the cache did, the notices. */
async function runOnce(file: string, opts: { planCache?: boolean } = {}) {
  const notices: string[] = [];
  const before = tf.memory().numTensors;
  const hits = planCacheStats.hits;
  const spies = LOAD_PASSES.map(p => vi.spyOn(p, 'run'));
  const s = await InferenceSession.create(file, { ...opts, onNotice: l => notices.push(l) });
  const passRuns = spies.reduce((a, spy) => a + spy.mock.calls.length, 0);
  spies.forEach(spy => spy.mockRestore());
  const shape = s.inputMetadata[0]!.shape!.map(d => (typeof d === 'number' ? d : 1));
  const n = shape.reduce((a, d) => a * d, 1);
  const x = new Tensor('float32', Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37)), shape);
  const out = (await s.run({ [s.inputNames[0]!]: x }))[s.outputNames[0]!]!.data as Float32Array;
  const result = { bytes: Buffer.from(out.buffer, out.byteOffset, out.byteLength), use: s.planCache, report: s.passReport, hit: planCacheStats.hits - hits, passRuns, notices };
  await s.release();
  expect(tf.memory().numTensors).toBe(before);
  return result;
}

describe.skipIf(!have)('plan cache', () => {
  it.each(['resnet', 'mobilenet', 'quantized'] as const)('%s: the second create reads the cache (passes not run) and gives the same bits', async which => {
    const file = copy(MODELS[which]);
    const plain = await runOnce(file, { planCache: false });
    expect(plain.use).toBe('off');
    expect(fs.existsSync(file + PLAN_SUFFIX)).toBe(false);
    const first = await runOnce(file);
    expect(first.use).toBe('written');
    expect(first.hit).toBe(0);
    expect(fs.existsSync(file + PLAN_SUFFIX)).toBe(true);
    const second = await runOnce(file);
    expect(second.use).toBe('hit');
    expect(second.hit).toBe(1);
    expect(first.passRuns).toBeGreaterThanOrEqual(LOAD_PASSES.length);
    expect(second.passRuns).toBe(0);
    expect(second.notices).toEqual([]);
    expect(plain.report.some(r => r.changes > 0)).toBe(true);   // the passes did rewrite this model
    expect(second.report).toEqual(first.report);                // their report comes from the cache
    expect(first.bytes.equals(plain.bytes)).toBe(true);
    expect(second.bytes.equals(plain.bytes)).toBe(true);
  });

  it('an engine change (version bump) or a changed model file invalidates the cache', async () => {
    const file = copy(MODELS.resnet, 'model.onnx');
    await runOnce(file);
    planCacheSalt.value = 'next-version';
    const bumped = await runOnce(file);
    expect(bumped.use).toBe('written');
    expect(bumped.notices.join('\n')).toMatch(/another ocellus version/);
    expect((await runOnce(file)).use).toBe('hit');

    fs.copyFileSync(MODELS.mobilenet, file);   // same path, another model
    const reference = await runOnce(MODELS.mobilenet, { planCache: false });
    const changed = await runOnce(file);
    expect(changed.use).toBe('written');
    expect(changed.notices.join('\n')).toMatch(/the model file changed since/);
    expect(changed.bytes.equals(reference.bytes)).toBe(true);
    const again = await runOnce(file);
    expect(again.use).toBe('hit');
    expect(again.bytes.equals(reference.bytes)).toBe(true);
  });

  it.each([
    ['a header byte', (b: Buffer) => { b[14] ^= 0x20; }, /header is damaged|another ocellus|format|model file changed|body/],
    ['a body byte', (b: Buffer) => { b[b.length - 3] ^= 0x01; }, /body checksum does not match/],
    ['truncation', (b: Buffer) => b.subarray(0, b.length - 100), /the body is \d+ bytes, the header says \d+/],
    ['truncation into the header', (b: Buffer) => b.subarray(0, 40), /truncated/],
    ['the magic', (b: Buffer) => { b[0] = 0; }, /not an ocellus plan file/],
  ] as const)('a corrupted cache (%s) is refused with a notice and rebuilt', async (_what, damage, message) => {
    const file = copy(MODELS.resnet);
    const plain = await runOnce(file, { planCache: false });
    await runOnce(file);
    const cache = file + PLAN_SUFFIX;
    const bytes = Buffer.from(fs.readFileSync(cache));
    fs.writeFileSync(cache, damage(bytes) ?? bytes);
    const refused = await runOnce(file);
    expect(refused.use).toBe('written');
    expect(refused.hit).toBe(0);
    expect(refused.passRuns).toBeGreaterThan(0);
    expect(refused.notices).toHaveLength(1);
    expect(refused.notices[0]).toMatch(message);
    expect(refused.notices[0]).toContain(cache);
    expect(refused.bytes.equals(plain.bytes)).toBe(true);
    const rebuilt = await runOnce(file);
    expect(rebuilt.use).toBe('hit');
    expect(rebuilt.bytes.equals(plain.bytes)).toBe(true);
  });

  it('a read-only folder: the cache goes under OCELLUS_CACHE', async () => {
    const file = copy(MODELS.resnet);
    fs.chmodSync(path.dirname(file), 0o555);   // no write bits: read-only by intent, even when the tests run as root
    onTeardown(() => fs.chmodSync(path.dirname(file), 0o755));
    const cacheDir = fs.mkdtempSync(path.join(tmp, 'cache-'));
    vi.stubEnv('OCELLUS_CACHE', cacheDir);
    const first = await runOnce(file);
    expect(first.use).toBe('written');
    const written = fs.readdirSync(path.join(cacheDir, 'plans'));
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/\.ocellus-plan$/);
    const second = await runOnce(file);
    expect(second.use).toBe('hit');
    expect(second.bytes.equals(first.bytes)).toBe(true);
    expect(fs.readdirSync(path.dirname(file))).toEqual([path.basename(file)]);
  });

  it('no cache for external data, planCache: false, OCELLUS_PLAN_CACHE=0, or passes off', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'ext-'));
    for (const f of ['model.onnx', 'model.onnx.data']) fs.copyFileSync(path.join(path.dirname(MODELS.external), f), path.join(dir, f));
    const ext = await runOnce(path.join(dir, 'model.onnx'));
    expect(ext.use).toBe('off');
    const file = copy(MODELS.resnet);
    expect((await runOnce(file, { planCache: false })).use).toBe('off');
    vi.stubEnv('OCELLUS_PLAN_CACHE', '0');
    expect((await runOnce(file)).use).toBe('off');
    vi.unstubAllEnvs();
    vi.stubEnv('OCELLUS_PASSES', '0');
    expect((await runOnce(file)).use).toBe('off');
    expect(fs.readdirSync(dir).filter(f => f.endsWith(PLAN_SUFFIX))).toEqual([]);
    expect(fs.existsSync(file + PLAN_SUFFIX)).toBe(false);
  });
});
