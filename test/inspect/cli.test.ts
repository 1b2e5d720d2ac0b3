// `ocellus inspect` on a tiny model folder: the summary table, --json, --trace (fused and --unfused), --html, and
// one-line errors with a non-zero exit (in-process through main(), plus one real process for the exit code).
// 'default' resolves to the bundled ResNet-50 (checked through openModel, without planning it).

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { trace } from '../../src/inspect/index.js';
import { openModel } from '../../src/inspect/model.js';
import { DEFAULT_MODEL_ID } from '../../src/pipeline/default-model.js';
import { resnet50Dir, TEST_CACHE } from '../helpers/models.js';
import { LABELS, writeTinyFolder } from './helpers.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const PHOTO = path.resolve(REPO, '../shared/images/photos/skimage/coffee.png');
let tmp: string;
let model: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-inspect-cli-'));
  model = writeTinyFolder(path.join(tmp, 'tiny'));
});

afterEach(() => vi.restoreAllMocks());

/** Runs main() capturing what it prints. */
async function run(...args: string[]): Promise<{ code: number; out: string; err: string[] }> {
  const out: string[] = [], err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => { out.push(a.join(' ')); });
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => { err.push(a.join(' ')); });
  const code = await main(['inspect', ...args]);
  vi.restoreAllMocks();
  return { code, out: out.join('\n'), err };
}

describe('ocellus inspect', () => {
  it('prints the summary: header, ops, nodes with shapes/params/MACs, passes, the optimised plan', async () => {
    const { code, out } = await run(model);
    expect(code).toBe(0);
    expect(out).toContain('TinyCnn');
    expect(out).toMatch(/input\s+pixel_values float32 \[batch, 3, 6, 6\]/);
    expect(out).toMatch(/Conv\s+conv\s+\[1, 4, 6, 6\]\s+112\s+3\.89 K/);   // 4·3·3·3 + 4 params; 144 outputs × 27 = 3888 MACs
    expect(out).toContain('Graph passes: 6 nodes in the file');
    expect(out).toMatch(/fuse-conv-activation\s+1×/);
    expect(out).toContain('local:NhwcConv');
  });

  it('--json: one document with the documented fields', async () => {
    const { code, out } = await run(model, '--json');
    expect(code).toBe(0);
    const doc = JSON.parse(out);
    for (const k of ['id', 'file', 'architecture', 'irVersion', 'opsets', 'producer', 'inputs', 'outputs', 'planInputs', 'params', 'original', 'optimized']) expect(doc, k).toHaveProperty(k);
    expect(doc.original.nodes.map((n: { name: string }) => n.name)).toEqual(['conv', 'relu', 'gap', 'flatten', 'fc', 'softmax']);
    expect(doc.original.nodes[0]).toMatchObject({ opType: 'Conv', domain: '', macs: 3888, params: 112, outputs: [{ shape: [1, 4, 6, 6] }] });
    expect(doc.original.macs).toBe(3888 + 4 * 5);
    expect(doc.optimized).toHaveProperty('passes');
    expect(doc.optimized.applied).toContainEqual({ pass: 'fuse-conv-activation', count: 1 });
    expect(doc.trace).toBeUndefined();
  });

  it('--trace --json: per node time and statistics; --unfused shows every original node', async () => {
    const fused = JSON.parse((await run(model, '--trace', PHOTO, '--json', '--cold')).out);
    expect(fused.trace.optimize).toBe(true);
    expect(fused.trace.nodes.map((n: { opType: string }) => n.opType)).toContain('NhwcConv');
    for (const n of fused.trace.nodes) {
      expect(n.ms).toBeGreaterThanOrEqual(0);
      for (const k of ['min', 'max', 'mean', 'std', 'zeros']) expect(n.stats, `${n.name}.${k}`).toHaveProperty(k);
    }
    expect(fused.trace.predictions.map((p: { label: string }) => p.label).sort()).toEqual(LABELS);
    const unfused = JSON.parse((await run(model, '--trace', PHOTO, '--json', '--unfused')).out);
    expect(unfused.trace.optimize).toBe(false);
    expect(unfused.trace.nodes.map((n: { name: string }) => n.name)).toEqual(['conv', 'relu', 'gap', 'flatten', 'fc', 'softmax']);
  });

  it('--trace prints the statistics table', async () => {
    const { code, out } = await run(model, '--trace', PHOTO, '--cold');
    expect(code).toBe(0);
    expect(out).toMatch(/Trace of .*coffee\.png/);
    expect(out).toMatch(/zeros\s+entropy/);
    expect(out).toContain('Top-5:');
  });

  it('--html writes one self-contained page', async () => {
    const file = path.join(tmp, 'report.html');
    const { code, out } = await run(model, '--trace', PHOTO, '--html', file, '--cold');
    expect(code).toBe(0);
    expect(out).toMatch(/^wrote .*report\.html/);
    const html = fs.readFileSync(file, 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('id="report-data"');
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
  });

  it('errors are one line with a non-zero exit: bad model, bad image, --html without --trace, two models', async () => {
    const cases: [string[], RegExp][] = [
      [[path.join(tmp, 'no-such-model')], /no-such-model: no such file or folder/],
      [[model, '--trace', path.join(tmp, 'tiny', 'config.json')], /config\.json/],
      [[model, '--html', path.join(tmp, 'x.html')], /--html needs --trace/],
      [[model, model], /takes one model/],
    ];
    for (const [args, message] of cases) {
      const { code, err } = await run(...args);
      expect(code, args.join(' ')).toBe(1);
      expect(err, args.join(' ')).toHaveLength(1);
      expect(err[0]!.split('\n')).toHaveLength(1);
      expect(err[0]).toMatch(/^ocellus: /);
      expect(err[0]).toMatch(message);
    }
  });

  it('as a process: a bad model path exits non-zero with one line on stderr', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'src/cli/main.ts'), 'inspect', '/no/such/model.onnx'], { encoding: 'utf8', cwd: REPO });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^ocellus: \/no\/such\/model\.onnx: no such file/);
    expect(r.stdout).toBe('');
  });

  it('the library trace() takes the same model ids and images', async () => {
    const t = await trace(model, PHOTO, { optimize: false });
    expect(t.model.id).toBe(model);
    expect(t.nodes.map(n => n.opType)).toEqual(['Conv', 'Relu', 'GlobalAveragePool', 'Flatten', 'Gemm', 'Softmax']);
    expect(t.image).toMatchObject({ width: 6, height: 6, originalWidth: 600, originalHeight: 400 });
  });

  it("'default' (or no model) is the bundled ResNet-50", async () => {
    await resnet50Dir();
    const m = await openModel('default', { cacheDir: TEST_CACHE, offline: true });
    expect(m.id).toBe(DEFAULT_MODEL_ID);
    expect(m.resolved.dir).toBe(await resnet50Dir());
    expect((await openModel(undefined, { cacheDir: TEST_CACHE, offline: true })).resolved.onnxPath).toBe(m.resolved.onnxPath);
  });
});
