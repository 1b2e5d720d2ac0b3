// `ocellus classify` as a user runs it: a real child process, the table and --json forms, and one-line errors.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resnet50Dir } from '../helpers/models.js';
import { REPO, SHARED } from '../helpers/onnx-tests.js';

let model: string;
beforeAll(async () => { model = await resnet50Dir(); });

function ocellus(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'src/cli/main.ts'), ...args], { cwd: REPO, encoding: 'utf8', timeout: 600_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const REF: Record<string, { label: string; score: number }[]> =
  JSON.parse(fs.readFileSync(path.join(SHARED, 'reference/resnet50-keras-photos-top5.json'), 'utf8')).results;

describe('ocellus classify', () => {
  it('--json classifies every photo (folders expand) with the reference top-1 where it leads by > 0.02', () => {
    const r = ocellus('classify', path.join(SHARED, 'images/photos'), '--model', model, '--json', '--top-k', '3');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { input: string; results: { label: string; score: number }[] }[];
    expect(out).toHaveLength(20);
    for (const o of out) {
      expect(o.results).toHaveLength(3);
      const ref = REF[path.relative(path.join(SHARED), o.input)]!;
      if (ref[0]!.score - ref[1]!.score > 0.02) expect(o.results[0]!.label, o.input).toBe(ref[0]!.label);
    }
  });

  it('prints a table by default', () => {
    const r = ocellus('classify', path.join(SHARED, 'images/photos/skimage/coffee.png'), '--model', model, '--top-k', '2');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/coffee\.png\n\s+\d+\.\d\d%\s+espresso\n\s+\d+\.\d\d%\s+\S/);
  });

  it('a missing image is one line on stderr with exit 1; the other images are still classified', () => {
    const r = ocellus('classify', '/no/such.jpg', path.join(SHARED, 'images/photos/skimage/coffee.png'), '--model', model, '--json');
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^ocellus: .*\/no\/such\.jpg/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(JSON.parse(r.stdout)).toHaveLength(1);
  });

  it('a bad model path and bad flags are one-line errors; --verbose adds the stack', () => {
    const bad = ocellus('classify', 'x.jpg', '--model', './nope');
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe('ocellus: ./nope: no such file or folder');
    expect(ocellus('classify', 'x.jpg', '--model', './nope', '--verbose').stderr).toMatch(/\n\s+at /);
    const flag = ocellus('classify', 'x.jpg', '--frobnicate');
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/^ocellus: .*frobnicate/);
    expect(ocellus('classify', 'x.jpg', '--top-k', 'zero', '--model', model).stderr.trim()).toBe("ocellus: --top-k must be a positive integer, got 'zero'");
  });
});
