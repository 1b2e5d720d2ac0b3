// The bench's command line: which models, engines (with thread counts), batch sizes, runs; parsed into one
// plain options object the suite runs from. Pure (no I/O), so tests check it directly.

import { parseArgs } from 'node:util';

export const ENGINE_KINDS = ['ocellus', 'ort-web', 'ort-node'] as const;
export type EngineKind = (typeof ENGINE_KINDS)[number];

export const MODEL_IDS = ['resnet50', 'vitb16', 'resnet50-q8', 'vitb16-q8'] as const;
export type CoreModelId = (typeof MODEL_IDS)[number];

/** The classification dev set of ../shared/zoo (issue #21): full-size exports (`<name>_op<opset>`, exported into the
 *  bench's zoo folder on first use) and their committed small twins (`mini_<name>_op<opset>`). */
export const ZOO_NAMES = ['mobilenet_v2', 'mobilenet_v3_small', 'efficientnet_b1', 'regnet_x_400mf', 'shufflenet_v2_x0_5', 'convnext_tiny', 'swin_t'] as const;
export type ZooName = (typeof ZOO_NAMES)[number];
/** The models exported at opset 17 too (every one is exported at 13). */
export const ZOO_OPSET17: readonly ZooName[] = ['mobilenet_v3_small', 'convnext_tiny', 'swin_t'];
export type ZooId = `${'' | 'mini_'}${ZooName}_op${13 | 17}`;
export type ModelId = CoreModelId | ZooId;

/** Every zoo id that exists: full and small, opset 13 for all and 17 where exported. */
export const ZOO_IDS: readonly ZooId[] = (['', 'mini_'] as const).flatMap(prefix => ZOO_NAMES.flatMap(n =>
  (ZOO_OPSET17.includes(n) ? [13, 17] as const : [13] as const).map(op => `${prefix}${n}_op${op}` as ZooId)));

/** A zoo id's parts (undefined for the other models). */
export function zooParts(id: string): { name: ZooName; opset: 13 | 17; small: boolean } | undefined {
  if (!(ZOO_IDS as readonly string[]).includes(id)) return undefined;
  const m = /^(mini_)?(.+)_op(13|17)$/.exec(id)!;
  return { name: m[2] as ZooName, opset: Number(m[3]) as 13 | 17, small: !!m[1] };
}
/** What runs without --models: the fp32 models only (the int8 twins double the run time; `--models all` adds them). */
export const DEFAULT_MODELS: readonly ModelId[] = ['resnet50', 'vitb16'];

/** The fp32 model an int8 id is quantized from (undefined for the fp32 models themselves). */
export function quantizedFrom(id: ModelId): ModelId | undefined {
  return id.endsWith('-q8') ? (id.slice(0, -'-q8'.length) as ModelId) : undefined;
}

/** [fp32, int8] pairs with both sides in `models`, in the order of the fp32 side. */
export function quantizedPairs(models: readonly ModelId[]): [ModelId, ModelId][] {
  return models.filter(q => quantizedFrom(q) && models.includes(quantizedFrom(q)!)).map(q => [quantizedFrom(q)!, q] as [ModelId, ModelId])
    .sort((a, b) => models.indexOf(a[0]) - models.indexOf(b[0]));
}

/** One engine at one thread count: what one child process runs. */
export interface EngineVariant {
  kind: EngineKind;
  threads: number;
}

export interface BenchOptions {
  models: ModelId[];
  engines: EngineVariant[];
  batches: number[];
  runs: number;
  /** Times the timed runs are repeated, alternating between a model's engines (1: each engine once, in turn). */
  rounds: number;
  warmup: number;
  /** Photos of the ImageNet dev set for the accuracy section (0 = skip). */
  accuracy: number;
  /** Where the JSON report goes (the SVG chart is written next to it). */
  json: string | undefined;
  profile: boolean;
  /** Runs at batch 1 per engine watching RSS (0 = no soak). */
  soak: number;
  /** Seconds a child may stay silent (no answer, no progress) while the suite waits on it before it is taken for
   *  hung and killed (0: no limit). */
  timeout: number;
  /** Model cache folder (default: the tests' .cache/test, so models are prepared once). */
  cache: string | undefined;
  quick: boolean;
  verbose: boolean;
  /** Cold starts instead of warm timings: every try a fresh process (create + first run), `rounds` tries per engine. */
  cold: boolean;
  /** The ocellus build the cold children import (a folder holding src/index.js: the package as users get it). */
  dist: string | undefined;
}

export class BenchUsageError extends Error {}

/** --timeout's default: far above the longest silence of a healthy child here (loading ViT-B/16, ~20 s; one ViT-B/16
 *  batch-8 run on one thread of a loaded machine, under a minute). */
export const DEFAULT_TIMEOUT_S = 300;

export const BENCH_USAGE = `  ocellus bench [--models resnet50,vitb16,resnet50-q8,vitb16-q8|all|zoo|small-zoo|NAME] [--engines ocellus,ort-web,ort-node] [--threads 1,2]
                [--batch 1,8] [--runs N] [--rounds N] [--warmup N] [--accuracy N] [--profile] [--soak N] [--timeout S] [--json out.json]
                [--quick] [--cold [--dist DIR]]`;

export const BENCH_OPTIONS = `Bench options:
  --models LIST    resnet50 (bundled Keras ResNet-50), vitb16 (seeded ViT-B/16), resnet50-q8 and vitb16-q8
                   (their dynamic int8 twins, quantized on first use and cached next to model.onnx), or all
                   (default: resnet50,vitb16); a model and its twin in one run add a "q8 vs fp32" section.
                   zoo: the dev set of ../shared/zoo (mobilenet_v2, mobilenet_v3_small, efficientnet_b1,
                   regnet_x_400mf, shufflenet_v2_x0_5, convnext_tiny, swin_t at opset 13; exported into
                   <cache>/../zoo by /usr/bin/python3 ../shared/zoo/export.py on first use, ~560 MB, ~2 min),
                   small-zoo: their committed small twins; or one by name (mobilenet_v2, convnext_tiny_op17,
                   mini_swin_t_op13, …). Zoo models are timed on torch's reference inputs, and their outputs at
                   batch 1 and 2 are checked against torch's logits
  --engines LIST   ocellus, ort-web (onnxruntime-web WASM), ort-node (onnxruntime-node CPU); an entry may
                   name its threads: ort-web:2 (default: all three)
  --threads LIST   thread counts for engines listed without one (default 1,2)
  --batch LIST     batch sizes (default 1,8)
  --runs N         timed runs per batch size (default 10; --quick 3)
  --rounds N       repeat the timed runs N times, the model's engines taking turns (all loaded at once, the
                   order reversed every other round; one warm-up run before each later round): a machine whose
                   speed drifts during the run weighs on every engine alike; the goals show each round's ratio
                   (default 1: each engine runs once, alone)
  --warmup N       untimed runs first (default 3; --quick 1)
  --accuracy N     ImageNet dev photos for the accuracy section, 0 to skip (default 200; --quick 16)
  --profile        ocellus: time per op type and the 10 slowest nodes
  --soak N         N batch-1 runs per engine, watching RSS for growth
  --timeout S      an engine's child that says nothing (no result, no progress) for S seconds is taken for hung:
                   killed, its engine reported FAILED, the run goes on (default ${DEFAULT_TIMEOUT_S}; 0: no limit)
  --json FILE      write the JSON report there, the SVG chart next to it (default bench/out/latest.json)
  --cache DIR      model cache (default .cache/test, shared with the tests)
  --quick          fewer runs and photos (a smoke run)
  --cold           cold starts: every try a fresh process per engine (import, create, first run at batch 1,
                   whole wall time, peak RSS), --rounds tries (default 3) alternating the engines; with
                   resnet50, also \`ocellus classify\` against a plain onnxruntime-node script, whole process
  --dist DIR       --cold: the ocellus build to import (default dist; \`npm run build\` first)`;

const MODEL_ALIASES: Record<string, ModelId> = {
  resnet50: 'resnet50', 'resnet-50': 'resnet50', resnet: 'resnet50',
  vitb16: 'vitb16', 'vit-b16': 'vitb16', 'vit-b/16': 'vitb16', vit: 'vitb16',
  'resnet50-q8': 'resnet50-q8', 'resnet-50-q8': 'resnet50-q8', 'resnet-q8': 'resnet50-q8',
  'vitb16-q8': 'vitb16-q8', 'vit-b16-q8': 'vitb16-q8', 'vit-b/16-q8': 'vitb16-q8', 'vit-q8': 'vitb16-q8',
};

function list(v: string | undefined): string[] | undefined {
  return v === undefined ? undefined : v.split(',').map(s => s.trim()).filter(Boolean);
}

function intFlag(v: string | undefined, flag: string, fallback: number, min: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new BenchUsageError(`${flag} must be an integer ≥ ${min}, got '${v}'`);
  return n;
}

function intList(v: string | undefined, flag: string, fallback: number[], min: number, max: number): number[] {
  const items = list(v);
  if (!items) return fallback;
  if (items.length === 0) throw new BenchUsageError(`${flag} needs at least one value`);
  const out = items.map(s => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < min || n > max) throw new BenchUsageError(`${flag}: '${s}' is not an integer from ${min} to ${max}`);
    return n;
  });
  return [...new Set(out)];
}

export function parseModels(v: string | undefined): ModelId[] {
  const items = list(v);
  if (!items) return [...DEFAULT_MODELS];
  const out = items.flatMap((s): ModelId[] => {
    const k = s.toLowerCase();
    if (k === 'all') return [...MODEL_IDS];
    if (k === 'zoo') return ZOO_NAMES.map(n => `${n}_op13` as const);
    if (k === 'small-zoo') return ZOO_NAMES.map(n => `mini_${n}_op13` as const);
    const zoo = ZOO_IDS.find(z => z === k || z === `${k}_op13`);
    if (zoo) return [zoo];
    const id = MODEL_ALIASES[k];
    if (!id) throw new BenchUsageError(`--models: unknown model '${s}' (known: ${MODEL_IDS.join(', ')}, all, zoo, small-zoo, ${ZOO_IDS.join(', ')})`);
    return [id];
  });
  if (out.length === 0) throw new BenchUsageError('--models needs at least one model');
  return [...new Set(out)];
}

export function parseEngines(v: string | undefined, threads: number[]): EngineVariant[] {
  const items = list(v) ?? [...ENGINE_KINDS];
  if (items.length === 0) throw new BenchUsageError('--engines needs at least one engine');
  const out: EngineVariant[] = [];
  for (const item of items) {
    const [name, t] = item.split(':');
    const kind = ENGINE_KINDS.find(k => k === name!.toLowerCase());
    if (!kind) throw new BenchUsageError(`--engines: unknown engine '${name}' (known: ${ENGINE_KINDS.join(', ')})`);
    const counts = t === undefined ? threads : intList(t, `--engines ${item}`, [], 1, 8);
    for (const n of counts) if (!out.some(e => e.kind === kind && e.threads === n)) out.push({ kind, threads: n });
  }
  return out;
}

export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv], strict: true, allowPositionals: false,
      options: {
        models: { type: 'string' }, engines: { type: 'string' }, threads: { type: 'string' }, batch: { type: 'string' },
        runs: { type: 'string' }, rounds: { type: 'string' }, warmup: { type: 'string' }, accuracy: { type: 'string' }, json: { type: 'string' },
        profile: { type: 'boolean', default: false }, soak: { type: 'string' }, timeout: { type: 'string' }, cache: { type: 'string' },
        quick: { type: 'boolean', default: false }, verbose: { type: 'boolean', default: false },
        cold: { type: 'boolean', default: false }, dist: { type: 'string' },
      },
    }));
  } catch (e) {
    throw new BenchUsageError((e as Error).message);
  }
  if (values.dist !== undefined && !values.cold) throw new BenchUsageError('--dist goes with --cold');
  const quick = values.quick!;
  const threads = intList(values.threads, '--threads', [1, 2], 1, 8);
  return {
    models: parseModels(values.models),
    engines: parseEngines(values.engines, threads),
    batches: intList(values.batch, '--batch', [1, 8], 1, 256),
    runs: intFlag(values.runs, '--runs', quick ? 3 : 10, 1),
    rounds: intFlag(values.rounds, '--rounds', values.cold ? 3 : 1, 1),
    warmup: intFlag(values.warmup, '--warmup', quick ? 1 : 3, 0),
    accuracy: intFlag(values.accuracy, '--accuracy', quick ? 16 : 200, 0),
    json: values.json,
    profile: values.profile!,
    soak: intFlag(values.soak, '--soak', 0, 0),
    timeout: intFlag(values.timeout, '--timeout', DEFAULT_TIMEOUT_S, 0),
    cache: values.cache,
    quick,
    verbose: values.verbose!,
    cold: values.cold!,
    dist: values.dist,
  };
}

export function variantName(e: EngineVariant): string {
  return `${e.kind}:${e.threads}`;
}
