// One engine variant on one model, in a process of its own (so its peak RSS is its own). Started by the suite
// with an IPC channel: receives a ChildJob and loads the engine ('loaded'), then answers each TIME request with its
// samples ('samples': the suite asks for one batch size at a time, in rounds that alternate between the engines
// when --rounds > 1), and a FINISH request with peak RSS → profile → soak → accuracy outputs ('result'); then exits.
// Any failure answers 'error'. A BASELINE_REQUEST instead of a job answers with the peak RSS of the child as it is
// before any engine loads (the baseline of the RSS columns).

import fs from 'node:fs';
import v8 from 'node:v8';
import { fileURLToPath } from 'node:url';
import { createEngine, type Engine } from './engines.js';
import type { EngineVariant, ModelId } from './options.js';
import { ProfileRecorder, type ProfileSummary } from './profile.js';
import { peakRssMiB } from './rss.js';

export interface ChildJob {
  model: ModelId;
  modelPath: string;
  engine: EngineVariant;
  /** Preprocessed images, float32 [count, ...imageDims] in one raw file written by the suite. */
  inputs: { file: string; count: number; imageDims: number[] };
  batches: number[];
  runs: number;
  warmup: number;
  /** Run the first `accuracy` images and return the outputs (0 = skip), `accuracyBatch` at a time. */
  accuracy: number;
  accuracyBatch: number;
  profile: boolean;
  soak: number;
  /** Batch sizes to run once each on the first images, returning the outputs (the zoo's reference checks). */
  checkBatches?: number[];
}

export interface ChildResult {
  osThreads: { before: number; after: number };
  info: Record<string, unknown>;
  peakRssMiB: number;
  profiles: { batch: number; summary: ProfileSummary }[];
  soak?: { runs: number; rssMiB: [number, number][]; heapMiB?: [number, number, number, number][]; samplesMs: number[]; tensors?: { before: number; after: number } };
  outputs?: { classes: number; data: Float32Array };
  checks?: { batch: number; data: Float32Array }[];
}

export const BASELINE_REQUEST = { type: 'baseline' } as const;
/** Timed runs at one batch size after `warmup` untimed ones. */
export interface TimeRequest { type: 'time'; batch: number; runs: number; warmup: number }
export const FINISH_REQUEST = { type: 'finish' } as const;

export type ChildMessage =
  | { type: 'progress'; text: string; transient?: boolean }
  | { type: 'baseline'; peakRssMiB: number }
  | { type: 'loaded'; loadMs: number }
  | { type: 'samples'; batch: number; samplesMs: number[] }
  | { type: 'result'; result: ChildResult }
  | { type: 'error'; message: string; stack?: string };

const send = (m: ChildMessage) => new Promise<void>(resolve => process.send!(m, undefined, {}, () => resolve()));
const progress = (text: string, transient = false) => { void send({ type: 'progress', text, transient }); };
/** One turn of the event loop. ocellus's run() is synchronous, so a loop of runs never reaches the event loop on its
 *  own: each progress message's write request and callback then stay alive until the loop ends (~1 KB a run: the
 *  soak read it as 1 MiB of V8 live heap per 1,000 runs). Called between runs, outside the timed span. */
const turn = () => new Promise<void>(resolve => setImmediate(resolve));

export function osThreads(): number {
  try {
    return Number(/^Threads:\s+(\d+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

const rssMiB = () => process.memoryUsage.rss() / 2 ** 20;

/** Reads images [start, start+count) of the inputs file; wraps around when asked for more than it holds. */
export function readImages(job: ChildJob, start: number, count: number): Float32Array {
  const per = job.inputs.imageDims.reduce((a, b) => a * b, 1);
  const out = new Float32Array(per * count);
  const fd = fs.openSync(job.inputs.file, 'r');
  try {
    for (let i = 0; i < count; i++) {
      const src = (start + i) % job.inputs.count;
      const bytes = new Uint8Array(out.buffer, i * per * 4, per * 4);
      const got = fs.readSync(fd, bytes, 0, bytes.length, src * per * 4);
      if (got !== bytes.length) throw new Error(`${job.inputs.file}: image ${src} is short (${got} of ${bytes.length} bytes)`);
    }
  } finally {
    fs.closeSync(fd);
  }
  return out;
}

async function timeBatch(engine: Engine, job: ChildJob, { batch, runs, warmup }: TimeRequest, label: string): Promise<number[]> {
  const data = readImages(job, 0, batch);
  const dims = [batch, ...job.inputs.imageDims];
  for (let i = 0; i < warmup; i++) {
    progress(`${label} batch ${batch}: warm-up ${i + 1}/${warmup}`, true);
    await engine.run(data, dims);
    await turn();
  }
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await engine.run(data, dims);
    samples.push(performance.now() - t0);
    progress(`${label} batch ${batch}: run ${i + 1}/${runs} ${samples.at(-1)!.toFixed(0)} ms`, true);
    await turn();
  }
  return samples;
}

async function soak(engine: Engine, job: ChildJob, label: string): Promise<ChildResult['soak']> {
  const data = readImages(job, 0, 1);
  const dims = [1, ...job.inputs.imageDims];
  const every = Math.max(1, Math.floor(job.soak / 50));
  const before = engine.liveTensors?.();
  const rss: [number, number][] = [], heap: [number, number, number, number][] = [];
  // RSS after a full GC (the suite starts children with --expose-gc): garbage not yet collected is not a leak. The
  // V8 heap's young and old generations (the memory V8 has committed to them) beside it say which part of a step is
  // V8 resizing its heap; the heap's live objects after the GC are what the JavaScript side retains.
  const sample = (i: number) => {
    (globalThis as { gc?: () => void }).gc?.();
    rss.push([i, rssMiB()]);
    const space = (name: string) => (v8.getHeapSpaceStatistics().find(s => s.space_name === name)?.space_size ?? 0) / 2 ** 20;
    heap.push([i, space('new_space'), space('old_space'), v8.getHeapStatistics().used_heap_size / 2 ** 20]);
  };
  sample(0);
  const samplesMs: number[] = [];
  for (let i = 1; i <= job.soak; i++) {
    const t0 = performance.now();
    await engine.run(data, dims);
    samplesMs.push(performance.now() - t0);
    if (i % every === 0 || i === job.soak) sample(i);
    // every run, so a long soak never looks like a hung child to the suite (--timeout)
    progress(`${label} soak: run ${i}/${job.soak}, RSS ${rss.at(-1)![1].toFixed(0)} MiB`, true);
    await turn();
  }
  const after = engine.liveTensors?.();
  return { runs: job.soak, rssMiB: rss, heapMiB: heap, samplesMs, ...(before !== undefined && after !== undefined ? { tensors: { before, after } } : {}) };
}

async function outputsFor(engine: Engine, job: ChildJob, label: string): Promise<ChildResult['outputs']> {
  let classes = 0;
  let out: Float32Array | undefined;
  for (let start = 0; start < job.accuracy; start += job.accuracyBatch) {
    const n = Math.min(job.accuracyBatch, job.accuracy - start);
    const y = await engine.run(readImages(job, start, n), [n, ...job.inputs.imageDims]);
    classes = y.data.length / n;
    out ??= new Float32Array(job.accuracy * classes);
    out.set(y.data, start * classes);
    progress(`${label} accuracy: ${start + n}/${job.accuracy} photos`, true);
  }
  return out ? { classes, data: out } : undefined;
}

/** A loaded engine answering the suite's requests (see the top of this file). */
export class JobRunner {
  private readonly label: string;
  private threadsAfter = NaN;
  private constructor(private readonly job: ChildJob, private readonly engine: Engine, private readonly threadsBefore: number, readonly loadMs: number) {
    this.label = `${job.model} ${job.engine.kind}:${job.engine.threads}`;
  }

  static async load(job: ChildJob): Promise<JobRunner> {
    const before = osThreads();
    const t0 = performance.now();
    const engine = await createEngine(job.engine.kind, job.engine.threads, job.modelPath);
    const runner = new JobRunner(job, engine, before, performance.now() - t0);
    progress(`${runner.label}: loaded in ${(runner.loadMs / 1000).toFixed(1)} s`);
    return runner;
  }

  async time(req: TimeRequest): Promise<number[]> {
    const samplesMs = await timeBatch(this.engine, this.job, req, this.label);
    if (Number.isNaN(this.threadsAfter)) this.threadsAfter = osThreads();
    const sorted = [...samplesMs].sort((a, b) => a - b);
    progress(`${this.label} batch ${req.batch}: median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} ms`);
    return samplesMs;
  }

  /** Peak RSS (after the timed runs), then the profile, soak and accuracy outputs; disposes the engine. */
  async finish(): Promise<ChildResult> {
    const { job, engine, label } = this;
    const peak = peakRssMiB();
    const profiles: ChildResult['profiles'] = [];
    if (job.profile && engine.runProfiled) {
      for (const batch of job.batches) {
        const rec = new ProfileRecorder();
        const data = readImages(job, 0, batch);
        for (let i = 0; i < Math.min(job.runs, 3); i++) {
          progress(`${label} batch ${batch}: profile run ${i + 1}`, true);
          engine.runProfiled(data, [batch, ...job.inputs.imageDims], rec);
        }
        profiles.push({ batch, summary: rec.summary(10) });
      }
    }
    const soakResult = job.soak > 0 ? await soak(engine, job, label) : undefined;
    const outputs = job.accuracy > 0 ? await outputsFor(engine, job, label) : undefined;
    const checks: NonNullable<ChildResult['checks']> = [];
    for (const batch of job.checkBatches ?? []) checks.push({ batch, data: (await engine.run(readImages(job, 0, batch), [batch, ...job.inputs.imageDims])).data.slice() });
    const info = engine.info();
    await engine.dispose();
    return {
      osThreads: { before: this.threadsBefore, after: this.threadsAfter }, info, peakRssMiB: peak, profiles,
      ...(soakResult ? { soak: soakResult } : {}), ...(outputs ? { outputs } : {}), ...(checks.length ? { checks } : {}),
    };
  }
}

type Request = ChildJob | TimeRequest | typeof FINISH_REQUEST | typeof BASELINE_REQUEST;

/** Answers one request at a time, in order; the first failure is reported and ends the child. */
function serve(): void {
  let runner: Promise<JobRunner> | undefined;
  let queue = Promise.resolve();
  const fail = async (e: Error) => { await send({ type: 'error', message: e.message, stack: e.stack }); process.exit(1); };
  process.on('message', (req: Request) => {
    queue = queue.then(async () => {
      if ('type' in req && req.type === 'baseline') {
        await send({ type: 'baseline', peakRssMiB: peakRssMiB() });
        process.exit(0);
      } else if (!('type' in req)) {
        if (runner) throw new Error('the child already has a job');
        runner = JobRunner.load(req);
        await send({ type: 'loaded', loadMs: (await runner).loadMs });
      } else if (!runner) {
        throw new Error(`'${req.type}' before a job`);
      } else if (req.type === 'time') {
        await send({ type: 'samples', batch: req.batch, samplesMs: await (await runner).time(req) });
      } else {
        await send({ type: 'result', result: await (await runner).finish() });
        process.exit(0);
      }
    }).catch(fail);
  });
}

// Only as the forked entry (importing this file, e.g. from a test, must not take over the process's IPC channel).
if (process.send && process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) serve();
