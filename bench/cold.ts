// `--cold` (issue #20): start-up instead of steady state. Every try is a fresh plain-Node process (bench/cold-child.mjs)
// that imports one engine, creates a session and runs batch 1 once; the engines take turns within a round, the order
// reversed every other round, --rounds rounds (default 3). With ResNet-50 in the run (and ocellus and ort-node among
// the engines), also `ocellus classify` against bench/classify-ort-node.mjs, whole processes, alternating.
// ocellus is imported from a build folder (--dist, default dist/): the package as users run it, not through tsx.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { coldResults, coldTargets } from './cold-report.js';
import { modelSpec, pickPhotos, prepareModel, DEFAULT_CACHE, REPO_ROOT, writeInputs } from './models.js';
import { variantName, type BenchOptions, type EngineKind } from './options.js';
import { REPORT_VERSION, type BenchReport, type ClassifyCold, type ColdTry } from './schema.js';
import { summarize } from './stats.js';
import type { Progress } from './suite.js';

export const COLD_CHILD = path.join(import.meta.dirname, 'cold-child.mjs');
export const CLASSIFY_ORT_NODE = path.join(import.meta.dirname, 'classify-ort-node.mjs');

/** What one cold child does (argv[2] of bench/cold-child.mjs, as JSON). */
export interface ColdJob {
  kind: EngineKind;
  threads: number;
  modelPath: string;
  /** The ocellus build folder (holds src/index.js). */
  dist: string;
  /** Raw float32 images; the child runs the first one. */
  inputFile: string;
  imageDims: number[];
  /** 'none' until ocellus has a planned-model cache; then 'warm' or 'cold' (see cold-child.mjs). */
  planCache: 'none' | 'warm' | 'cold';
}

export interface ProcessRun { code: number | null; stdout: string; stderr: string; wallMs: number }

/** Runs `node args…` to its end (killed after `timeoutS`), timing it from spawn to exit. */
export function runNode(args: readonly string[], env: NodeJS.ProcessEnv, timeoutS: number): Promise<ProcessRun> {
  return new Promise(resolve => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    const timer = timeoutS > 0 ? setTimeout(() => { stderr += `\nkilled after ${timeoutS} s`; child.kill('SIGKILL'); }, timeoutS * 1000) : undefined;
    child.on('error', e => { stderr += `\n${e.message}`; });
    child.on('close', code => { clearTimeout(timer); resolve({ code, stdout, stderr, wallMs: performance.now() - t0 }); });
  });
}

/** The environment of a child: OCELLUS_THREADS only for ocellus (it reads it when its backend starts). */
function childEnv(job: Pick<ColdJob, 'kind' | 'threads'>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.OCELLUS_THREADS;
  if (job.kind === 'ocellus') env.OCELLUS_THREADS = String(job.threads);
  return env;
}

/** One try: the child's own figures and the parent's wall time; an error instead when the child failed. */
export async function coldTry(job: ColdJob, timeoutS: number, script = COLD_CHILD): Promise<Pick<ColdTry, 'importMs' | 'createMs' | 'firstRunMs' | 'wallMs' | 'peakRssMiB' | 'error'>> {
  const r = await runNode([script, JSON.stringify(job)], childEnv(job), timeoutS);
  const last = r.stdout.trim().split('\n').filter(l => l.startsWith('{')).at(-1);
  let msg: { importMs?: number; createMs?: number; firstRunMs?: number; peakRssMiB?: number; error?: string } | undefined;
  try { msg = last ? JSON.parse(last) : undefined; } catch { msg = undefined; }
  if (!msg || msg.error || r.code !== 0) {
    return { error: msg?.error ?? `the child exited (code ${r.code}) without its figures: ${(r.stderr.trim().split('\n').at(-1) ?? '').slice(0, 300)}` };
  }
  return { importMs: msg.importMs, createMs: msg.createMs, firstRunMs: msg.firstRunMs, peakRssMiB: msg.peakRssMiB, wallMs: r.wallMs };
}

/** Top-1 label of a `classify --json` style output (undefined when it is not one). */
export function top1Label(stdout: string): string | undefined {
  try {
    return (JSON.parse(stdout) as { results: { label: string }[] }[])[0]?.results[0]?.label;
  } catch {
    return undefined;
  }
}

/** `ocellus classify` (the build's CLI) and the plain onnxruntime-node script on one photo, alternating, `tries` each. */
export async function classifyCold(photo: string, modelDir: string, dist: string, tries: number, timeoutS: number, progress: Progress,
  scripts = { cli: path.join(dist, 'src', 'cli', 'main.js'), ortNode: CLASSIFY_ORT_NODE }): Promise<ClassifyCold> {
  const res: ClassifyCold = { photo, modelDir, ocellusMs: [], ortNodeMs: [], ocellusMedian: NaN, ortNodeMedian: NaN, sameTop1: true };
  const env = { ...process.env };
  delete env.OCELLUS_THREADS;
  const labels = new Set<string | undefined>();
  const sides = [
    { name: 'ocellus classify', args: [scripts.cli, 'classify', photo, '--model', modelDir, '--json'], out: res.ocellusMs },
    { name: 'onnxruntime-node script', args: [scripts.ortNode, photo, modelDir, dist], out: res.ortNodeMs },
  ];
  for (let i = 0; i < tries; i++) {
    for (const side of i % 2 ? [...sides].reverse() : sides) {
      progress.line(`  classify try ${i + 1}/${tries}: ${side.name}`);
      const r = await runNode(side.args, env, timeoutS);
      const label = top1Label(r.stdout);
      if (r.code !== 0 || label === undefined) {
        res.error = `${side.name} (${side.args.join(' ')}): exit ${r.code}: ${(r.stderr.trim().split('\n').at(-1) ?? '').slice(0, 300)}`;
        return res;
      }
      labels.add(label);
      side.out.push(r.wallMs);
    }
  }
  res.sameTop1 = labels.size === 1;
  res.ocellusMedian = summarize(res.ocellusMs).median;
  res.ortNodeMedian = summarize(res.ortNodeMs).median;
  return res;
}

/** The whole cold run: every model, every engine variant, `opts.rounds` tries each (alternating), then classify. */
export async function runCold(opts: BenchOptions, command: string, progress: Progress, script = COLD_CHILD): Promise<BenchReport> {
  const { machineInfo, packageVersions } = await import('./suite.js');
  const dist = path.resolve(opts.dist ?? path.join(REPO_ROOT, 'dist'));
  if (opts.engines.some(e => e.kind === 'ocellus') && !fs.existsSync(path.join(dist, 'src', 'index.js'))) {
    throw new Error(`${path.join(dist, 'src', 'index.js')}: missing; build ocellus first (npm run build) or pass --dist`);
  }
  const cache = path.resolve(opts.cache ?? DEFAULT_CACHE);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-cold-'));
  const report: BenchReport = {
    version: REPORT_VERSION, createdAt: new Date().toISOString(), command, machine: machineInfo(), versions: packageVersions(),
    options: { models: opts.models, engines: opts.engines.map(variantName), batches: [1], runs: 1, rounds: opts.rounds, warmup: 0, accuracy: 0, soak: 0, profile: false },
    models: [], engines: [], results: [], accuracy: [], profiles: [], soak: [], targets: [],
    cold: { tries: [], results: [], dist: path.relative(REPO_ROOT, dist) || '.' },
  };
  const tries = report.cold!.tries;
  try {
    let classifyModelDir: string | undefined;
    for (const id of opts.models) {
      const spec = modelSpec(id);
      progress.line(`${spec.name}: preparing model and input`);
      const model = await prepareModel(id, cache, l => progress.line(`  ${l}`));
      if (id === 'resnet50') classifyModelDir = model.dir;
      const input = model.zoo
        ? { file: model.zoo.input, imageDims: model.zoo.inputDims, source: "torch's reference input" }
        : await writeInputs(model, pickPhotos(1), 1, path.join(tmp, `${id}.f32`), () => {}).then(s => ({ file: s.file, imageDims: s.imageDims, source: s.source }));
      report.models.push({ id, name: spec.name, macsPerImage: spec.macsPerImage, path: path.relative(REPO_ROOT, model.onnxPath), inputs: input.source, fileMiB: model.bytes / 2 ** 20, ...(spec.family ? { family: spec.family } : {}) });
      for (let round = 0; round < opts.rounds; round++) {
        for (const engine of round % 2 ? [...opts.engines].reverse() : opts.engines) {
          const v = { model: id, engine: variantName(engine), kind: engine.kind, threads: engine.threads };
          // ocellus twice: its planned-model cache cold (removed first: the first ever start) and then warm.
          for (const planCache of engine.kind === 'ocellus' ? (['cold', 'warm'] as const) : (['none'] as const)) {
            progress.line(`${spec.name} · ${v.engine}${planCache === 'none' ? '' : ` (plan cache ${planCache})`}: cold try ${round + 1}/${opts.rounds}`);
            if (planCache === 'cold') removePlanCaches(model.onnxPath);
            const job: ColdJob = { kind: engine.kind, threads: engine.threads, modelPath: model.onnxPath, dist, inputFile: input.file, imageDims: input.imageDims, planCache };
            const t = { ...v, round, planCache, ...await coldTry(job, opts.timeout, script) };
            if (t.error) progress.line(`  FAILED: ${t.error}`);
            else progress.line(`  import ${t.importMs!.toFixed(0)} ms, create ${t.createMs!.toFixed(0)} ms, first run ${t.firstRunMs!.toFixed(0)} ms, process ${t.wallMs!.toFixed(0)} ms, peak RSS ${t.peakRssMiB!.toFixed(0)} MiB`);
            tries.push(t);
          }
        }
      }
    }
    const kinds = new Set(opts.engines.map(e => e.kind));
    const photo = pickPhotos(1)[0]?.file;
    if (classifyModelDir && kinds.has('ocellus') && kinds.has('ort-node')) {
      if (!photo) progress.line('classify vs onnxruntime-node: skipped (no photo: ../shared/images/imagenet-dev is missing)');
      else {
        progress.line(`classify vs a plain onnxruntime-node script: ${path.basename(photo)}, whole process, ${opts.rounds} tries each`);
        report.cold!.classify = await classifyCold(photo, classifyModelDir, dist, opts.rounds, opts.timeout, progress);
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  report.cold!.results = coldResults(tries);
  report.targets = coldTargets(report.cold!.results, report.cold!.classify);
  report.machine.loadavgEnd = os.loadavg().map(x => +x.toFixed(2));
  return report;
}

/** Removes ocellus's planned-model caches of `modelPath` (beside it, and under the cache folder's plans/), so the
 *  next start is a first ever start. */
export function removePlanCaches(modelPath: string): void {
  fs.rmSync(`${path.resolve(modelPath)}.ocellus-plan`, { force: true });
  const plans = path.join(process.env.OCELLUS_CACHE || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'ocellus'), 'plans');
  if (!fs.existsSync(plans)) return;
  for (const f of fs.readdirSync(plans)) if (f.startsWith(`${path.basename(modelPath)}-`) && f.endsWith('.ocellus-plan')) fs.rmSync(path.join(plans, f), { force: true });
}
