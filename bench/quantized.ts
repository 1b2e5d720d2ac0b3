// The "q8 vs fp32" part of the report: a model and its int8 twin side by side (file size, median latency and peak RSS
// per engine variant, top-1 agreement of the int8 outputs with the fp32 outputs of the same engine), the int8 goals,
// and the terminal text. Pure functions of the report and the engines' raw outputs (the suite does the I/O).

import { formatTable } from './table.js';
import type { BenchReport, QuantizedComparison, RssProbe, TargetCheck } from './schema.js';
import { agreement } from './stats.js';

/** Raw outputs per model id → engine variant ('ocellus:2') → flat [images, classes]. */
export type OutputsByModel = ReadonlyMap<string, ReadonlyMap<string, { classes: number; data: Float32Array }>>;

/** Share of photos whose int8 top-1 must equal the fp32 top-1 (issue #8). */
export const AGREEMENT_GOAL = 0.98;
/** Peak RSS of a single-threaded session over an empty Node process, MB (10^6 bytes), per int8 model (issue #8). */
export const RSS_GOALS_MB: Readonly<Record<string, number>> = { 'resnet50-q8': 128 };

const MB_IN_MIB = 1e6 / 2 ** 20;

type ReportPart = Pick<BenchReport, 'models' | 'engines' | 'results'>;

/** The side-by-side numbers of `fp32` and its twin `q8` over the engine variants that ran both. */
export function quantizedComparison(r: ReportPart, fp32: string, q8: string, outputs: OutputsByModel): QuantizedComparison {
  const size = (id: string) => r.models.find(m => m.id === id)?.fileMiB ?? NaN;
  const latency: QuantizedComparison['latency'] = [];
  for (const a of r.results.filter(x => x.model === fp32)) {
    const b = r.results.find(x => x.model === q8 && x.engine === a.engine && x.batch === a.batch);
    if (b) latency.push({ engine: a.engine, batch: a.batch, fp32Ms: a.ms.median, q8Ms: b.ms.median, ratio: b.ms.median / a.ms.median });
  }
  const peakRss: QuantizedComparison['peakRss'] = [];
  for (const a of r.engines.filter(e => e.model === fp32 && e.peakRssMiB !== undefined)) {
    const b = r.engines.find(e => e.model === q8 && e.engine === a.engine && e.peakRssMiB !== undefined);
    if (b) peakRss.push({ engine: a.engine, fp32MiB: a.peakRssMiB!, q8MiB: b.peakRssMiB!, ratio: b.peakRssMiB! / a.peakRssMiB! });
  }
  const agreementRows: QuantizedComparison['agreement'] = [];
  const outA = outputs.get(fp32), outB = outputs.get(q8);
  for (const [engine, a] of outA ?? []) {
    const b = outB?.get(engine);
    if (!b || b.classes !== a.classes) continue;
    const n = Math.min(a.data.length, b.data.length) / a.classes;   // the same first n photos on both sides
    const g = agreement(b.data.subarray(0, n * a.classes), a.data.subarray(0, n * a.classes), a.classes);
    agreementRows.push({ engine, images: g.images, top1Agreement: g.top1, top5Agreement: g.top5, maxAbsDiff: g.maxAbsDiff, meanAbsDiff: g.meanAbsDiff });
  }
  const failed = r.engines.filter(e => (e.model === fp32 || e.model === q8) && e.error).map(e => ({ model: e.model, engine: e.engine, error: e.error! }));
  return { model: fp32, quantized: q8, fileMiB: { fp32: size(fp32), q8: size(q8) }, latency, peakRss, agreement: agreementRows, failed };
}

/** The ocellus agreement row a goal is judged on: the variant with the most threads. */
function ocellusAgreement(c: QuantizedComparison): QuantizedComparison['agreement'][number] | undefined {
  const threads = (engine: string) => Number(engine.split(':')[1] ?? 0);
  return c.agreement.filter(a => a.engine.startsWith('ocellus:')).sort((x, y) => threads(y.engine) - threads(x.engine))[0];
}

/** The int8 goals the run has what they need for: top-1 agreement (ocellus, per pair) and single-session RSS. */
export function quantizedTargets(r: Pick<BenchReport, 'quantized' | 'rssProbes' | 'models'>): TargetCheck[] {
  const out: TargetCheck[] = [];
  for (const c of r.quantized ?? []) {
    const a = ocellusAgreement(c);
    if (!a || a.images === 0) continue;
    out.push({
      group: 'q8', model: c.quantized, goal: `top-1 agrees with fp32 on ≥ ${100 * AGREEMENT_GOAL}% of ${a.images} photos (${a.engine} int8 vs ${a.engine} fp32)`,
      unit: '%', ours: 100 * a.top1Agreement, met: a.top1Agreement >= AGREEMENT_GOAL,
    });
  }
  for (const p of r.rssProbes ?? []) {
    const goalMB = RSS_GOALS_MB[p.model];
    if (goalMB === undefined || p.overEmptyNodeMiB === undefined) continue;
    const twin = r.models.find(m => m.id === p.model)?.quantizedFrom;
    const fp32 = r.rssProbes!.find(x => x.model === twin && x.overEmptyNodeMiB !== undefined);
    out.push({
      group: 'q8', model: p.model,
      goal: `session peak RSS over an empty Node process < ${goalMB} MB (${(goalMB * MB_IN_MIB).toFixed(1)} MiB; plain node, ${p.threads} thread, batch ${p.batch})`,
      unit: 'MiB', ours: p.overEmptyNodeMiB, ...(fp32 ? { theirs: fp32.overEmptyNodeMiB! } : {}), met: p.overEmptyNodeMiB < goalMB * MB_IN_MIB,
    });
  }
  return out;
}

/** A message on one line: whitespace runs (newlines included) become one space; cut at `max` characters. */
export function oneLine(message: string, max = 300): string {
  const s = message.replace(/\s+/g, ' ').trim();
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

const f = (x: number | undefined, digits = 1) => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits));
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const exp = (x: number) => (Number.isFinite(x) ? x.toExponential(2) : String(x));
const indent = (text: string) => text.split('\n').map(l => '  ' + l).join('\n');

function formatProbes(probes: readonly RssProbe[], baseline: BenchReport['baseline'], name: (id: string) => string): string {
  const head = `Single-session RSS probe: plain \`node\` running a bundle of the engine (no tsx, no IPC), OCELLUS_THREADS=1: start the ` +
    `WASM backend, load the model, run batch 1 once; peak = VmHWM, over = peak − an empty \`node -e\` process's VmHWM (${f(baseline?.emptyNodeMiB)} MiB, same run)`;
  const ok = probes.filter(p => !p.error);
  const table = ok.length ? '\n' + indent(formatTable(
    ['model', 'backend ready MiB', 'peak MiB', 'over empty node MiB', 'load ms', 'run ms'],
    ok.map(p => [name(p.model), f(p.readyMiB), f(p.peakMiB), f(p.overEmptyNodeMiB), f(p.loadMs, 0), f(p.runMs, 0)]),
    ['l', 'r', 'r', 'r', 'r', 'r'],
  )) : '';
  return head + table + probes.filter(p => p.error).map(p => `\n  FAILED ${name(p.model)}: ${p.error}`).join('');
}

function formatComparison(c: QuantizedComparison, r: BenchReport, name: (id: string) => string): string {
  const parts = [`q8 vs fp32 — ${name(c.model)} (${c.model} vs ${c.quantized}): model file ${f(c.fileMiB.fp32)} MiB fp32, ${f(c.fileMiB.q8)} MiB int8 (${f(c.fileMiB.q8 / c.fileMiB.fp32, 2)}×)`];
  if (c.latency.length) {
    parts.push(indent('Median latency per run (same input tensors, same child setup):\n' + formatTable(
      ['engine', 'batch', 'fp32 ms', 'int8 ms', 'int8/fp32'],
      c.latency.map(x => [x.engine, String(x.batch), f(x.fp32Ms), f(x.q8Ms), f(x.ratio, 2)]),
      ['l', 'r', 'r', 'r', 'r'],
    )));
  }
  if (c.peakRss.length) {
    const child = r.baseline?.emptyChildMiB;
    parts.push(indent(`Peak RSS of each bench child after its timed runs (includes Node + tsx + IPC${child !== undefined ? ` = ${f(child)} MiB in an empty child` : ''}, ` +
      'the engine\'s threads and the largest batch):\n' + formatTable(
      ['engine', 'fp32 MiB', 'int8 MiB', 'int8/fp32'],
      c.peakRss.map(x => [x.engine, f(x.fp32MiB, 0), f(x.q8MiB, 0), f(x.ratio, 2)]),
      ['l', 'r', 'r', 'r'],
    )));
  }
  if (c.agreement.length) {
    const batch = (id: string) => r.accuracy.find(a => a.model === id)?.batch;
    const [b32, b8] = [batch(c.model), batch(c.quantized)];
    const batches = b32 !== undefined && b8 !== undefined ? ` (fp32 ${b32} photo${b32 > 1 ? 's' : ''} per run, int8 ${b8}${b8 === 1 ? ': dynamic quantization scales activations over the whole batch' : ''})` : '';
    parts.push(indent(`int8 outputs vs the fp32 outputs of the same engine on the same photos${batches}:\n` + formatTable(
      ['engine', 'photos', 'top-1 agree', 'top-5 agree', 'max |diff|', 'mean |diff|'],
      c.agreement.map(a => [a.engine, String(a.images), pct(a.top1Agreement), pct(a.top5Agreement), exp(a.maxAbsDiff), exp(a.meanAbsDiff)]),
      ['l', 'r', 'r', 'r', 'r', 'r'],
    )));
  }
  for (const x of c.failed) parts.push(`  FAILED ${name(x.model)} ${x.engine}: ${x.error}`);
  return parts.join('\n');
}

/** The terminal section: one block per pair, the RSS probes, the int8 goals ('' when the run has none of them). */
export function formatQuantized(r: BenchReport): string {
  const name = (id: string) => r.models.find(m => m.id === id)?.name ?? id;
  const parts = (r.quantized ?? []).map(c => formatComparison(c, r, name));
  if (r.rssProbes?.length) parts.push(formatProbes(r.rssProbes, r.baseline, name));
  const goals = r.targets.filter(t => t.group === 'q8');
  if (goals.length) {
    parts.push('Goals (int8, same run):\n' + formatTable(
      ['model', 'goal', 'int8', 'fp32', ''],
      goals.map(t => [name(t.model), t.goal, `${f(t.ours)} ${t.unit}`, t.theirs === undefined ? '–' : `${f(t.theirs)} ${t.unit}`, t.met ? 'met' : 'NOT met']),
      ['l', 'l', 'r', 'r', 'l'],
    ));
  }
  return parts.join('\n\n');
}
