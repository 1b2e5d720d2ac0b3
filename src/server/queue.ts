// A bounded queue in front of one model: jobs wait (at most `maxQueue` of them), one batch runs at a time (the
// engine computes synchronously on WASM), and jobs that queued up while a batch ran go together into the next
// batch of up to `maxBatch` (micro-batching), also those whose images are still being prepared when a batch ends
// (within prepareWindowMs). Between batches the queue yields to the event loop so sockets are
// served while a backlog is worked off.

import { ApiError, CODES } from './errors.js';

export interface QueueOptions {
  /** Jobs allowed to wait (not counting the running batch); more are refused with 503. Default 64. */
  maxQueue?: number;
  /** Largest batch one run takes. Default 4. */
  maxBatch?: number;
  /**
   * After a batch, while fewer than maxBatch jobs wait (but some do), wait up to this many ms for more to
   * arrive: a request needs a few event-loop turns between its socket and the queue. Default 5; a lone
   * request on an idle queue never waits.
   */
  batchWindowMs?: number;
  /**
   * After a batch, while images for this queue are still being prepared (decoded, resized) and fewer than
   * maxBatch jobs wait, wait for them to join the next batch up to this many ms, or as long as the last batch ran
   * if that is longer (running them apart would cost about that), never over 1 s. Default 50.
   */
  prepareWindowMs?: number;
  /**
   * Run each job at once in the caller's own async context, one image per run, without a shared loop: for
   * Workers, where a request must not wait on work scheduled from another request's context (workerd cancels
   * that request as hung once the other request ends). Inference is synchronous, so runs still never overlap.
   */
  inline?: boolean;
}

/** Runs a batch; returns one result or Error per job, in order (an Error fails only its own job). */
export type BatchRunner<In, Out> = (batch: In[]) => Promise<(Out | Error)[]>;

interface Job<In, Out> {
  input: In;
  resolve(v: Out): void;
  reject(e: unknown): void;
}

export class QueueFullError extends ApiError {
  constructor(maxQueue: number) {
    super(503, CODES.outOfCapacity, `Server is busy: ${maxQueue} requests are already waiting; retry shortly`, { 'Retry-After': '1' });
  }
}

const yieldToEventLoop = () => new Promise<void>(r => setTimeout(r, 1));

export class InferenceQueue<In, Out> {
  readonly maxQueue: number;
  readonly maxBatch: number;
  readonly inline: boolean;
  readonly batchWindowMs: number;
  readonly prepareWindowMs: number;
  private readonly waitingJobs: Job<In, Out>[] = [];
  private running = false;
  private lastRunMs = 0;
  private current = 0;
  private idleWaiters: (() => void)[] = [];
  /** Batches run and the largest seen, for /health and tests. */
  readonly stats = { batches: 0, jobs: 0, largestBatch: 0 };

  /** `incoming` counts jobs on their way to this queue (images being prepared). */
  constructor(private readonly runner: BatchRunner<In, Out>, opts: QueueOptions = {}, private readonly incoming: () => number = () => 0) {
    this.maxQueue = positiveInt(opts.maxQueue ?? 64, 'maxQueue');
    this.maxBatch = positiveInt(opts.maxBatch ?? 4, 'maxBatch');
    this.inline = opts.inline ?? false;
    this.batchWindowMs = opts.batchWindowMs ?? 5;
    this.prepareWindowMs = opts.prepareWindowMs ?? 50;
  }

  get waiting(): number {
    return this.waitingJobs.length;
  }

  get busy(): boolean {
    return this.running;
  }

  /** Jobs in the batch being run now. */
  get inBatch(): number {
    return this.current;
  }

  /** Queues a job; if `signal` aborts while it still waits, it leaves the queue and rejects with the signal's reason. */
  push(input: In, signal?: AbortSignal): Promise<Out> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.inline) return this.runInline(input);
    if (this.waitingJobs.length >= this.maxQueue) return Promise.reject(new QueueFullError(this.maxQueue));
    return new Promise<Out>((resolve, reject) => {
      const job: Job<In, Out> = { input, resolve, reject };
      if (signal) {
        const onAbort = () => {
          const i = this.waitingJobs.indexOf(job);
          if (i >= 0) {
            this.waitingJobs.splice(i, 1);
            reject(signal.reason);
          }
        };
        signal.addEventListener('abort', onAbort, { once: true });
        const done = () => signal.removeEventListener('abort', onAbort);
        job.resolve = v => (done(), resolve(v));
        job.reject = e => (done(), reject(e));
      }
      this.waitingJobs.push(job);
      if (!this.running) void this.loop();
    });
  }

  /** Resolves once nothing is running or waiting. */
  idle(): Promise<void> {
    if (!this.running && this.waitingJobs.length === 0) return Promise.resolve();
    return new Promise(r => this.idleWaiters.push(r));
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      while (this.waitingJobs.length > 0) {
        const batch = this.waitingJobs.splice(0, this.maxBatch);
        const started = Date.now();
        await this.runBatch(batch);
        this.lastRunMs = Date.now() - started;
        await yieldToEventLoop();
        const t0 = Date.now();
        for (;;) {
          const waited = Date.now() - t0, n = this.waitingJobs.length;
          const few = n > 0 && waited < this.batchWindowMs;
          const coming = this.incoming() > 0 && waited < Math.min(1000, Math.max(this.prepareWindowMs, this.lastRunMs));
          if (n >= this.maxBatch || !(few || coming)) break;
          await yieldToEventLoop();
        }
      }
    } finally {
      this.running = false;
      const waiters = this.idleWaiters.splice(0);
      for (const w of waiters) w();
    }
  }

  private async runInline(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => void this.runBatch([{ input, resolve, reject }]));
  }

  private async runBatch(batch: Job<In, Out>[]): Promise<void> {
    this.stats.batches++;
    this.stats.jobs += batch.length;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
    let results: (Out | Error)[];
    this.current += batch.length;
    try {
      results = await this.runner(batch.map(j => j.input));
      if (results.length !== batch.length) throw new Error(`batch runner returned ${results.length} results for ${batch.length} jobs`);
    } catch (e) {
      for (const j of batch) j.reject(e);
      return;
    } finally {
      this.current -= batch.length;
    }
    batch.forEach((j, i) => {
      const r = results[i]!;
      if (r instanceof Error) j.reject(r);
      else j.resolve(r);
    });
  }
}

function positiveInt(v: number, name: string): number {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  return v;
}
