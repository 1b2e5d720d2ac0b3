// The parent side: a few long-lived worker processes (fuzz/child.ts under node with --max-old-space-size), each
// given one case at a time over IPC and watched by a per-case timer here. The timer reads the child's CPU time and
// RSS from /proc (Linux; elsewhere wall time only): a case that uses more than `timeoutMs` of CPU, or more than
// `wallMs` of wall time, is a hang; a child whose RSS passes `maxMb` is a memory breach; either way the child is killed and a
// fresh one started. A child that dies during a case (signal, abort, V8 out of memory) is a crash.

import { type ChildProcess, fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FuzzCase } from './cases.js';
import type { Outcome } from './child.js';
import type { Budget } from './report.js';

export interface PoolOptions {
  jobs: number;
  timeoutMs: number;     // CPU time a case may use
  wallMs?: number;       // wall time a case may take (default max(24 × timeoutMs, 120 s): it only catches cases that wait without computing; on a shared machine a case can get 5% of a core)
  maxMb: number;         // RSS a child may reach (and V8's old-space limit)
  budget?: Budget;       // decode CPU budget: a worker times an over-budget decode again before reporting it
  /** Recycle a worker once its RSS after a case is over this (the WASM heap never shrinks). */
  recycleMb?: number;
}

export type Verdict =
  | { type: 'outcome'; outcome: Outcome }
  | { type: 'hang'; cpuMs: number; wallMs: number; by: 'cpu' | 'wall' }
  | { type: 'memory'; rssMb: number }
  | { type: 'crash'; code: number | null; signal: string | null; stderr: string };

const CHILD = path.join(import.meta.dirname, 'child.ts');
const POLL_MS = 50;
const TICKS_PER_SECOND = 100;    // USER_HZ: /proc reports CPU times in these on every Linux build

/** utime + stime of a process in ms and its RSS in MiB, from /proc; null where /proc is not there. */
export function procStats(pid: number): { cpuMs: number; rssMb: number } | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuMs = ((Number(f[11]) + Number(f[12])) * 1000) / TICKS_PER_SECOND;   // fields 14 and 15
    const rssMb = (Number(f[21]) * 4096) / (1 << 20);                            // field 24, in pages
    return { cpuMs, rssMb };
  } catch {
    return null;
  }
}

class Worker {
  proc: ChildProcess;
  ready: Promise<void>;
  stderr = '';
  private pending: ((v: Verdict) => void) | null = null;
  exited = false;
  /** The worker's scratch folder (external-data cases): removed here, since a killed worker cannot. */
  private readonly tmp: string;

  private readonly wallLimit: number;

  constructor(private readonly opts: PoolOptions) {
    this.wallLimit = opts.wallMs ?? Math.max(24 * opts.timeoutMs, 120_000);
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-fuzz-worker-'));
    this.proc = fork(CHILD, [], {
      execArgv: ['--import', import.meta.resolve('tsx'), `--max-old-space-size=${opts.maxMb}`, '--expose-gc'],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, OCELLUS_THREADS: '1', OCELLUS_FUZZ_TMP: this.tmp },
    });
    this.proc.stderr!.on('data', (d: Buffer) => { this.stderr = (this.stderr + d.toString()).slice(-4000); });
    this.ready = new Promise((resolve, reject) => {
      const onMsg = (m: { type: string }) => { if (m.type === 'ready') { this.proc.off('message', onMsg); resolve(); } };
      this.proc.on('message', onMsg);
      this.proc.once('exit', (code, signal) => reject(new Error(`fuzz worker exited while starting (code ${code}, signal ${signal}): ${this.stderr}`)));
    });
    this.ready.catch(() => { /* reported by the first run() */ });
    this.proc.on('message', (m: { type: string; outcome?: Outcome }) => {
      if (m.type === 'result' && this.pending) this.settle({ type: 'outcome', outcome: m.outcome! });
    });
    this.proc.on('exit', (code, signal) => {
      this.exited = true;
      fs.rmSync(this.tmp, { recursive: true, force: true });
      this.settle({ type: 'crash', code, signal, stderr: this.stderr.slice(-1500) });
    });
  }

  private settle(v: Verdict): void {
    const p = this.pending;
    this.pending = null;
    p?.(v);
  }

  async run(c: FuzzCase): Promise<Verdict> {
    try {
      await this.ready;
    } catch (e) {
      return { type: 'crash', code: null, signal: null, stderr: (e as Error).message.slice(-1500) };
    }
    const pid = this.proc.pid!;
    const start = procStats(pid);
    const t0 = Date.now();
    this.stderr = '';
    return new Promise<Verdict>(resolve => {
      let timer: NodeJS.Timeout | undefined;
      this.pending = v => { clearInterval(timer); resolve(v); };
      timer = setInterval(() => {
        const wallMs = Date.now() - t0;
        const now = procStats(pid);
        const cpuMs = now && start ? now.cpuMs - start.cpuMs : wallMs;
        let verdict: Verdict | null = null;
        if (now && now.rssMb > this.opts.maxMb) verdict = { type: 'memory', rssMb: now.rssMb };
        else if (cpuMs > this.opts.timeoutMs) verdict = { type: 'hang', cpuMs, wallMs, by: 'cpu' };
        else if (wallMs > this.wallLimit) verdict = { type: 'hang', cpuMs, wallMs, by: 'wall' };
        if (verdict) {
          this.settle(verdict);
          this.kill();
        }
      }, POLL_MS);
      this.proc.send({ type: 'case', case: c, budget: this.opts.budget }, err => { if (err) this.settle({ type: 'crash', code: null, signal: null, stderr: `IPC send failed: ${err.message}` }); });
    });
  }

  rssMb(): number | undefined {
    return this.proc.pid ? procStats(this.proc.pid)?.rssMb : undefined;
  }

  kill(): void {
    if (!this.exited) this.proc.kill('SIGKILL');
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise(r => this.proc.once('exit', r));
    this.proc.send({ type: 'exit' }, () => { /* may already be gone */ });
    const t = setTimeout(() => this.kill(), 3000);
    await gone;
    clearTimeout(t);
  }
}

/** Runs cases on `jobs` workers; each verdict goes to onVerdict in completion order. */
export async function runPool(cases: AsyncIterable<FuzzCase> | Iterable<FuzzCase>, opts: PoolOptions,
  onVerdict: (c: FuzzCase, v: Verdict) => void): Promise<{ workersStarted: number }> {
  const recycleMb = opts.recycleMb ?? opts.maxMb / 2;
  let started = 0;
  const spawn = () => { started++; return new Worker(opts); };
  const iter = (Symbol.asyncIterator in cases ? cases[Symbol.asyncIterator]() : (cases as Iterable<FuzzCase>)[Symbol.iterator]()) as
    AsyncIterator<FuzzCase> | Iterator<FuzzCase>;
  const lane = async (): Promise<void> => {
    let w = spawn();
    for (;;) {
      const next = await iter.next();
      if (next.done) break;
      const c = next.value;
      const v = await w.run(c);
      onVerdict(c, v);
      if (v.type !== 'outcome' || w.exited) { w.kill(); w = spawn(); }
      else if ((w.rssMb() ?? 0) > recycleMb) { await w.close(); w = spawn(); }
    }
    await w.close();
  };
  await Promise.all(Array.from({ length: opts.jobs }, lane));
  return { workersStarted: started };
}
