// The bench's JSON report: its types (what `--json` writes) and checkReport, a structural validator the tests
// and readers of old reports use. Version 1; a field added later must be optional (the int8 fields: models[].fileMiB,
// quantizedFrom, quantize; accuracy[].batch; targets[].group; baseline, rssProbes, quantized).

import type { LatencySummary } from './stats.js';
import type { ProfileSummary } from './profile.js';

export const REPORT_VERSION = 1;

export interface MachineInfo {
  cpu: string;
  /** Logical cores Node sees. */
  cores: number;
  memoryGB: number;
  platform: string;
  arch: string;
  node: string;
  /** 1/5/15-minute load averages when the run started and ended (other work on the machine skews timings). */
  loadavgStart: number[];
  loadavgEnd: number[];
}

export interface ModelInfo {
  id: string;
  name: string;
  /** Multiply-accumulates per image (GFLOP/s = 2 × MACs × images / s). */
  macsPerImage: number;
  path: string;
  /** Where the input tensors came from ('imagenet-dev photos' or 'seeded random'). */
  inputs: string;
  /** The model file and its external data, MiB. */
  fileMiB?: number;
  /** The fp32 model id this one is the int8 twin of. */
  quantizedFrom?: string;
  /** A ../shared/zoo model: 'zoo' (the full-size dev set) or 'small-zoo'. */
  family?: string;
  /** When this run quantized the model (absent when the cached file was reused). */
  quantize?: { matmuls: number; convs: number; kept: string[]; seconds: number };
}

/** One engine variant on one model: a child process of its own. */
export interface EngineRun {
  model: string;
  engine: string;
  kind: string;
  threads: number;
  /** Session creation (ms). */
  loadMs?: number;
  /** Peak resident set of the child after its timed runs (MiB): VmHWM on Linux (bench/rss.ts says why not maxRSS). */
  peakRssMiB?: number;
  /** /proc/self/status Threads before the engine started and after its first run: did worker threads start? */
  osThreads?: { before: number; after: number };
  /** Engine-specific facts (backend build, thread pool size, versions). */
  info: Record<string, unknown>;
  error?: string;
}

export interface TimingResult {
  model: string;
  engine: string;
  kind: string;
  threads: number;
  batch: number;
  runs: number;
  warmup: number;
  ms: LatencySummary;
  /** At the median latency. */
  imagesPerSec: number;
  gflops: number;
  /** The median of each round (--rounds > 1), in the order they ran. */
  roundMedians?: number[];
}

export interface EngineAccuracy {
  engine: string;
  top1: number;
  top5: number;
  /** Against the reference engine's outputs (absent for the reference itself); a NaN diff is null in JSON. */
  vsReference?: { maxAbsDiff: number; meanAbsDiff: number; top1Agreement: number; top5Agreement: number };
}

export interface AccuracyResult {
  model: string;
  images: number;
  reference: string;
  engines: EngineAccuracy[];
  note?: string;
  /** Photos per run when the outputs were computed. */
  batch?: number;
}

export interface ProfileResult extends ProfileSummary {
  model: string;
  engine: string;
  batch: number;
}

export interface SoakResult {
  model: string;
  engine: string;
  runs: number;
  /** [run index, RSS MiB after a full GC] samples, the first taken after the timed runs. */
  rssMiB: [number, number][];
  startMiB: number;
  endMiB: number;
  maxMiB: number;
  /** [run index, V8 young generation (new space) MiB, old space MiB, live objects MiB] at the same samples as rssMiB:
   *  the spaces are what V8 has committed to them (a step in RSS that the young generation takes too is V8 resizing
   *  its heap), the live objects what the JavaScript side retains after the GC. */
  heapMiB?: [number, number, number, number][];
  /** Least-squares slope of RSS over the samples after the first 10 % of the runs, MiB per 1000 runs. */
  slopeMiBPer1000: number;
  /** The same slope of RSS less V8's young generation (heapMiB[…][1]), where heapMiB was sampled: what the soak goal
   *  judges (see soakRow in report.ts). */
  netSlopeMiBPer1000?: number;
  medianMs: number;
  /** ocellus: tf.memory() tensors before and after the soak. */
  tensors?: { before: number; after: number };
}

/** One of the brief's goals, measured: ours vs onnxruntime-web at the same thread count (no group), or an int8 goal
 *  (group 'q8': ours = the int8 figure, theirs = its fp32 twin's where there is one). */
export interface TargetCheck {
  group?: string;
  model: string;
  goal: string;
  unit: string;
  ours: number;
  theirs?: number;
  /** ours / theirs where the goal is a ratio. */
  ratio?: number;
  /** The ratio per round (--rounds > 1), from each round's medians. */
  perRound?: number[];
  met: boolean;
}

/** What the RSS figures are measured over (MiB of peak RSS, as bench/rss.ts measures it). */
export interface RssBaseline {
  /** An empty `node -e` process: the baseline of the int8 memory goal. */
  emptyNodeMiB: number;
  /** A bench child that loads no engine (Node + tsx loader + IPC): part of every engine's peak RSS in the tables. */
  emptyChildMiB?: number;
}

/** One session in a plain `node` process (bench/rss-probe.ts): 1 thread, one batch-1 run. */
export interface RssProbe {
  model: string;
  threads: number;
  batch: number;
  /** RSS once the WASM backend has started, before the session. */
  readyMiB?: number;
  peakMiB?: number;
  /** peakMiB − baseline.emptyNodeMiB. */
  overEmptyNodeMiB?: number;
  loadMs?: number;
  runMs?: number;
  error?: string;
}

/** A model and its int8 twin in the same run, side by side (same engines, same input tensors). */
export interface QuantizedComparison {
  model: string;
  quantized: string;
  fileMiB: { fp32: number; q8: number };
  /** Median latency per engine variant and batch size; ratio = q8 / fp32. */
  latency: { engine: string; batch: number; fp32Ms: number; q8Ms: number; ratio: number }[];
  /** The bench children's peak RSS per engine variant; ratio = q8 / fp32. */
  peakRss: { engine: string; fp32MiB: number; q8MiB: number; ratio: number }[];
  /** The int8 outputs against the fp32 outputs of the same engine variant on the same photos. */
  agreement: { engine: string; images: number; top1Agreement: number; top5Agreement: number; maxAbsDiff: number; meanAbsDiff: number }[];
  /** Engine variants that failed on either side (one-line errors). */
  failed: { model: string; engine: string; error: string }[];
}

/** A zoo model's outputs on torch's reference inputs against torch's logits (rel = max|diff| / max|torch|). */
export interface ZooCheck {
  model: string;
  engine: string;
  relB1: number;
  relB2: number;
  /** Every sample's top-1 class is torch's, at both batch sizes. */
  top1Equal: boolean;
}

/** One cold start: a fresh process that imports the engine, creates a session, runs batch 1 once, and exits. */
export interface ColdTry {
  model: string;
  engine: string;
  kind: string;
  threads: number;
  /** 0-based; the engines take turns within a round, the order reversed every other round. */
  round: number;
  /** The planned-model cache the try ran with: 'none' until ocellus has one (then 'warm' / 'cold'). */
  planCache: string;
  /** From the child's own clock: importing the engine's module, creating the session, the first run. */
  importMs?: number;
  createMs?: number;
  firstRunMs?: number;
  /** Spawn to exit, measured by the parent. */
  wallMs?: number;
  /** The child's VmHWM at its end. */
  peakRssMiB?: number;
  error?: string;
}

/** Medians over an engine variant's successful tries on one model. */
export interface ColdResult {
  model: string;
  engine: string;
  kind: string;
  threads: number;
  planCache: string;
  tries: number;
  importMs: number;
  createMs: number;
  firstRunMs: number;
  /** Median of create + first run over the tries (not the sum of the two medians). */
  createFirstMs: number;
  wallMs: number;
  peakRssMiB: number;
}

/** `ocellus classify photo --model dir` against a plain Node script doing the same with onnxruntime-node: whole process
 *  wall times, alternating, warm model cache. */
export interface ClassifyCold {
  photo: string;
  modelDir: string;
  ocellusMs: number[];
  ortNodeMs: number[];
  ocellusMedian: number;
  ortNodeMedian: number;
  /** Both printed the same top-1 label. */
  sameTop1: boolean;
  error?: string;
}

export interface BenchReport {
  version: number;
  createdAt: string;
  command: string;
  machine: MachineInfo;
  versions: Record<string, string>;
  options: { models: string[]; engines: string[]; batches: number[]; runs: number; rounds?: number; warmup: number; accuracy: number; soak: number; profile: boolean };
  models: ModelInfo[];
  engines: EngineRun[];
  results: TimingResult[];
  accuracy: AccuracyResult[];
  profiles: ProfileResult[];
  soak: SoakResult[];
  targets: TargetCheck[];
  baseline?: RssBaseline;
  rssProbes?: RssProbe[];
  quantized?: QuantizedComparison[];
  zooChecks?: ZooCheck[];
  cold?: { tries: ColdTry[]; results: ColdResult[]; classify?: ClassifyCold; dist: string };
}

type Check = (v: unknown, at: string, out: string[]) => void;

const num: Check = (v, at, out) => { if (typeof v !== 'number' || Number.isNaN(v)) out.push(`${at}: expected a number, got ${JSON.stringify(v)}`); };
const str: Check = (v, at, out) => { if (typeof v !== 'string') out.push(`${at}: expected a string, got ${JSON.stringify(v)}`); };
/** A number, or null where a NaN was measured (JSON has no NaN: a NaN output diff is written as null). */
const numOrNull: Check = (v, at, out) => { if (v !== null) num(v, at, out); };
const bool: Check = (v, at, out) => { if (typeof v !== 'boolean') out.push(`${at}: expected a boolean, got ${JSON.stringify(v)}`); };
const any: Check = () => {};
const opt = (c: Check): Check & { optional: true } => Object.assign((v: unknown, at: string, out: string[]) => { if (v !== undefined) c(v, at, out); }, { optional: true as const });
const arr = (c: Check): Check => (v, at, out) => {
  if (!Array.isArray(v)) { out.push(`${at}: expected an array`); return; }
  v.forEach((x, i) => c(x, `${at}[${i}]`, out));
};
const obj = (fields: Record<string, Check>): Check => (v, at, out) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) { out.push(`${at}: expected an object`); return; }
  const o = v as Record<string, unknown>;
  for (const [k, c] of Object.entries(fields)) {
    if (!(k in o) && !('optional' in c)) out.push(`${at}.${k}: missing`);
    else c(o[k], `${at}.${k}`, out);
  }
};
const record = (c: Check): Check => (v, at, out) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) { out.push(`${at}: expected an object`); return; }
  for (const [k, x] of Object.entries(v)) c(x, `${at}.${k}`, out);
};

const latency = obj({ min: num, median: num, max: num, mean: num });
const variant = { model: str, engine: str, kind: str, threads: num };

const REPORT: Check = obj({
  version: num, createdAt: str, command: str,
  machine: obj({ cpu: str, cores: num, memoryGB: num, platform: str, arch: str, node: str, loadavgStart: arr(num), loadavgEnd: arr(num) }),
  versions: record(str),
  options: obj({ models: arr(str), engines: arr(str), batches: arr(num), runs: num, rounds: opt(num), warmup: num, accuracy: num, soak: num, profile: bool }),
  models: arr(obj({
    id: str, name: str, macsPerImage: num, path: str, inputs: str, fileMiB: opt(num), quantizedFrom: opt(str), family: opt(str),
    quantize: opt(obj({ matmuls: num, convs: num, kept: arr(str), seconds: num })),
  })),
  engines: arr(obj({ ...variant, loadMs: opt(num), peakRssMiB: opt(num), osThreads: opt(obj({ before: num, after: num })), info: record(any), error: opt(str) })),
  results: arr(obj({ ...variant, batch: num, runs: num, warmup: num, ms: latency, imagesPerSec: num, gflops: num, roundMedians: opt(arr(num)) })),
  accuracy: arr(obj({
    model: str, images: num, reference: str, note: opt(str), batch: opt(num),
    engines: arr(obj({ engine: str, top1: num, top5: num, vsReference: opt(obj({ maxAbsDiff: numOrNull, meanAbsDiff: numOrNull, top1Agreement: num, top5Agreement: num })) })),
  })),
  profiles: arr(obj({
    model: str, engine: str, batch: num, runs: num, stepMs: num,
    byOpType: arr(obj({ opType: str, ms: num, share: num, nodes: num })),
    slowest: arr(obj({ name: str, opType: str, ms: num, shape: arr(num) })),
  })),
  soak: arr(obj({
    model: str, engine: str, runs: num, rssMiB: arr(arr(num)), startMiB: num, endMiB: num, maxMiB: num, slopeMiBPer1000: num, netSlopeMiBPer1000: opt(num), medianMs: num,
    tensors: opt(obj({ before: num, after: num })),
  })),
  targets: arr(obj({ group: opt(str), model: str, goal: str, unit: str, ours: numOrNull, theirs: opt(numOrNull), ratio: opt(num), perRound: opt(arr(num)), met: bool })),
  baseline: opt(obj({ emptyNodeMiB: num, emptyChildMiB: opt(num) })),
  rssProbes: opt(arr(obj({
    model: str, threads: num, batch: num, readyMiB: opt(num), peakMiB: opt(num), overEmptyNodeMiB: opt(num), loadMs: opt(num), runMs: opt(num), error: opt(str),
  }))),
  quantized: opt(arr(obj({
    model: str, quantized: str, fileMiB: obj({ fp32: num, q8: num }),
    latency: arr(obj({ engine: str, batch: num, fp32Ms: num, q8Ms: num, ratio: num })),
    peakRss: arr(obj({ engine: str, fp32MiB: num, q8MiB: num, ratio: num })),
    agreement: arr(obj({ engine: str, images: num, top1Agreement: num, top5Agreement: num, maxAbsDiff: numOrNull, meanAbsDiff: numOrNull })),
    failed: arr(obj({ model: str, engine: str, error: str })),
  }))),
  zooChecks: opt(arr(obj({ model: str, engine: str, relB1: numOrNull, relB2: numOrNull, top1Equal: bool }))),
  cold: opt(obj({
    dist: str,
    tries: arr(obj({
      ...variant, round: num, planCache: str, importMs: opt(num), createMs: opt(num), firstRunMs: opt(num), wallMs: opt(num), peakRssMiB: opt(num), error: opt(str),
    })),
    results: arr(obj({
      ...variant, planCache: str, tries: num, importMs: num, createMs: num, firstRunMs: num, createFirstMs: num, wallMs: num, peakRssMiB: num,
    })),
    classify: opt(obj({
      photo: str, modelDir: str, ocellusMs: arr(num), ortNodeMs: arr(num), ocellusMedian: numOrNull, ortNodeMedian: numOrNull, sameTop1: bool, error: opt(str),
    })),
  })),
});

/** Problems with a parsed report, one line each naming the field (empty when it is a valid version-1 report). */
export function checkReport(x: unknown): string[] {
  const out: string[] = [];
  REPORT(x, 'report', out);
  if (out.length === 0 && (x as BenchReport).version !== REPORT_VERSION) out.push(`report.version: expected ${REPORT_VERSION}, got ${(x as BenchReport).version}`);
  return out;
}
