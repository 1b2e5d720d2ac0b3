// Loads model files in a child Node with a small heap, so a loader that aborts (heap exhaustion) or hangs (reading a
// FIFO or /dev/zero) fails one test instead of taking vitest down or wedging it. The timeout is a watchdog only.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO } from '../helpers/onnx-tests.js';

export interface ChildLoad {
  status: number | null;
  signal: NodeJS.Signals | null;
  /** One line per file: `<file>\tok` or `<file>\t<error class>\t<message>`. */
  lines: string[];
  stderr: string;
}

export function loadInChild(files: string[], heapMiB = 64, watchdogMs = 120_000): ChildLoad {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-child-'));
  const script = path.join(dir, 'load.mts');
  fs.writeFileSync(script, [
    `import { loadModel } from ${JSON.stringify(path.join(REPO, 'src/onnx/load.ts'))};`,
    'for (const f of process.argv.slice(2)) {',
    '  try { await loadModel(f); console.log(`${f}\\tok`); }',
    '  catch (e) { console.log(`${f}\\t${e.name}\\t${e.message}`); }',
    '}',
  ].join('\n'));
  try {
    const r = spawnSync(process.execPath, [`--max-old-space-size=${heapMiB}`, '--import', 'tsx', script, ...files],
      { cwd: REPO, encoding: 'utf8', timeout: watchdogMs, killSignal: 'SIGKILL' });
    return { status: r.status, signal: r.signal, lines: (r.stdout ?? '').split('\n').filter(Boolean), stderr: r.stderr ?? '' };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
