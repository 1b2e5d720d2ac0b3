// From the children's raw results to the report: timing rows, accuracy, soak, the goals checked, and the text
// the terminal shows. Pure functions of their inputs (the suite does the I/O).

import type { ChildResult } from './child.js';
import { formatCold } from './cold-report.js';
import { formatQuantized } from './quantized.js';
import type { AccuracyResult, BenchReport, EngineRun, SoakResult, TargetCheck, TimingResult } from './schema.js';
import { accuracy, agreement, gflops, imagesPerSecond, slope, summarize } from './stats.js';
import { formatTable } from './table.js';

export { formatTable, type Align } from './table.js';

export interface VariantRef {
  model: string;
  engine: string;
  kind: string;
  threads: number;
}

/** One row per batch size over all its samples; with more than one round, each round's median too. */
export function timingRows(v: VariantRef, timings: { batch: number; rounds: number[][] }[], macsPerImage: number, warmup: number): TimingResult[] {
  return timings.map(({ batch, rounds }) => {
    const samples = rounds.flat();
    const ms = summarize(samples);
    return {
      ...v, batch, runs: samples.length, warmup, ms, imagesPerSec: imagesPerSecond(batch, ms.median), gflops: gflops(macsPerImage, batch, ms.median),
      ...(rounds.length > 1 ? { roundMedians: rounds.map(r => summarize(r).median) } : {}),
    };
  });
}

/** ours / theirs per round, when both ran the same rounds. */
function perRound(ours: TimingResult, theirs: TimingResult, ratio: (o: number, t: number) => number): { perRound?: number[] } {
  const [o, t] = [ours.roundMedians, theirs.roundMedians];
  return o && t && o.length === t.length ? { perRound: o.map((x, i) => ratio(x, t[i]!)) } : {};
}

/** A V8 heap space over the soak, first → last sample (min–max when it moved in between). */
function heapSpan(s: SoakResult, col: 1 | 2 | 3): string {
  if (!s.heapMiB?.length) return '';
  const v = s.heapMiB.map(h => h[col]);
  const lo = Math.min(...v), hi = Math.max(...v), ends = `${v[0]!.toFixed(1)} → ${v.at(-1)!.toFixed(1)}`;
  return lo < Math.min(v[0]!, v.at(-1)!) || hi > Math.max(v[0]!, v.at(-1)!) ? `${ends} (${lo.toFixed(1)}–${hi.toFixed(1)})` : ends;
}

/**
 * The soak's numbers. Slopes leave out the first 10 % of the runs (allocators and heaps settling). The net slope is of
 * RSS less V8's young generation: each sample follows a full GC, which leaves the young generation empty, and how much
 * memory V8 keeps committed to it is V8's own sizing — it doubles once enough objects have survived scavenges since it
 * last grew and halves when allocation slows (1, 2, 4, 8 … MiB, up to a cap), which moves RSS in steps whatever the
 * program retains. What is left is what the process holds: the old generation, code, the WASM heap, native memory.
 */
export function soakRow(v: VariantRef, soak: NonNullable<ChildResult['soak']>): SoakResult {
  const ys = soak.rssMiB.map(([, m]) => m);
  const slopeOf = (pts: [number, number][]) => {
    const late = pts.filter(([i]) => i >= soak.runs / 10);
    const fit = late.length >= 2 ? late : pts;
    return slope(fit.map(([i]) => i), fit.map(([, m]) => m)) * 1000;
  };
  const heap = soak.heapMiB;
  const net = heap && heap.length === soak.rssMiB.length ? soak.rssMiB.map(([i, m], k) => [i, m - heap[k]![1]] as [number, number]) : undefined;
  return {
    model: v.model, engine: v.engine, runs: soak.runs, rssMiB: soak.rssMiB,
    startMiB: ys[0]!, endMiB: ys.at(-1)!, maxMiB: Math.max(...ys), ...(heap ? { heapMiB: heap } : {}),
    slopeMiBPer1000: slopeOf(soak.rssMiB),
    ...(net ? { netSlopeMiBPer1000: slopeOf(net) } : {}),
    medianMs: soak.samplesMs.length ? summarize(soak.samplesMs).median : 0,
    ...(soak.tensors ? { tensors: soak.tensors } : {}),
  };
}

/**
 * Accuracy of every engine against the true classes, and of every engine against the reference engine's outputs
 * (same input tensors). `outputs` maps engine name → flat [images, classes] outputs.
 */
export function accuracyRow(model: string, outputs: ReadonlyMap<string, { classes: number; data: Float32Array }>, truth: readonly number[],
  reference: string, note?: string): AccuracyResult | undefined {
  const ref = outputs.get(reference);
  if (!ref || truth.length === 0) return undefined;
  const engines = [...outputs].map(([engine, o]) => {
    const acc = accuracy(o.data, o.classes, truth);
    if (engine === reference) return { engine, ...acc };
    const a = agreement(o.data, ref.data, ref.classes);
    return { engine, ...acc, vsReference: { maxAbsDiff: a.maxAbsDiff, meanAbsDiff: a.meanAbsDiff, top1Agreement: a.top1, top5Agreement: a.top5 } };
  });
  return { model, images: truth.length, reference, engines, ...(note ? { note } : {}) };
}

/** The thread count to compare ocellus and onnxruntime-web at: 2 when both ran with 2, else the largest both ran. */
export function compareThreads(engines: readonly EngineRun[], model: string): number | undefined {
  const of = (kind: string) => new Set(engines.filter(e => e.model === model && e.kind === kind && !e.error).map(e => e.threads));
  const a = of('ocellus');
  const b = of('ort-web');
  const common = [...a].filter(t => b.has(t)).sort((x, y) => x - y);
  return common.includes(2) ? 2 : common.at(-1);
}

/** The brief's goals, where the run has what they need. They are about the fp32 models: the int8 twins have goals of
 *  their own (quantizedTargets). */
export function targetChecks(r: Pick<BenchReport, 'models' | 'engines' | 'results' | 'soak'>): TargetCheck[] {
  const out: TargetCheck[] = [];
  for (const m of r.models) {
    if (m.quantizedFrom) continue;
    const t = compareThreads(r.engines, m.id);
    if (t === undefined) continue;
    const row = (kind: string, batch: number) => r.results.find(x => x.model === m.id && x.kind === kind && x.threads === t && x.batch === batch);
    const b1 = [row('ocellus', 1), row('ort-web', 1)];
    if (b1[0] && b1[1]) {
      const ratio = b1[0].ms.median / b1[1].ms.median;
      out.push({
        model: m.id, goal: `batch 1 median latency ≤ 0.8 × onnxruntime-web (${t} threads)`, unit: 'ms', ours: b1[0].ms.median, theirs: b1[1].ms.median, ratio,
        ...perRound(b1[0], b1[1], (o, x) => o / x), met: ratio <= 0.8,
      });
    }
    const big = Math.max(...r.results.filter(x => x.model === m.id && x.batch > 1).map(x => x.batch), 0);
    const bn = [row('ocellus', big), row('ort-web', big)];
    if (bn[0] && bn[1]) {
      const ratio = bn[0].imagesPerSec / bn[1].imagesPerSec;
      out.push({
        model: m.id, goal: `batch ${big} throughput ≥ 1.25 × onnxruntime-web (${t} threads)`, unit: 'images/s', ours: bn[0].imagesPerSec, theirs: bn[1].imagesPerSec, ratio,
        ...perRound(bn[0], bn[1], (o, x) => x / o), met: ratio >= 1.25,
      });
    }
    const eng = (kind: string) => r.engines.find(e => e.model === m.id && e.kind === kind && e.threads === t);
    const rss = [eng('ocellus')?.peakRssMiB, eng('ort-web')?.peakRssMiB];
    // (The zoo's goals are about latency, throughput and accuracy: no memory goal for its models.)
    if (rss[0] !== undefined && rss[1] !== undefined && !m.family) {
      const ratio = rss[0] / rss[1];
      out.push({ model: m.id, goal: `peak RSS ≤ onnxruntime-web's (${t} threads)`, unit: 'MiB', ours: rss[0], theirs: rss[1], ratio, met: ratio <= 1 });
    }
    const soak = r.soak.find(s => s.model === m.id && s.engine === `ocellus:${t}`);
    if (soak) {
      const theirs = r.soak.find(s => s.model === m.id && s.engine === `ort-web:${t}`);
      const tensorsStable = !soak.tensors || soak.tensors.after === soak.tensors.before;
      // Judged on RSS less V8's (empty) young generation where the child sampled it (soakRow), else on RSS.
      const growth = (s: SoakResult) => s.netSlopeMiBPer1000 ?? s.slopeMiBPer1000;
      const what = soak.netSlopeMiBPer1000 === undefined ? 'RSS' : "RSS less V8's young generation";
      out.push({
        model: m.id, goal: `no memory growth over ${soak.runs} runs (slope of ${what} < 1 MiB per 1000 runs, live tensors unchanged)`, unit: 'MiB/1000 runs',
        ours: growth(soak), ...(theirs ? { theirs: growth(theirs) } : {}), met: growth(soak) < 1 && tensorsStable,
      });
    }
  }
  return out;
}

const f = (x: number | undefined, digits = 1) => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits));
/** A goal's figure in its unit: relative errors in exponent form. */
const fu = (x: number | undefined, unit: string) => (unit === 'rel' ? (x === undefined ? '–' : Number.isFinite(x) ? x.toExponential(2) : 'NaN') : `${f(x, unit === '×' ? 2 : 1)} ${unit}`);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** Everything the terminal shows at the end of a run. */
export function formatReport(r: BenchReport): string {
  const name = (id: string) => r.models.find(m => m.id === id)?.name ?? id;
  const parts: string[] = [];
  parts.push(`ocellus bench — ${r.machine.cpu}, ${r.machine.cores} cores, Node ${r.machine.node}; load average ${r.machine.loadavgStart.map(x => x.toFixed(1)).join(' ')} at start`);
  const rssOf = (model: string, engine: string) => r.engines.find(e => e.model === model && e.engine === engine)?.peakRssMiB;
  const failed = r.engines.filter(e => e.error);
  // Failed variants get a row of their own, after the model's timings (the message follows the table).
  const rows = r.models.flatMap(m => [
    ...r.results.filter(x => x.model === m.id).map(x => [name(x.model), String(x.batch), x.kind, String(x.threads), f(x.ms.min), f(x.ms.median), f(x.ms.max), f(x.imagesPerSec, 2), f(x.gflops), f(rssOf(x.model, x.engine), 0)]),
    ...failed.filter(e => e.model === m.id).map(e => [name(e.model), '–', e.kind, String(e.threads), 'FAILED', '', '', '', '', '']),
  ]);
  if (rows.length || !r.cold) parts.push(formatTable(
    ['model', 'batch', 'engine', 'threads', 'min ms', 'median ms', 'max ms', 'images/s', 'GFLOP/s', 'peak RSS MiB'],
    rows,
    ['l', 'r', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  ));
  for (const e of failed) parts.push(`FAILED ${name(e.model)} ${e.engine}: ${e.error}`);
  const threadFacts = r.engines.filter(e => !e.error && e.osThreads).map(e => `${name(e.model)} ${e.engine}: OS threads ${e.osThreads!.before} → ${e.osThreads!.after}${e.kind === 'ocellus' ? ` (${String(e.info.build)}, ${String(e.info.threads)} thread(s), kernels ${String(e.info.kernels)}${e.info.kernelsReason ? `: ${String(e.info.kernelsReason)}` : ''}, XNNPACK ${String(e.info.xnnpackThreads)})` : ''}`);
  if (threadFacts.length) parts.push(`Threads started:\n  ${threadFacts.join('\n  ')}`);
  const goals = r.targets.filter(t => !t.group);
  if (goals.length) {
    // With rounds, each round's ratio (of the round medians) shows how much the machine moved during the run.
    const rounds = goals.some(t => t.perRound);
    parts.push('Goals (ocellus vs onnxruntime-web, same run):\n' + formatTable(
      ['model', 'goal', 'ocellus', 'ort-web', 'ratio', ...(rounds ? ['per round'] : []), ''],
      goals.map(t => [name(t.model), t.goal, fu(t.ours, t.unit), t.theirs === undefined ? '–' : fu(t.theirs, t.unit), f(t.ratio, 2),
        ...(rounds ? [t.perRound?.map(x => f(x, 2)).join(' ') ?? ''] : []), t.met ? 'met' : 'NOT met']),
      ['l', 'l', 'r', 'r', 'r', ...(rounds ? ['l' as const] : []), 'l'],
    ));
  }
  for (const a of r.accuracy) {
    parts.push(`Accuracy — ${name(a.model)}, ${a.images} photos (same input tensors for every engine; reference ${a.reference}${a.batch ? `; ${a.batch} per run` : ''})${a.note ? `\n  ${a.note}` : ''}\n` + formatTable(
      ['engine', 'top-1', 'top-5', 'max |diff| vs ref', 'mean |diff|', 'top-1 agree', 'top-5 agree'],
      a.engines.map(e => [e.engine, pct(e.top1), pct(e.top5), e.vsReference ? e.vsReference.maxAbsDiff.toExponential(2) : 'ref',
        e.vsReference ? e.vsReference.meanAbsDiff.toExponential(2) : '', e.vsReference ? pct(e.vsReference.top1Agreement) : '', e.vsReference ? pct(e.vsReference.top5Agreement) : '']),
      ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
    ));
  }
  for (const p of r.profiles) {
    parts.push(`Profile — ${name(p.model)} ${p.engine} batch ${p.batch} (${p.runs} runs; ${f(p.stepMs)} ms in kernels per run)\n` +
      formatTable(['op type', 'ms/run', 'share', 'nodes'], p.byOpType.slice(0, 12).map(o => [o.opType, f(o.ms, 2), pct(o.share), String(o.nodes)]), ['l', 'r', 'r', 'r']) +
      '\n  slowest nodes:\n' +
      formatTable(['node', 'op type', 'ms/run', 'output'], p.slowest.map(n => [n.name || '(unnamed)', n.opType, f(n.ms, 2), `[${n.shape.join(', ')}]`]), ['l', 'l', 'r', 'l'])
        .split('\n').map(l => '  ' + l).join('\n'));
  }
  if (r.soak.length) {
    parts.push('Soak (batch 1):\n' + formatTable(
      ['model', 'engine', 'runs', 'RSS start MiB', 'end MiB', 'max MiB', 'slope MiB/1000 runs', 'less V8 young', 'V8 young MiB', 'V8 old MiB', 'V8 live MiB', 'median ms', 'live tensors'],
      r.soak.map(s => [name(s.model), s.engine, String(s.runs), f(s.startMiB), f(s.endMiB), f(s.maxMiB), f(s.slopeMiBPer1000, 2), f(s.netSlopeMiBPer1000, 2),
        heapSpan(s, 1), heapSpan(s, 2), heapSpan(s, 3), f(s.medianMs), s.tensors ? `${s.tensors.before} → ${s.tensors.after}` : '']),
      ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ));
  }
  if (r.zooChecks?.length) {
    parts.push("Dev set vs torch's logits (rel = max|ours − torch| / max|torch|, torch's inputs):\n" + formatTable(
      ['model', 'engine', 'batch 1', 'batch 2', 'top-1 = torch'],
      r.zooChecks.map(c => [name(c.model), c.engine, fu(c.relB1, 'rel'), fu(c.relB2, 'rel'), c.top1Equal ? 'yes' : 'NO']),
      ['l', 'l', 'r', 'r', 'l'],
    ));
  }
  const q8 = formatQuantized(r);
  if (q8) parts.push(q8);
  const cold = formatCold(r);
  if (cold) parts.push(cold);
  return parts.join('\n\n');
}
