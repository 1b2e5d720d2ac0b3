// The fuzz harness catches what it claims to: planted cases (a CPU spin, a promise that never settles,
// process.abort(), a thrown string and object, an Error without a message, a decode over its CPU budget, a
// memory balloon) each come back as their own finding, the run exits 1, and a saved finding replays.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = path.resolve(import.meta.dirname, '..');
const TSX = path.join(REPO, 'node_modules/.bin/tsx');

function fuzz(args: string[]) {
  const r = spawnSync(TSX, ['fuzz/run.ts', ...args], { cwd: REPO, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('fuzz harness self-test', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-fuzz-selftest-'));
  const json = path.join(out, 'summary.json');
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

  it('reports every planted misbehaviour as its finding and exits 1; a saved finding replays', () => {
    const r = fuzz(['--images', '0', '--onnx', '0', '--selftest', '--timeout', '1000', '--wall-timeout', '15000',
      '--max-mb', '400', '--out', out, '--json', json]);
    expect(r.code, r.out).toBe(1);
    const summary = JSON.parse(fs.readFileSync(json, 'utf8')) as { findings: { type: string; desc: string; detail: string }[] };
    const byPlant = Object.fromEntries(summary.findings.map(f => [f.desc.replace('planted: ', ''), f]));
    expect(Object.fromEntries(Object.entries(byPlant).map(([k, f]) => [k, f.type]))).toEqual({
      hang: 'hang', 'wall-hang': 'hang', crash: 'crash', 'throw-string': 'non-error', 'throw-object': 'non-error',
      'empty-message': 'empty-message', slow: 'cpu-budget', memory: 'memory',
    });
    expect(byPlant.hang!.detail, JSON.stringify(byPlant.hang)).toMatch(/over the CPU limit/);
    expect(byPlant['wall-hang']!.detail).toMatch(/over the wall limit/);
    expect(byPlant.crash!.detail).toMatch(/SIGABRT/);
    expect(byPlant['throw-string']!.detail).toMatch(/threw string: planted string/);

    const saved = fs.readdirSync(out).filter(f => f.endsWith('.json') && f !== 'summary.json').sort();
    expect(saved).toHaveLength(8);
    const replay = fuzz(['--replay', path.join(out, 'selftest-s1-i2.json')]);
    expect(replay.code, replay.out).toBe(1);
    expect(replay.out).toMatch(/FINDING: crash/);
  }, 300_000);
});
