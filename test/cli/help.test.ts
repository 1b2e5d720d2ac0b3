// The CLI's front door: `--help`/`-h` on every command prints that command's usage and exits 0, `--version` prints the
// package's version, unknown commands and flags are usage errors (exit 2); `ocellus quantize` writes the int8 twin where
// `--dtype q8` finds it; progress is one updating line in a terminal and plain lines when piped.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { progressPrinter } from '../../src/cli/classify.js';
import { main } from '../../src/cli/main.js';
import { writeTinyFolder } from '../inspect/helpers.js';
import { REPO } from '../helpers/onnx-tests.js';

const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [], err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => { out.push(a.join(' ')); });
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => { err.push(a.join(' ')); });
  try {
    return { code: await main(args), out: out.join('\n'), err: err.join('\n') };
  } finally {
    vi.restoreAllMocks();
  }
}

describe('ocellus help and version', () => {
  for (const cmd of ['classify', 'serve', 'inspect', 'quantize']) {
    for (const flag of ['--help', '-h']) {
      it(`${cmd} ${flag} prints ${cmd}'s usage and options, exit 0`, async () => {
        const r = await run(cmd, flag);
        expect(r.code, r.err).toBe(0);
        expect(r.out).toMatch(new RegExp(`^Usage:\\n  ocellus ${cmd} `));
        expect(r.out).toMatch(/options:\n  /i);
        expect(r.out).not.toMatch(new RegExp(`ocellus (${['classify', 'serve', 'inspect', 'quantize'].filter(c => c !== cmd).join('|')}) `));
      });
    }
    it(`help ${cmd} is the same text`, async () => {
      expect((await run('help', cmd)).out).toBe((await run(cmd, '--help')).out);
    });
  }

  it('--help lists every command; --version and -v print the package version', async () => {
    const help = await run('--help');
    expect(help.code).toBe(0);
    for (const c of ['classify', 'serve', 'inspect', 'quantize', 'bench']) expect(help.out).toContain(`ocellus ${c} `);
    expect(await run('--version')).toEqual({ code: 0, out: pkg.version, err: '' });
    expect((await run('-v')).out).toBe(pkg.version);
  });

  it('unknown commands and flags are usage errors (exit 2) that point at the help', async () => {
    const cmd = await run('frobnicate');
    expect(cmd.code).toBe(2);
    expect(cmd.err).toMatch(/^ocellus: unknown command 'frobnicate'/);
    expect((await run('serve', '--deadline-s', '0')).err).toBe("ocellus: --deadline-s must be a positive number, got '0'");
    expect((await run('serve', '--image-workers', 'many')).err).toBe("ocellus: --image-workers must be a non-negative integer, got 'many'");
    const flag = await run('classify', 'x.jpg', '--frobnicate');
    expect(flag.code).toBe(2);
    expect(flag.err).toMatch(/frobnicate[\s\S]*Run `ocellus classify --help`/);
  });

  it('the built bin answers --version and classify --help with exit 0 (a real process)', () => {
    for (const args of [['--version'], ['classify', '--help']]) {
      const r = spawnSync(process.execPath, [path.join(REPO, 'dist/src/cli/main.js'), ...args], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.length).toBeGreaterThan(0);
    }
  });
});

describe('ocellus quantize', () => {
  it('writes onnx/model_quantized.onnx beside a folder’s model, or --output; bad --ops is a clear error', async () => {
    const dir = writeTinyFolder(path.join(tmp, 'tiny'));
    const r = await run('quantize', dir);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/model_quantized\.onnx: 1 MatMul \+ 1 Conv quantized \(/);
    expect(fs.existsSync(path.join(dir, 'onnx', 'model_quantized.onnx'))).toBe(true);
    const out = path.join(tmp, 'elsewhere.onnx');
    expect((await run('quantize', path.join(dir, 'onnx', 'model.onnx'), '--output', out, '--per-tensor')).code).toBe(0);
    expect(fs.existsSync(out)).toBe(true);
    const bad = await run('quantize', dir, '--ops', 'Softmax');
    expect(bad.code).toBe(1);
    expect(bad.err).toBe("ocellus: --ops: unknown op 'Softmax' (expected MatMul, Conv)");
    expect((await run('quantize', path.join(tmp, 'nope'))).err).toMatch(/nope: no such file or folder/);
  });
});

describe('progress display', () => {
  function capture(isTTY: boolean) {
    const writes: string[] = [];
    const stream = { isTTY, columns: 60, write: (s: string) => { writes.push(s); return true; } } as unknown as NodeJS.WriteStream;
    const p = progressPrinter(stream);
    p({ status: 'initiate', name: 'm', file: 'onnx/model.onnx' });
    for (let i = 0; i <= 100; i++) p({ status: 'progress', name: 'm', file: 'onnx/model.onnx', loaded: i, total: 100, progress: i });
    p({ status: 'done', name: 'm', file: 'onnx/model.onnx' });
    return writes.join('');
  }

  it('in a terminal: one line rewritten in place, ended by one newline', () => {
    const out = capture(true);
    expect(out.split('\n').filter(Boolean)).toHaveLength(1);
    expect(out.endsWith('\n')).toBe(true);
    expect(out).toContain('\r\x1b[2K  onnx/model.onnx 100%');
  });

  it('piped: plain lines, no control characters, a few steps rather than every event', () => {
    const lines = capture(false).trimEnd().split('\n');
    expect(lines.join('')).not.toMatch(/[\r\x1b]/);
    expect(lines[0]).toBe('downloading m/onnx/model.onnx');
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.length).toBeLessThanOrEqual(12);
    expect(lines.at(-1)).toBe('  onnx/model.onnx 100%');
  });
});
