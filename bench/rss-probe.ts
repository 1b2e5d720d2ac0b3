// Peak RSS as a library user's process sees it, for the int8 memory goal: bench/probe-main.ts bundled with esbuild
// (dependencies stay in node_modules) and run under plain `node` with OCELLUS_THREADS=1 (load one session, run it
// once at batch 1), against the baseline of an empty `node -e` process. The bench children's peak RSS is a different
// figure: it also holds the tsx loader, the IPC channel, the engine's thread pool and the largest batch.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import * as esbuild from 'esbuild';
import { REPO_ROOT } from './models.js';
import { PEAK_RSS_SCRIPT } from './rss.js';

const run = promisify(execFile);
const ENTRY = path.join(import.meta.dirname, 'probe-main.ts');

export interface ProbeOutput {
  /** RSS once the WASM backend has started, before the session (MiB). */
  readyMiB: number;
  /** Peak RSS of the probe process at the end (MiB; VmHWM, see bench/rss.ts). */
  peakMiB: number;
  loadMs: number;
  runMs: number;
}

/** Bundles the probe into `dir` (inside the checkout, so its bare imports resolve to the repo's node_modules). */
export async function bundleProbe(dir = path.join(REPO_ROOT, 'bench', 'out')): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  const outfile = path.join(dir, `.rss-probe-${process.pid}.mjs`);
  await esbuild.build({ entryPoints: [ENTRY], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile, logLevel: 'error' });
  return outfile;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Peak RSS of an empty `node -e` process (MiB), the median of `runs`. */
export async function emptyNodeMiB(runs = 3): Promise<number> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const { stdout } = await run(process.execPath, ['-e', PEAK_RSS_SCRIPT]);
    out.push(Number(stdout));
  }
  return median(out);
}

/** Runs the bundled probe on one model (single-threaded engine), reading the first image of `inputs`. */
export async function runProbe(bundle: string, modelPath: string, inputs: { file: string; imageDims: number[] }): Promise<ProbeOutput> {
  const env = { ...process.env, OCELLUS_THREADS: '1' };
  try {
    const { stdout } = await run(process.execPath, [bundle, modelPath, inputs.file, inputs.imageDims.join(',')], { cwd: REPO_ROOT, env, maxBuffer: 1 << 20 });
    const line = stdout.trim().split('\n').at(-1) ?? '';
    return JSON.parse(line) as ProbeOutput;
  } catch (e) {
    const err = e as Error & { stderr?: string };
    const why = err.stderr?.trim().split('\n').filter(l => /error/i.test(l)).at(-1) ?? err.message;
    throw new Error(`RSS probe on ${path.relative(REPO_ROOT, modelPath)}: ${why}`);
  }
}
