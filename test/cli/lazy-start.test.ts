// Lazy start-up (issue #20): `ocellus --version`, `--help` and a usage error load no command module and no engine;
// `classify --help` loads classify's module but not the inference runtime's kernels. Counted in a real process with a
// module-load hook recording every module the process loads (no timing).

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/onnx-tests.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-lazy-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const hook = path.join(tmp, 'hook.mjs');
fs.writeFileSync(hook, `import fs from 'node:fs';
export async function load(url, context, next) { fs.appendFileSync(process.env.LOADED_LOG, url + '\\n'); return next(url, context); }`);
const register = path.join(tmp, 'register.mjs');
fs.writeFileSync(register, `import { register } from 'node:module'; register(${JSON.stringify('file://' + hook)});`);

/** The modules `ocellus <args>` loads (src/cli/main.ts under tsx), repo-relative or package names, and its result. */
function loaded(...args: string[]): { modules: string[]; status: number | null; stdout: string } {
  const log = path.join(tmp, `${args.join('_').replace(/\W/g, '')}.log`);
  const r = spawnSync(process.execPath, ['--import', register, '--import', 'tsx', path.join(REPO, 'src/cli/main.ts'), ...args],
    { cwd: REPO, encoding: 'utf8', env: { ...process.env, LOADED_LOG: log }, timeout: 120_000 });
  const urls = fs.readFileSync(log, 'utf8').trim().split('\n');
  const modules = urls.map(u => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u)?.[1] ?? u.replace(`file://${REPO}/`, ''));
  return { modules: [...new Set(modules)], status: r.status, stdout: r.stdout };
}

const ENGINE = /^(@tensorflow\/|src\/(runtime|pipeline|server|inspect|onnx|passes)\/|kernels\/|weights-tools\/|hono$|protobufjs$)/;

describe('lazy start-up of the CLI', () => {
  it.each([['--version'], ['--help'], ['frobnicate']])('ocellus %s loads no command module and no engine', arg => {
    const r = loaded(arg);
    expect(r.status).toBe(arg === 'frobnicate' ? 2 : 0);
    const ours = r.modules.filter(m => m.startsWith('src/'));
    expect(ours.sort()).toEqual(['src/cli/bench.ts', 'src/cli/main.ts', 'src/cli/usage.ts']);
    expect(r.modules.filter(m => ENGINE.test(m))).toEqual([]);
  }, 120_000);

  it('classify --help loads classify\'s module (its options text) and nothing of serve, inspect or quantize', () => {
    const r = loaded('classify', '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Classify options:/);
    expect(r.modules).toContain('src/cli/classify.ts');
    expect(r.modules.filter(m => /^src\/cli\/(serve|inspect|quantize)\.ts$|^src\/inspect\/|^src\/server\/|^weights-tools\//.test(m))).toEqual([]);
  }, 120_000);
});
