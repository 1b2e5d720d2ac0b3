// The bench run: prepares the models and their input tensors once, runs every engine variant on every model in a
// child process of its own (one at a time, so they never compete for the cores), then prints the table and writes
// the JSON report and SVG chart. benchMain(argv) is what `npm run bench` and `ocellus bench` call.

import { execFileSync, fork } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ChildJob, ChildMessage, ChildResult } from './child.js';
import { DEFAULT_CACHE, MODELS, pickPhotos, prepareModel, REPO_ROOT, writeInputs, type InputSet } from './models.js';
import { BENCH_OPTIONS, BENCH_USAGE, BenchUsageError, parseBenchArgs, variantName, type BenchOptions, type EngineVariant } from './options.js';
import { accuracyRow, formatReport, soakRow, targetChecks, timingRows } from './report.js';
import { REPORT_VERSION, type BenchReport, type EngineRun, type MachineInfo } from './schema.js';
import { renderSvg } from './svg.js';

const require = createRequire(import.meta.url);
const CHILD = path.join(import.meta.dirname, 'child.ts');
export const DEFAULT_JSON = path.join(REPO_ROOT, 'bench', 'out', 'latest.json');
const ACCURACY_BATCH = 8;

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

/** Runs one job in a fresh Node process (tsx loader, IPC with structured clone for the output arrays). */
export function runChild(job: ChildJob, progress: Progress, verbose: boolean): Promise<ChildResult> {
  const label = `${job.model} ${variantName(job.engine)}`;
  const env = { ...process.env };
  delete env.OCELLUS_THREADS;   // the ocellus engine sets its own
  const child = fork(CHILD, [], {
    execArgv: ['--import', pathToFileURL(require.resolve('tsx')).href, '--expose-gc'],
    serialization: 'advanced',
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env,
  });
  const forward = (chunk: Buffer) => {
    for (const l of chunk.toString().split('\n')) if (l.trim() && (verbose || /error|warn/i.test(l))) progress.line(`  [${label}] ${l}`);
  };
  child.stdout!.on('data', forward);
  child.stderr!.on('data', forward);
  return new Promise((resolve, reject) => {
    let settled = false;
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'progress') (m.transient ? progress.status(m.text) : progress.line(`  ${m.text}`));
      else if (m.type === 'result') { settled = true; resolve(m.result); }
      else if (m.type === 'error') { settled = true; reject(new Error(verbose && m.stack ? m.stack : m.message)); }
    });
    child.on('close', (code, signal) => {   // after the IPC channel and stdio have drained
      if (!settled) reject(new Error(`child process exited (${signal ?? `code ${code}`}) without a result`));
    });
    child.send(job);
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
    options: { models: opts.models, engines: opts.engines.map(variantName), batches: opts.batches, runs: opts.runs, warmup: opts.warmup, accuracy: opts.accuracy, soak: opts.soak, profile: opts.profile },
    models: [], engines: [], results: [], accuracy: [], profiles: [], soak: [], targets: [],
  };
  const accVariants = accuracyVariants(opts.engines);
  try {
    for (const id of opts.models) {
      progress.line(`${MODELS[id].name}: preparing model and inputs`);
      const model = await prepareModel(id, cache, l => progress.line(`  ${l}`));
      const want = Math.max(opts.accuracy, ...opts.batches);
      const photos = pickPhotos(want);
      // Photos when the dev set is there (every one picked), else `want` seeded random images.
      const inputs: InputSet = await writeInputs(model, photos, photos.length || want, path.join(tmp, `${id}.f32`), l => progress.status(l));
      progress.clear();
      report.models.push({ id, name: model.spec.name, macsPerImage: model.spec.macsPerImage, path: path.relative(REPO_ROOT, model.onnxPath), inputs: inputs.source });
      const accuracyCount = Math.min(opts.accuracy, inputs.truth.length);
      const outputs = new Map<string, { classes: number; data: Float32Array }>();
      for (const engine of opts.engines) {
        const v = { model: id, engine: variantName(engine), kind: engine.kind, threads: engine.threads };
        progress.line(`${model.spec.name} · ${v.engine}`);
        const job: ChildJob = {
          model: id, modelPath: model.onnxPath, engine, inputs: { file: inputs.file, count: inputs.count, imageDims: inputs.imageDims },
          batches: opts.batches, runs: opts.runs, warmup: opts.warmup,
          accuracy: accVariants.has(v.engine) ? accuracyCount : 0, accuracyBatch: ACCURACY_BATCH,
          profile: opts.profile && engine.kind === 'ocellus', soak: opts.soak,
        };
        try {
          const res = await runChild(job, progress, opts.verbose);
          report.engines.push({ ...v, loadMs: res.loadMs, peakRssMiB: res.peakRssMiB, osThreads: res.osThreads, info: res.info });
          report.results.push(...timingRows(v, res.timings, model.spec.macsPerImage, opts.warmup));
          for (const p of res.profiles) report.profiles.push({ model: id, engine: v.engine, batch: p.batch, ...p.summary });
          if (res.soak) report.soak.push(soakRow(v, res.soak));
          if (res.outputs) outputs.set(v.engine, res.outputs);
        } catch (e) {
          progress.line(`  FAILED: ${(e as Error).message}`);
          report.engines.push({ ...v, info: {}, error: (e as Error).message } satisfies EngineRun);
        }
      }
      const ref = [...outputs.keys()].find(k => k.startsWith('ort-web:')) ?? [...outputs.keys()][0];
      const note = model.spec.trained ? undefined : 'seeded random weights: top-1/top-5 against the true labels are chance level by construction; the agreement columns are what this model measures';
      const acc = ref ? accuracyRow(id, outputs, inputs.truth.slice(0, accuracyCount), ref, note) : undefined;
      if (acc) report.accuracy.push(acc);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  report.targets = targetChecks(report);
  report.machine.loadavgEnd = os.loadavg().map(x => +x.toFixed(2));
  return report;
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
  const report = await runSuite(opts, [invokedAs, ...argv].join(' '), progress);
  progress.clear();
  process.stdout.write(formatReport(report) + '\n');
  const files = writeReport(report, opts.json ?? DEFAULT_JSON);
  progress.line(`\nreport: ${path.relative(process.cwd(), files.json)}\nchart:  ${path.relative(process.cwd(), files.svg)}`);
  return report.engines.some(e => e.error) ? 1 : 0;
}

export { BENCH_OPTIONS, BENCH_USAGE };
