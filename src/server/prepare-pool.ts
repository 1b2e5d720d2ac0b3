// Preparing images off the event loop (Node): a small pool of worker threads running prepare-worker, so a request
// whose image costs seconds to decode never stalls /health or other requests. The bytes go over by transfer where
// the caller hands them over, the prepared image (224×224×3 for ResNet-50) comes back by transfer. Jobs wait in
// FIFO order (at most `maxQueue`: more are refused with 503); a job whose signal aborts while it waits is dropped,
// and one that aborts while it runs has its worker terminated (the only way to stop synchronous decoding) and
// replaced by a fresh one at once. A worker that dies on its own fails its job (500) and is replaced on the next.
//
// The worker script is found next to this module: prepare-worker.js in the built package (dist/), or
// prepare-worker.ts under the TypeScript sources (vitest, tsx), started with tsx's loader.

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ApiError, CODES } from './errors.js';
import type { ImagePreparer, PrepareJob, PrepareOptions, Prepared } from './prepare.js';
import type { PrepareReply, PrepareRequest } from './prepare-worker.js';
import { QueueFullError } from './queue.js';

export interface PreparePoolOptions {
  /** Worker threads (default: 1 on machines with 2 or fewer cores, else 2). */
  size?: number;
  /** Jobs allowed to wait for a worker; more are refused with 503. Default 64. */
  maxQueue?: number;
}

interface Job {
  bytes: Uint8Array;
  job: PrepareJob;
  transfer: boolean;
  signal?: AbortSignal;
  resolve(prepared: Prepared): void;
  reject(e: unknown): void;
  onAbort?: () => void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
}

export class PreparePool implements ImagePreparer {
  readonly size: number;
  readonly maxQueue: number;
  private readonly waiting: Job[] = [];
  private readonly slots: (Slot | null)[];
  private nextId = 1;
  private closed = false;
  /** Workers started and terminated (a worker is terminated when a job outlives its deadline), for tests and /health. */
  readonly stats = { started: 0, terminated: 0, jobs: 0 };

  constructor(opts: PreparePoolOptions = {}) {
    this.size = opts.size ?? (availableParallelism() <= 2 ? 1 : 2);
    if (!Number.isInteger(this.size) || this.size < 1) throw new RangeError(`size must be a positive integer, got ${this.size}`);
    this.maxQueue = opts.maxQueue ?? 64;
    this.slots = Array.from({ length: this.size }, () => null);
    workerScript();   // fails here, at start, when the script cannot be found
  }

  /** Jobs waiting for a worker, and jobs running. */
  get queued(): number {
    return this.waiting.length;
  }

  get running(): number {
    return this.slots.filter(s => s?.job).length;
  }

  prepare(bytes: Uint8Array, job: PrepareJob, opts: PrepareOptions = {}): Promise<Prepared> {
    if (this.closed) return Promise.reject(new ApiError(503, CODES.outOfCapacity, 'Server is shutting down', { Connection: 'close' }));
    if (opts.signal?.aborted) return Promise.reject(opts.signal.reason);
    if (this.waiting.length >= this.maxQueue) return Promise.reject(new QueueFullError(this.maxQueue));
    return new Promise<Prepared>((resolve, reject) => {
      const j: Job = { bytes, job, transfer: !!opts.transfer, signal: opts.signal, resolve, reject };
      if (j.signal) {
        j.onAbort = () => this.abort(j);
        j.signal.addEventListener('abort', j.onAbort, { once: true });
      }
      this.waiting.push(j);
      this.dispatch();
    });
  }

  status(): Record<string, number> {
    return { workers: this.size, running: this.running, waiting: this.queued, ...this.stats };
  }

  /** Starts every worker now (their start is otherwise paid by the first jobs). */
  warm(): void {
    for (let i = 0; i < this.slots.length; i++) this.slots[i] ??= this.startWorker(i);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const j of this.waiting.splice(0)) this.settle(j, () => j.reject(new ApiError(503, CODES.outOfCapacity, 'Server is shutting down')));
    await Promise.all(this.slots.map((s, i) => {
      if (!s) return undefined;
      if (s.job) this.settle(s.job, () => s.job!.reject(new ApiError(503, CODES.outOfCapacity, 'Server is shutting down')));
      this.slots[i] = null;
      return s.worker.terminate();
    }));
  }

  private dispatch(): void {
    for (let i = 0; i < this.slots.length && this.waiting.length > 0; i++) {
      if (this.slots[i]?.job) continue;
      const slot = this.slots[i] ?? (this.slots[i] = this.startWorker(i));
      const job = this.waiting.shift()!;
      slot.job = job;
      this.stats.jobs++;
      slot.worker.ref();
      const msg: PrepareRequest = { id: this.nextId++, bytes: job.bytes, job: job.job };
      const b = job.bytes;
      const whole = job.transfer && b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer;
      slot.worker.postMessage(msg, whole ? [b.buffer as ArrayBuffer] : []);
      job.bytes = new Uint8Array(0);   // not kept alive while the worker runs
    }
  }

  private startWorker(i: number): Slot {
    const { file, eval: isEval } = workerScript();
    const worker = new Worker(file, { eval: isEval });
    this.stats.started++;
    const slot: Slot = { worker, job: null };
    worker.unref();
    worker.on('message', (reply: PrepareReply) => {
      const job = slot.job;
      if (!job) return;
      slot.job = null;
      worker.unref();
      this.settle(job, () => ('image' in reply ? job.resolve({ image: reply.image, topK: reply.topK }) : job.reject(rebuildError(reply.error))));
      this.dispatch();
    });
    const lost = (e: Error) => {
      if (this.slots[i] !== slot) return;   // already replaced (terminated on purpose)
      this.slots[i] = null;
      const job = slot.job;
      slot.job = null;
      if (job) this.settle(job, () => job.reject(new Error(`image worker stopped: ${e.message}`, { cause: e })));
      this.dispatch();
    };
    worker.on('error', lost);
    worker.on('exit', code => lost(new Error(`exited with code ${code}`)));
    return slot;
  }

  /** A job's signal aborted: drop it if it waits, stop its worker if it runs. */
  private abort(job: Job): void {
    const reason = job.signal!.reason;
    const w = this.waiting.indexOf(job);
    if (w >= 0) {
      this.waiting.splice(w, 1);
      this.settle(job, () => job.reject(reason));
      return;
    }
    const i = this.slots.findIndex(s => s?.job === job);
    if (i < 0) return;
    const slot = this.slots[i]!;
    slot.job = null;
    this.stats.terminated++;
    void slot.worker.terminate();
    this.slots[i] = this.closed ? null : this.startWorker(i);   // the replacement loads now, ready for the next job
    this.settle(job, () => job.reject(reason));
    this.dispatch();
  }

  private settle(job: Job, fn: () => void): void {
    if (job.onAbort) job.signal!.removeEventListener('abort', job.onAbort);
    fn();
  }
}

function rebuildError(e: { name: string; message: string; input?: string; status?: number; code?: number }): Error {
  if (e.name === 'ApiError' && e.status !== undefined && e.code !== undefined) return new ApiError(e.status, e.code, e.message);
  const err = new Error(e.message);
  err.name = e.name;   // 'ImageInputError' is recognised by name (errors.ts): a 400 with this message
  if (e.input !== undefined) Object.assign(err, { input: e.input });
  return err;
}

let script: { file: string | URL; eval: boolean } | undefined;

/**
 * The worker's file: built JavaScript when present, else the TypeScript source imported through tsx's API (its
 * loader given as `--import` does not reach worker threads on Node 20).
 */
function workerScript(): { file: string | URL; eval: boolean } {
  if (script) return script;
  const js = new URL('./prepare-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return (script = { file: js, eval: false });
  const ts = new URL('./prepare-worker.ts', import.meta.url);
  if (!existsSync(fileURLToPath(ts))) throw new Error(`the image worker script is missing (${fileURLToPath(js)})`);
  let api: string;
  try {
    // the ESM build of tsx/esm/api (require.resolve gives the CommonJS one)
    const pkg = createRequire(import.meta.url).resolve('tsx/package.json');
    const entry = (JSON.parse(readFileSync(pkg, 'utf8')) as { exports: Record<string, { import: { default: string } }> }).exports['./esm/api']!.import.default;
    api = new URL(entry, pathToFileURL(pkg)).href;
  } catch {
    throw new Error(`the image worker runs from TypeScript (${fileURLToPath(ts)}) and needs tsx, which is not installed`);
  }
  const boot = `import(${JSON.stringify(api)}).then(m => m.tsImport(${JSON.stringify(ts.href)}, ${JSON.stringify(import.meta.url)}))`;
  return (script = { file: boot, eval: true });
}
