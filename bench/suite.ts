// The bench run: prepares the models and their input tensors once, runs every engine variant on every model in a
// child process of its own (one running at a time, so they never compete for the cores; with --rounds, a model's
// engines stay loaded and take turns), then prints the table and writes the JSON report and SVG chart. A model and
// its int8 twin in one run share their inputs, and add the "q8 vs fp32" section: side-by-side numbers, plus
// single-session RSS probes against an empty Node process (bench/rss-probe.ts).
// An engine that fails on a model is recorded with its error and the run goes on. benchMain(argv) is what
// `npm run bench` and `ocellus bench` call.

import { execFileSync, fork } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BASELINE_REQUEST, FINISH_REQUEST, type ChildJob, type ChildMessage, type ChildResult, type TimeRequest } from './child.js';
import { DEFAULT_CACHE, modelSpec, pickPhotos, prepareModel, REPO_ROOT, writeInputs, type InputSet } from './models.js';
import { BENCH_OPTIONS, BENCH_USAGE, BenchUsageError, DEFAULT_TIMEOUT_S, parseBenchArgs, quantizedFrom, quantizedPairs, variantName, type BenchOptions, type EngineVariant, type ModelId } from './options.js';
import { oneLine, quantizedComparison, quantizedTargets, type OutputsByModel } from './quantized.js';
import { accuracyRow, compareThreads, formatReport, soakRow, targetChecks, timingRows, type VariantRef } from './report.js';
import { runCold } from './cold.js';
import { zooCheck, zooTargets } from './zoo.js';
import { bundleProbe, emptyNodeMiB, runProbe } from './rss-probe.js';
import { REPORT_VERSION, type BenchReport, type EngineRun, type MachineInfo, type RssProbe } from './schema.js';
import { renderSvg } from './svg.js';

const require = createRequire(import.meta.url);
const CHILD = path.join(import.meta.dirname, 'child.ts');
export const DEFAULT_JSON = path.join(REPO_ROOT, 'bench', 'out', 'latest.json');
const ACCURACY_BATCH = 8;
/** The int8 models' accuracy outputs come one photo per run: DynamicQuantizeLinear scales the activations over the
 *  whole input tensor, so in a batch of 8 the other photos change each photo's result (ViT-B/16, onnxruntime-node,
 *  100 photos: 97 top-1 agreements with fp32 at batch 1, 94 at batch 8). One photo is what a classify() call runs. */
const QUANTIZED_ACCURACY_BATCH = 1;

/** Progress on stderr: lasting lines, and (on a terminal) one transient status line rewritten in place. */
export class Progress {
  private transient = false;
  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}
  line(text: string): void {
    this.clear();
    this.stream.write(text + '\n');
  }
  status(text: string): void {
    if (!this.stream.isTTY) return;
    this.clear();
    this.stream.write(text.slice(0, (this.stream.columns || 100) - 1));
    this.transient = true;
  }
  clear(): void {
    if (this.transient) this.stream.write('\r\x1b[2K');
    this.transient = false;
  }
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown',
    cores: os.availableParallelism?.() ?? cpus.length,
    memoryGB: +(os.totalmem() / 2 ** 30).toFixed(1),
    platform: `${os.type()} ${os.release()}`,
    arch: os.arch(),
    node: process.version,
    loadavgStart: os.loadavg().map(x => +x.toFixed(2)),
    loadavgEnd: [],
  };
}

export function packageVersions(root = REPO_ROOT): Record<string, string> {
  const read = (file: string) => {
    try {
      return String((JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: string }).version ?? '?');
    } catch {
      return 'missing';
    }
  };
  const out: Record<string, string> = { ocellus: read(path.join(root, 'package.json')) };
  for (const p of ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', 'onnxruntime-web', 'onnxruntime-node', 'tsx']) {
    out[p] = read(path.join(root, 'node_modules', p, 'package.json'));
  }
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    out.git = dirty ? `${head} (with uncommitted changes)` : head;
  } catch {
    out.git = 'unknown';
  }
  return out;
}

/** A fresh bench child (tsx loader, --expose-gc, IPC with structured clone for the output arrays). */
function forkChild(script = CHILD) {
  const env = { ...process.env };
  delete env.OCELLUS_THREADS;   // the ocellus engine sets its own
  return fork(script, [], {
    execArgv: ['--import', pathToFileURL(require.resolve('tsx')).href, '--expose-gc'],
    serialization: 'advanced',
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env,
  });
}

/** A bench child with its engine loaded (startChild): asked for timed runs, any number of times, then finish(). */
export interface ChildHandle {
  readonly loadMs: number;
  time(batch: number, runs: number, warmup: number): Promise<number[]>;
  /** Peak RSS, profile, soak, accuracy outputs; the child exits after it. */
  finish(): Promise<ChildResult>;
  kill(): void;
}

/** An engine's child during a model's timed rounds: samples per batch size, per round. */
interface Live { v: VariantRef; child: ChildHandle; rounds: Map<number, number[][]>; failed?: true }

/** How startChild watches its child: after `silenceS` seconds without a word from it (no answer, no progress line)
 *  while a request is pending, the child is taken for hung and killed (0: wait for ever). `script`: tests only. */
export interface ChildWatch { silenceS: number; script?: string }

/** Starts a fresh Node process on one job and waits for its engine to load. Every request rejects (never throws past
 *  the caller's catch) when the child reports an error, exits or is killed without answering, stays silent too long
 *  (`watch`), cannot be started, or cannot be sent the request. */
export function startChild(job: ChildJob, progress: Progress, verbose: boolean, watch: ChildWatch = { silenceS: DEFAULT_TIMEOUT_S }): Promise<ChildHandle> {
  const label = `${job.model} ${variantName(job.engine)}`;
  const child = forkChild(watch.script);
  const forward = (chunk: Buffer) => {
    for (const l of chunk.toString().split('\n')) if (l.trim() && (verbose || /error|warn/i.test(l))) progress.line(`  [${label}] ${l}`);
  };
  child.stdout!.on('data', forward);
  child.stderr!.on('data', forward);
  let waiting: { type: ChildMessage['type']; resolve(m: ChildMessage): void; reject(e: Error): void } | undefined;
  let dead: Error | undefined;
  let watchdog: ReturnType<typeof setTimeout> | undefined;
  const fail = (e: Error) => {
    clearTimeout(watchdog);
    dead ??= e;
    const w = waiting;
    waiting = undefined;
    w?.reject(e);
  };
  // (Re)started by every request and every message while one is pending.
  const rearm = () => {
    clearTimeout(watchdog);
    const w = waiting;
    if (!w || !(watch.silenceS > 0)) return;
    watchdog = setTimeout(() => {
      fail(new Error(`${label}: no word from the child for ${watch.silenceS} s while waiting for '${w.type}' (hung?); killed it (--timeout sets the limit)`));
      child.kill('SIGKILL');
    }, watch.silenceS * 1000);
  };
  child.on('message', (m: ChildMessage) => {
    if (m.type === 'progress') (m.transient ? progress.status(m.text) : progress.line(`  ${m.text}`));
    else if (m.type === 'error') fail(new Error(verbose && m.stack ? m.stack : m.message));
    else if (waiting?.type === m.type) { const w = waiting; waiting = undefined; w.resolve(m); }
    rearm();
  });
  child.on('error', e => { fail(new Error(`child process: ${e.message}`)); child.kill(); });
  child.on('close', (code, signal) => {   // after the IPC channel and stdio have drained
    fail(new Error(`child process exited (${signal ?? `code ${code}`}) without a result`));
  });
  const request = <T extends ChildMessage['type']>(msg: unknown, type: T): Promise<Extract<ChildMessage, { type: T }>> => {
    if (dead) return Promise.reject(dead);
    // One request at a time (the suite awaits each): a second would take the first one's answer.
    if (waiting) return Promise.reject(new Error(`the child is still answering '${waiting.type}'`));
    const answer = new Promise<ChildMessage>((resolve, reject) => { waiting = { type, resolve, reject }; });
    rearm();
    child.send(msg as object, e => { if (e) { fail(new Error(`could not send the child a request: ${e.message}`)); child.kill(); } });
    return answer as Promise<Extract<ChildMessage, { type: T }>>;
  };
  return request(job, 'loaded').then(({ loadMs }) => ({
    loadMs,
    time: (batch, runs, warmup) => request({ type: 'time', batch, runs, warmup } satisfies TimeRequest, 'samples').then(m => m.samplesMs),
    finish: () => request(FINISH_REQUEST, 'result').then(m => m.result),
    kill: () => { child.kill(); },
  }), (e: Error) => { child.kill(); throw e; });
}

/** Peak RSS (MiB) of a bench child that loads no engine: what every engine's peak RSS column includes anyway. */
export function emptyChildMiB(): Promise<number> {
  const child = forkChild();
  return new Promise((resolve, reject) => {
    child.on('message', (m: ChildMessage) => { if (m.type === 'baseline') resolve(m.peakRssMiB); });
    child.on('error', reject);
    child.on('close', code => reject(new Error(`empty bench child exited (code ${code}) without its RSS`)));
    child.send(BASELINE_REQUEST);
  });
}

/** The variant of each engine kind that produces the accuracy outputs: the one with the most threads. */
export function accuracyVariants(engines: readonly EngineVariant[]): Set<string> {
  const best = new Map<string, EngineVariant>();
  for (const e of engines) if ((best.get(e.kind)?.threads ?? 0) < e.threads) best.set(e.kind, e);
  return new Set([...best.values()].map(variantName));
}

export async function runSuite(opts: BenchOptions, command: string, progress = new Progress()): Promise<BenchReport> {
  const machine = machineInfo();
  const cache = path.resolve(opts.cache ?? DEFAULT_CACHE);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-bench-'));
  const report: BenchReport = {
    version: REPORT_VERSION, createdAt: new Date().toISOString(), command, machine, versions: packageVersions(),
    options: { models: opts.models, engines: opts.engines.map(variantName), batches: opts.batches, runs: opts.runs, rounds: opts.rounds, warmup: opts.warmup, accuracy: opts.accuracy, soak: opts.soak, profile: opts.profile },
    models: [], engines: [], results: [], accuracy: [], profiles: [], soak: [], targets: [],
  };
  const accVariants = accuracyVariants(opts.engines);
  // A model and its int8 twin read the same input file (written for whichever comes first).
  const inputsOf = new Map<ModelId, InputSet>();
  const outputsOf = new Map<ModelId, Map<string, { classes: number; data: Float32Array }>>();
  try {
    for (const id of opts.models) {
      progress.line(`${modelSpec(id).name}: preparing model and inputs`);
      const model = await prepareModel(id, cache, l => progress.line(`  ${l}`));
      const base = quantizedFrom(id) ?? id;
      // A zoo model is timed and checked on torch's own inputs (2 images; larger batches repeat them).
      let inputs = model.zoo ? { file: model.zoo.inputB2, count: 2, imageDims: model.zoo.inputDims, truth: [], source: "torch's reference inputs (2 images)" } : inputsOf.get(base);
      if (!inputs) {
        const want = Math.max(opts.accuracy, ...opts.batches);
        const photos = pickPhotos(want);
        // Photos when the dev set is there (every one picked), else `want` seeded random images.
        inputs = await writeInputs(model, photos, photos.length || want, path.join(tmp, `${base}.f32`), l => progress.status(l));
        inputsOf.set(base, inputs);
        progress.clear();
      }
      const q = model.quantize;
      report.models.push({
        id, name: model.spec.name, macsPerImage: model.spec.macsPerImage, path: path.relative(REPO_ROOT, model.onnxPath), inputs: inputs.source,
        fileMiB: model.bytes / 2 ** 20, ...(model.spec.family ? { family: model.spec.family } : {}), ...(model.spec.quantizedFrom ? { quantizedFrom: model.spec.quantizedFrom } : {}),
        ...(q ? { quantize: { matmuls: q.matmuls, convs: q.convs, kept: q.kept, seconds: q.seconds } } : {}),
      });
      const accuracyCount = Math.min(opts.accuracy, inputs.truth.length);
      const accuracyBatch = model.spec.quantizedFrom ? QUANTIZED_ACCURACY_BATCH : ACCURACY_BATCH;
      const outputs = new Map<string, { classes: number; data: Float32Array }>();
      outputsOf.set(id, outputs);
      const jobOf = (engine: EngineVariant, v: VariantRef): ChildJob => ({
        model: id, modelPath: model.onnxPath, engine, inputs: { file: inputs.file, count: inputs.count, imageDims: inputs.imageDims },
        batches: opts.batches, runs: opts.runs, warmup: opts.warmup,
        accuracy: accVariants.has(v.engine) ? accuracyCount : 0, accuracyBatch,
        profile: opts.profile && engine.kind === 'ocellus', soak: opts.soak,
        ...(model.zoo && accVariants.has(v.engine) ? { checkBatches: [1, 2] } : {}),
      });
      const failed = (v: VariantRef, e: unknown) => {
        progress.line(`  FAILED: ${(e as Error).message}`);
        report.engines.push({ ...v, info: {}, error: oneLine((e as Error).message) } satisfies EngineRun);
      };
      // One engine at a time; with --rounds > 1, all of the model's engines loaded at once and their timed runs in
      // rounds that alternate between them (the order reversed every other round), so that a machine slowing down
      // or speeding up over minutes weighs on every engine alike.
      for (const group of opts.rounds > 1 ? [opts.engines] : opts.engines.map(e => [e])) {
        const live: Live[] = [];
        for (const engine of group) {
          const v = { model: id, engine: variantName(engine), kind: engine.kind, threads: engine.threads };
          progress.line(`${model.spec.name} · ${v.engine}`);
          try {
            live.push({ v, child: await startChild(jobOf(engine, v), progress, opts.verbose, { silenceS: opts.timeout }), rounds: new Map() });
          } catch (e) {
            failed(v, e);
          }
        }
        for (let round = 0; round < opts.rounds; round++) {
          if (opts.rounds > 1) progress.line(`${model.spec.name}: round ${round + 1}/${opts.rounds}`);
          for (const batch of opts.batches) {
            for (const l of round % 2 ? [...live].reverse() : live) {
              if (l.failed) continue;
              try {
                const samples = await l.child.time(batch, opts.runs, round === 0 ? opts.warmup : Math.min(opts.warmup, 1));
                l.rounds.set(batch, [...l.rounds.get(batch) ?? [], samples]);
              } catch (e) {
                l.failed = true;
                l.child.kill();
                failed(l.v, e);
              }
            }
          }
        }
        for (const l of live) {
          if (l.failed) continue;
          try {
            const res = await l.child.finish();
            report.engines.push({ ...l.v, loadMs: l.child.loadMs, peakRssMiB: res.peakRssMiB, osThreads: res.osThreads, info: res.info });
            report.results.push(...timingRows(l.v, [...l.rounds].map(([batch, rounds]) => ({ batch, rounds })), model.spec.macsPerImage, opts.warmup));
            for (const p of res.profiles) report.profiles.push({ model: id, engine: l.v.engine, batch: p.batch, ...p.summary });
            if (res.soak) report.soak.push(soakRow(l.v, res.soak));
            if (res.outputs) outputs.set(l.v.engine, res.outputs);
            if (model.zoo && res.checks) (report.zooChecks ??= []).push(zooCheck(id, l.v.engine, model.zoo, res.checks));
          } catch (e) {
            failed(l.v, e);
          }
        }
      }
      const ref = [...outputs.keys()].find(k => k.startsWith('ort-web:')) ?? [...outputs.keys()][0];
      const note = model.spec.trained ? undefined : 'seeded random weights: top-1/top-5 against the true labels are chance level by construction; the agreement columns are what this model measures';
      const acc = ref ? accuracyRow(id, outputs, inputs.truth.slice(0, accuracyCount), ref, note) : undefined;
      if (acc) report.accuracy.push({ ...acc, batch: accuracyBatch });
    }
    if (opts.models.some(quantizedFrom)) await measureRss(report, opts, inputsOf, progress);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const pairs = quantizedPairs(opts.models);
  if (pairs.length) report.quantized = pairs.map(([fp32, q8]) => quantizedComparison(report, fp32, q8, outputsOf as OutputsByModel));
  report.targets = targetChecks(report);
  report.targets.push(...zooTargets(report, m => compareThreads(report.engines, m)), ...quantizedTargets(report));
  report.machine.loadavgEnd = os.loadavg().map(x => +x.toFixed(2));
  return report;
}

/**
 * The RSS baselines (an empty `node -e`, an empty bench child) and, when ocellus is among the engines, a
 * single-session probe of every int8 model in the run and of its fp32 twin when that ran too. A failed probe is
 * recorded with its error.
 */
async function measureRss(report: BenchReport, opts: BenchOptions, inputsOf: ReadonlyMap<ModelId, InputSet>, progress: Progress): Promise<void> {
  progress.line('RSS baselines: an empty node process, an empty bench child');
  try {
    report.baseline = { emptyNodeMiB: await emptyNodeMiB(), emptyChildMiB: await emptyChildMiB() };
  } catch (e) {
    progress.line(`  FAILED: ${(e as Error).message}`);
    return;
  }
  if (!opts.engines.some(e => e.kind === 'ocellus')) return;
  const probed = opts.models.filter(id => quantizedFrom(id) || opts.models.includes(`${id}-q8` as ModelId));
  const bundle = await bundleProbe();
  report.rssProbes = [];
  try {
    for (const id of probed) {
      progress.line(`${modelSpec(id).name}: single-session RSS probe (plain node, 1 thread, batch 1)`);
      const modelPath = path.join(REPO_ROOT, report.models.find(m => m.id === id)!.path);
      const inputs = inputsOf.get(quantizedFrom(id) ?? id)!;
      const probe: RssProbe = { model: id, threads: 1, batch: 1 };
      try {
        const p = await runProbe(bundle, modelPath, inputs);
        Object.assign(probe, { readyMiB: p.readyMiB, peakMiB: p.peakMiB, overEmptyNodeMiB: p.peakMiB - report.baseline.emptyNodeMiB, loadMs: p.loadMs, runMs: p.runMs });
        progress.line(`  peak ${p.peakMiB.toFixed(1)} MiB, ${probe.overEmptyNodeMiB!.toFixed(1)} MiB over an empty node process`);
      } catch (e) {
        progress.line(`  FAILED: ${(e as Error).message}`);
        probe.error = oneLine((e as Error).message);
      }
      report.rssProbes.push(probe);
    }
  } finally {
    fs.rmSync(bundle, { force: true });
  }
}

/** Writes the JSON report and the SVG chart next to it; returns both paths. */
export function writeReport(report: BenchReport, jsonPath: string): { json: string; svg: string } {
  const json = path.resolve(jsonPath);
  const svg = json.replace(/\.json$/i, '') + '.svg';
  fs.mkdirSync(path.dirname(json), { recursive: true });
  fs.writeFileSync(json, JSON.stringify(report, null, 2) + '\n');
  fs.writeFileSync(svg, renderSvg(report));
  return { json, svg };
}

/** `ocellus bench …` / `npm run bench -- …`: exit code 0 when every engine ran, 1 if any failed, 2 on bad flags. */
export async function benchMain(argv: readonly string[], invokedAs = 'ocellus bench'): Promise<number> {
  let opts: BenchOptions;
  try {
    opts = parseBenchArgs(argv);
  } catch (e) {
    if (!(e instanceof BenchUsageError)) throw e;
    process.stderr.write(`ocellus bench: ${e.message}\n\nUsage:\n${BENCH_USAGE}\n\n${BENCH_OPTIONS}\n`);
    return 2;
  }
  const progress = new Progress();
  const command = [invokedAs, ...argv].join(' ');
  const report = await (opts.cold ? runCold(opts, command, progress) : runSuite(opts, command, progress));
  progress.clear();
  process.stdout.write(formatReport(report) + '\n');
  const files = writeReport(report, opts.json ?? DEFAULT_JSON);
  progress.line(`\nreport: ${path.relative(process.cwd(), files.json)}\nchart:  ${path.relative(process.cwd(), files.svg)}`);
  return report.engines.some(e => e.error) || report.cold?.tries.some(t => t.error) ? 1 : 0;
}

export { BENCH_OPTIONS, BENCH_USAGE };
