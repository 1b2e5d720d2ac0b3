// One engine variant on one model, in a process of its own (so its peak RSS is its own). Started by the suite
// with an IPC channel: receives a ChildJob, sends progress lines and one ChildResult (or an error), then exits.
// Order: load → timed runs per batch size → peak RSS → profile → soak → accuracy outputs. A BASELINE_REQUEST instead
// answers with the peak RSS of the child as it is before any engine loads (the baseline of the RSS columns).

import fs from 'node:fs';
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
}

export interface ChildResult {
  loadMs: number;
  osThreads: { before: number; after: number };
  info: Record<string, unknown>;
  peakRssMiB: number;
  timings: { batch: number; samplesMs: number[] }[];
  profiles: { batch: number; summary: ProfileSummary }[];
  soak?: { runs: number; rssMiB: [number, number][]; samplesMs: number[]; tensors?: { before: number; after: number } };
  outputs?: { classes: number; data: Float32Array };
}

export const BASELINE_REQUEST = { type: 'baseline' } as const;

export type ChildMessage =
  | { type: 'progress'; text: string; transient?: boolean }
  | { type: 'baseline'; peakRssMiB: number }
  | { type: 'result'; result: ChildResult }
  | { type: 'error'; message: string; stack?: string };

const send = (m: ChildMessage) => new Promise<void>(resolve => process.send!(m, undefined, {}, () => resolve()));
const progress = (text: string, transient = false) => { void send({ type: 'progress', text, transient }); };

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

async function timeBatch(engine: Engine, job: ChildJob, batch: number, label: string): Promise<number[]> {
  const data = readImages(job, 0, batch);
  const dims = [batch, ...job.inputs.imageDims];
  for (let i = 0; i < job.warmup; i++) {
    progress(`${label} batch ${batch}: warm-up ${i + 1}/${job.warmup}`, true);
    await engine.run(data, dims);
  }
  const samples: number[] = [];
  for (let i = 0; i < job.runs; i++) {
    const t0 = performance.now();
    await engine.run(data, dims);
    samples.push(performance.now() - t0);
    progress(`${label} batch ${batch}: run ${i + 1}/${job.runs} ${samples.at(-1)!.toFixed(0)} ms`, true);
  }
  return samples;
}

async function soak(engine: Engine, job: ChildJob, label: string): Promise<ChildResult['soak']> {
  const data = readImages(job, 0, 1);
  const dims = [1, ...job.inputs.imageDims];
  const every = Math.max(1, Math.floor(job.soak / 50));
  const before = engine.liveTensors?.();
  // RSS after a full GC (the suite starts children with --expose-gc): garbage not yet collected is not a leak.
  const settled = () => { (globalThis as { gc?: () => void }).gc?.(); return rssMiB(); };
  const rss: [number, number][] = [[0, settled()]];
  const samplesMs: number[] = [];
  for (let i = 1; i <= job.soak; i++) {
    const t0 = performance.now();
    await engine.run(data, dims);
    samplesMs.push(performance.now() - t0);
    if (i % every === 0 || i === job.soak) {
      rss.push([i, settled()]);
      progress(`${label} soak: run ${i}/${job.soak}, RSS ${rssMiB().toFixed(0)} MiB`, true);
    }
  }
  const after = engine.liveTensors?.();
  return { runs: job.soak, rssMiB: rss, samplesMs, ...(before !== undefined && after !== undefined ? { tensors: { before, after } } : {}) };
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

export async function runJob(job: ChildJob): Promise<ChildResult> {
  const label = `${job.model} ${job.engine.kind}:${job.engine.threads}`;
  const before = osThreads();
  const t0 = performance.now();
  const engine = await createEngine(job.engine.kind, job.engine.threads, job.modelPath);
  const loadMs = performance.now() - t0;
  progress(`${label}: loaded in ${(loadMs / 1000).toFixed(1)} s`);
  const timings: ChildResult['timings'] = [];
  let after = NaN;
  for (const batch of job.batches) {
    const samplesMs = await timeBatch(engine, job, batch, label);
    if (Number.isNaN(after)) after = osThreads();
    timings.push({ batch, samplesMs });
    const sorted = [...samplesMs].sort((a, b) => a - b);
    progress(`${label} batch ${batch}: median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} ms`);
  }
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
  const info = engine.info();
  await engine.dispose();
  return { loadMs, osThreads: { before, after }, info, peakRssMiB: peak, timings, profiles, ...(soakResult ? { soak: soakResult } : {}), ...(outputs ? { outputs } : {}) };
}

// Only as the forked entry (importing this file, e.g. from a test, must not take over the process's IPC channel).
if (process.send && process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.once('message', (job: ChildJob | typeof BASELINE_REQUEST) => {
    if ('type' in job) {
      void send({ type: 'baseline', peakRssMiB: peakRssMiB() }).then(() => process.exit(0));
      return;
    }
    runJob(job).then(
      async result => { await send({ type: 'result', result }); process.exit(0); },
      async (e: Error) => { await send({ type: 'error', message: e.message, stack: e.stack }); process.exit(1); },
    );
  });
}
