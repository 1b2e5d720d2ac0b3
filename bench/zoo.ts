// The classification dev set of ../shared/zoo in the bench (issue #21): the full-size exports (written into the
// bench's zoo folder by export.py on first use) and their committed small twins. Each model comes with torch's
// inputs and logits at batch 1 and 2 (models.json names the files); the engines are timed on those inputs and their
// outputs checked against the logits: rel = max|ours − torch| / max|torch| (the zoo README's measure).

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ModelSpec } from './models.js';
import { zooParts, type ModelId, type ZooName } from './options.js';
import type { BenchReport, TargetCheck, ZooCheck } from './schema.js';

const run = promisify(execFile);
export const ZOO_SOURCE = path.resolve(import.meta.dirname, '..', '..', 'shared', 'zoo');
/** The Python with torch, torchvision and onnx (Debian's packages); the first python3 on PATH may lack them. */
export const ZOO_PYTHON = process.env.OCELLUS_ZOO_PYTHON ?? '/usr/bin/python3';
/** What the dev-set goals allow: logits within this of torch's, relative to max|torch| (the README's 1e-4). */
export const ZOO_REL_TOLERANCE = 1e-4;

/** Multiply-accumulates per 224×224 image: torchvision's published figures (its "GFLOPS" column counts MACs),
 *  efficientnet_b1's scaled from its native 240 to 224. Approximate; for the GFLOP/s column only. */
const ZOO_MACS: Record<ZooName, number> = {
  mobilenet_v2: 0.30e9, mobilenet_v3_small: 0.06e9, efficientnet_b1: 0.60e9, regnet_x_400mf: 0.41e9,
  shufflenet_v2_x0_5: 0.04e9, convnext_tiny: 4.46e9, swin_t: 4.49e9,
};

export function zooSpec(id: ModelId): ModelSpec {
  const z = zooParts(id);
  if (!z) throw new Error(`unknown bench model '${id}'`);
  // The small twins' MACs are not published: 0 (their GFLOP/s column reads 0).
  return { id, name: `${z.small ? 'mini ' : ''}${z.name} op${z.opset}`, macsPerImage: z.small ? 0 : ZOO_MACS[z.name], trained: false, family: z.small ? 'small-zoo' : 'zoo' };
}

/** One .onnx of a zoo folder and its reference files (absolute paths). */
export interface ZooModel {
  onnxPath: string;
  /** torch's inputs: [1, …] and [2, …] (sample 0 of the batch-2 input is the batch-1 input). */
  input: string;
  inputB2: string;
  logits: string;
  logitsB2: string;
  inputDims: number[];
  classes: number;
}

interface ManifestEntry { file: string; input: string; logits: string; input_b2: string; logits_b2: string; input_shape: number[]; output_shape: number[] }

/** The entry of `file` in `dir`/models.json, with its files present; undefined when either is missing. */
export function zooEntry(dir: string, file: string): ZooModel | undefined {
  const manifest = path.join(dir, 'models.json');
  if (!fs.existsSync(manifest)) return undefined;
  const e = (JSON.parse(fs.readFileSync(manifest, 'utf8')) as ManifestEntry[]).find(x => x.file === file);
  if (!e) return undefined;
  const m: ZooModel = {
    onnxPath: path.join(dir, e.file), input: path.join(dir, e.input), inputB2: path.join(dir, e.input_b2),
    logits: path.join(dir, e.logits), logitsB2: path.join(dir, e.logits_b2), inputDims: e.input_shape.slice(1), classes: e.output_shape.at(-1)!,
  };
  return [m.onnxPath, m.input, m.inputB2, m.logits, m.logitsB2].every(f => fs.existsSync(f)) ? m : undefined;
}

/** A zoo model, exported into `zooDir` first when it is a full-size one not there yet (the small ones are committed
 *  in ../shared/zoo/small). Fails with the command to run when the export cannot. */
export async function prepareZoo(id: ModelId, zooDir: string, log: (line: string) => void, source = ZOO_SOURCE, python = ZOO_PYTHON): Promise<ZooModel> {
  const z = zooParts(id)!;
  const file = `${id}.onnx`;
  if (z.small) {
    const dir = path.join(source, 'small');
    const m = zooEntry(dir, file);
    if (!m) throw new Error(`${path.join(dir, file)}: missing, or not in ${path.join(dir, 'models.json')} with its reference files`);
    return m;
  }
  const have = zooEntry(zooDir, file);
  if (have) return have;
  const script = path.join(source, 'export.py');
  try {
    await run(python, ['-c', 'import torch, torchvision, onnx']);
  } catch (e) {
    throw new Error(`${path.join(zooDir, file)} is missing and cannot be exported: ${python} has no torch/torchvision/onnx ` +
      `(${String((e as Error).message).split('\n').filter(Boolean).at(-1)}). Install Debian's python3-torch python3-torchvision python3-onnx ` +
      `(apt-get install -y …), or run ${script} --out ${zooDir} with a Python that has them`);
  }
  log(`${id}: ${path.relative(process.cwd(), path.join(zooDir, file))} is missing: exporting ${z.name} with ${python} ${script} ` +
    `(once; the whole dev set is ~560 MB and ~2 min: ${python} ${script} --out ${zooDir})`);
  fs.mkdirSync(zooDir, { recursive: true });
  const t0 = performance.now();
  try {
    await run(python, [script, '--out', zooDir, '--only', z.name], { maxBuffer: 64 * 2 ** 20 });
  } catch (e) {
    throw new Error(`exporting ${z.name} (${python} ${script} --out ${zooDir} --only ${z.name}) failed: ${String((e as { stderr?: string }).stderr || (e as Error).message).trim().split('\n').at(-1)}`);
  }
  log(`${id}: exported in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  const m = zooEntry(zooDir, file);
  if (!m) throw new Error(`${python} ${script} ran but ${path.join(zooDir, file)} or its reference files are still missing`);
  return m;
}

export function readF32(file: string): Float32Array {
  const b = fs.readFileSync(file);
  if (b.byteLength % 4) throw new Error(`${file}: ${b.byteLength} bytes is not a whole number of float32`);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** max|ours − ref| / max|ref| (NaN anywhere in ours gives NaN); throws on a length mismatch. */
export function relError(ours: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (ours.length !== ref.length) throw new Error(`output has ${ours.length} values, torch's logits ${ref.length}`);
  let diff = 0, scale = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(ours[i]! - ref[i]!);
    if (Number.isNaN(d)) return NaN;
    diff = Math.max(diff, d);
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  return diff / scale;
}

const argmaxRows = (x: ArrayLike<number>, classes: number): number[] => Array.from({ length: x.length / classes }, (_, r) => {
  let best = 0;
  for (let c = 1; c < classes; c++) if (x[r * classes + c]! > x[r * classes + best]!) best = c;
  return best;
});

/** One engine's outputs at batch 1 and 2 against torch's logits. */
export function zooCheck(model: string, engine: string, m: ZooModel, out: { batch: number; data: Float32Array }[]): ZooCheck {
  const ref = (b: number) => readF32(b === 1 ? m.logits : m.logitsB2);
  const rel: Record<string, number> = {};
  let top1Equal = true;
  for (const o of out) {
    const r = ref(o.batch);
    rel[`b${o.batch}`] = relError(o.data, r);
    top1Equal &&= argmaxRows(o.data, m.classes).join() === argmaxRows(r, m.classes).join();
  }
  return { model, engine, relB1: rel.b1 ?? NaN, relB2: rel.b2 ?? NaN, top1Equal };
}

const geomean = (xs: readonly number[]) => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);

/**
 * The dev-set goals (issue #21) of a run: logits within 1e-4 of torch's at batch 1 and 2 for every zoo model ocellus
 * ran (small twins too), and, over the full-size models, the geometric mean of ocellus's batch-1 latency ratios to
 * onnxruntime-web ≤ 0.6 (met only when every dev-set model in the run has a ratio). The per-model latency and
 * throughput goals are the general ones (report.ts targetChecks).
 */
export function zooTargets(r: Pick<BenchReport, 'models' | 'targets' | 'zooChecks' | 'engines'>, compareAt: (model: string) => number | undefined): TargetCheck[] {
  const out: TargetCheck[] = [];
  for (const m of r.models.filter(x => x.family)) {
    const t = compareAt(m.id);
    const check = (kind: string) => r.zooChecks?.find(c => c.model === m.id && c.engine.startsWith(`${kind}:`) && (t === undefined || c.engine === `${kind}:${t}`))
      ?? r.zooChecks?.find(c => c.model === m.id && c.engine.startsWith(`${kind}:`));
    const ours = check('ocellus');
    if (!ours) continue;
    const worst = Math.max(ours.relB1, ours.relB2);
    const theirs = check('ort-web');
    out.push({
      model: m.id, goal: `logits within ${ZOO_REL_TOLERANCE} of torch's, batch 1 and 2 (rel = max|diff| / max|torch|; other column: onnxruntime-web's)`, unit: 'rel',
      ours: worst, ...(theirs ? { theirs: Math.max(theirs.relB1, theirs.relB2) } : {}), met: worst <= ZOO_REL_TOLERANCE && ours.top1Equal,
    });
  }
  const dev = r.models.filter(x => x.family === 'zoo').map(x => x.id);
  if (dev.length > 1) {
    const goals = dev.map(id => r.targets.find(t => t.model === id && t.goal.startsWith('batch 1 median latency'))).filter((t): t is TargetCheck => t?.ratio !== undefined);
    const ratios = goals.map(t => t.ratio!);
    if (ratios.length) {
      const g = geomean(ratios);
      // Each round's geometric mean too, when every model ran the same rounds.
      const rounds = goals[0]!.perRound?.length;
      const perRound = rounds && goals.every(t => t.perRound?.length === rounds)
        ? { perRound: Array.from({ length: rounds }, (_, i) => geomean(goals.map(t => t.perRound![i]!))) } : {};
      out.push({
        model: 'dev set', goal: `geometric mean of the batch-1 latency ratios ≤ 0.6 × onnxruntime-web (${ratios.length} of ${dev.length} models ran on both)`, unit: '×',
        ours: g, ratio: g, ...perRound, met: g <= 0.6 && ratios.length === dev.length,
      });
    }
  }
  return out;
}
