// The built package as a user's project sees it: `import { … } from 'ocellus'` through the exports map from plain
// Node (no TypeScript loader), typings present, and the `ocellus` bin. A directory install (what `npm install
// <path>` does) is a symlink in node_modules plus a bin link: made by hand here to keep the test fast.

import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO } from './helpers/onnx-tests.js';

const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
let project: string;

beforeAll(() => {
  if (!fs.existsSync(path.join(REPO, 'dist/src/index.js'))) execFileSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'ignore' });
  project = fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-user-'));
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'user-project', type: 'module', private: true }));
  fs.mkdirSync(path.join(project, 'node_modules/.bin'), { recursive: true });
  fs.symlinkSync(REPO, path.join(project, 'node_modules/ocellus'));
  fs.symlinkSync(path.join('..', 'ocellus', pkg.bin.ocellus), path.join(project, 'node_modules/.bin/ocellus'));
}, 300_000);

describe('the built package', () => {
  it("exports InferenceSession, Tensor and pipeline from 'ocellus' to plain Node", () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', `
      import { InferenceSession, Tensor, pipeline, loadImage, ImageProcessor } from 'ocellus';
      const t = new Tensor('float32', new Float32Array(6), [2, 3]);
      console.log(typeof InferenceSession.create, typeof pipeline, typeof loadImage, typeof ImageProcessor.fromConfig, t.dims.join('x'));
    `], { cwd: project, encoding: 'utf8' });
    expect(out.trim()).toBe('function function function function 2x3');
  });

  it('ships type declarations where the exports map points', () => {
    const types = pkg.exports['.'].types as string;
    expect(fs.readFileSync(path.join(REPO, types), 'utf8')).toMatch(/InferenceSession/);
  });

  it('runs the ocellus bin', () => {
    const r = spawnSync(path.join(project, 'node_modules/.bin/ocellus'), ['help'], { cwd: project, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ocellus classify <image/);
  });
});
