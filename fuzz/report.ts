// What counts as a finding, and the run's tallies: outcomes per kind and error class, the worst decode time per
// megapixel, the peak RSS of the workers, and the findings list.

import type { FuzzCase } from './cases.js';
import type { Outcome } from './child.js';
import type { Verdict } from './pool.js';

/** A decode may take fixed + perMp × megapixels + perMb × MiB of input of CPU time (inflating and CRCs are per byte). */
export interface Budget { perMp: number; fixed: number; perMb: number }

export interface Finding {
  type: 'hang' | 'crash' | 'memory' | 'non-error' | 'empty-message' | 'cpu-budget' | 'internal-error' | 'harness';
  kind: FuzzCase['kind'];
  index: number;
  desc: string;
  detail: string;
}

/** The error classes the public API documents; anything else (TypeError, RangeError, …) is an internal error. */
export const EXPECTED_ERRORS = new Set(['ImageInputError', 'ModelLoadError', 'ModelError', 'UnsupportedOpsError', 'InputError']);

export function budgetMs(b: Budget, mp: number | undefined, inputBytes: number): number {
  return b.fixed + b.perMp * Math.min(mp ?? 0, 40) + (b.perMb * inputBytes) / (1 << 20);
}

export function findingOf(c: FuzzCase, v: Verdict, b: Budget, strict: boolean): Finding | null {
  const base = { kind: c.kind, index: c.index, desc: c.desc };
  if (v.type === 'hang') return { ...base, type: 'hang', detail: `over the ${v.by === 'cpu' ? 'CPU' : 'wall'} limit: ${v.cpuMs.toFixed(0)} ms CPU, ${v.wallMs} ms wall` };
  if (v.type === 'memory') return { ...base, type: 'memory', detail: `worker RSS ${v.rssMb.toFixed(0)} MiB` };
  if (v.type === 'crash') return { ...base, type: 'crash', detail: `worker died (code ${v.code}, signal ${v.signal}): ${v.stderr.trim().split('\n').slice(-3).join(' | ')}` };
  const o = v.outcome;
  if (o.status === 'non-error') return { ...base, type: 'non-error', detail: `${o.phase}: threw ${o.errorClass}: ${o.message}` };
  if (o.status === 'empty-message') return { ...base, type: 'empty-message', detail: `${o.phase}: ${o.errorClass} with an empty message` };
  const budget = budgetMs(b, o.mp, c.bytes.length);
  if (o.decodeMs !== undefined && o.decodeMs > budget) {
    return { ...base, type: 'cpu-budget', detail: `decode took ${o.decodeMs.toFixed(0)} ms CPU${o.firstDecodeMs !== undefined ? ' (least of 3)' : ''} for ${(o.mp ?? 0).toFixed(3)} MP from ${c.bytes.length} bytes (budget ${budget.toFixed(0)} ms)` };
  }
  if (strict && o.status === 'refused' && !EXPECTED_ERRORS.has(o.errorClass ?? '')) {
    return { ...base, type: 'internal-error', detail: `${o.phase}: ${o.errorClass}: ${o.message}` };
  }
  return null;
}

type Counts = Record<string, number>;
const bump = (m: Counts, k: string) => { m[k] = (m[k] ?? 0) + 1; };

export class Stats {
  readonly findings: Finding[] = [];
  private outcomes: Record<string, Counts> = { image: {}, onnx: {}, selftest: {} };
  private errors: Record<string, Counts> = { image: {}, onnx: {}, selftest: {} };
  private internal: { kind: string; index: number; text: string }[] = [];
  /** A few messages per error class, for reading what the refusals say. */
  private samples: Record<string, string[]> = {};
  private worstPerMp = { msPerMp: 0, index: -1, mp: 0, ms: 0 };
  private worstDecode = { ms: 0, index: -1, mp: 0 };
  private worstUse = { share: 0, index: -1 };
  private worstPreprocessPerMp = { msPerMp: 0, index: -1 };
  private worstCreate = { ms: 0, index: -1 };
  private peakRssMb = 0;
  private tensorLeaks = 0;

  constructor(private readonly budget: Budget) {}

  /** Tallies a verdict; returns its finding, if any. */
  add(c: FuzzCase, v: Verdict, strict: boolean): Finding | null {
    const f = findingOf(c, v, this.budget, strict);
    if (f) this.findings.push(f);
    const k = c.kind;
    if (v.type !== 'outcome') { bump(this.outcomes[k]!, v.type); return f; }
    const o = v.outcome;
    if (o.peakRssMb !== undefined) this.peakRssMb = Math.max(this.peakRssMb, o.peakRssMb);
    if (o.tensorLeak) this.tensorLeaks++;
    const what = o.status !== 'ok' ? `${o.status} in ${o.phase}` : k === 'image' ? 'decoded' : k === 'onnx' ? (o.ran ? 'loaded and ran' : 'loaded (not run: input too big or not numeric)') : 'ok';
    bump(this.outcomes[k]!, what);
    if (o.status !== 'ok' || o.errorClass) {
      const key = `${k} ${o.phase}: ${o.errorClass}`;
      bump(this.errors[k]!, `${o.phase}: ${o.errorClass}`);
      const list = (this.samples[key] ??= []);
      if (list.length < 8) list.push(`#${c.index} ${c.desc.slice(0, 120)} → ${o.message}`);
      if (!EXPECTED_ERRORS.has(o.errorClass ?? '') && this.internal.length < 200) this.internal.push({ kind: k, index: c.index, text: `${o.phase}: ${o.errorClass}: ${o.message}` });
    }
    if (o.createMs !== undefined && o.createMs > this.worstCreate.ms) this.worstCreate = { ms: o.createMs, index: c.index };
    if (o.decodeMs !== undefined && c.kind === 'image') {
      const mp = o.mp ?? 0;
      if (mp >= 0.1 && o.decodeMs / mp > this.worstPerMp.msPerMp) this.worstPerMp = { msPerMp: o.decodeMs / mp, index: c.index, mp, ms: o.decodeMs };
      if (o.decodeMs > this.worstDecode.ms) this.worstDecode = { ms: o.decodeMs, index: c.index, mp };
      const share = o.decodeMs / budgetMs(this.budget, o.mp, c.bytes.length);
      if (share > this.worstUse.share) this.worstUse = { share, index: c.index };
      if (o.preprocessMs !== undefined && mp >= 0.1 && o.preprocessMs / mp > this.worstPreprocessPerMp.msPerMp) {
        this.worstPreprocessPerMp = { msPerMp: o.preprocessMs / mp, index: c.index };
      }
    }
    return f;
  }

  summary(meta: { seconds: number; workersStarted: number } & Record<string, unknown>) {
    return {
      ...meta, budget: this.budget, outcomes: this.outcomes, errors: this.errors,
      worstDecodeMsPerMp: this.worstPerMp, worstDecode: this.worstDecode, worstBudgetShare: this.worstUse,
      worstPreprocessMsPerMp: this.worstPreprocessPerMp, worstCreate: this.worstCreate, peakWorkerRssMb: this.peakRssMb,
      casesLeavingTensors: this.tensorLeaks, errorSamples: this.samples, internalErrors: this.internal, findings: this.findings,
    };
  }

  format(s: ReturnType<Stats['summary']>): string {
    const lines: string[] = [];
    const counts = (m: Counts) => Object.entries(m).sort((x, y) => y[1] - x[1]).map(([k, n]) => `${n} ${k}`).join(', ') || 'none';
    for (const k of ['image', 'onnx', 'selftest'] as const) {
      const n = Object.values(this.outcomes[k]!).reduce((a, b) => a + b, 0);
      if (!n) continue;
      lines.push(`${k}: ${n} cases: ${counts(this.outcomes[k]!)}`);
      if (Object.keys(this.errors[k]!).length) lines.push(`  errors by class: ${counts(this.errors[k]!)}`);
    }
    const w = this.worstPerMp;
    lines.push(`worst decode CPU per megapixel (images ≥ 0.1 MP): ${w.msPerMp.toFixed(0)} ms/MP (image #${w.index}: ${w.ms.toFixed(0)} ms for ${w.mp.toFixed(2)} MP); `
      + `slowest decode ${this.worstDecode.ms.toFixed(0)} ms (image #${this.worstDecode.index}, ${this.worstDecode.mp.toFixed(2)} MP); `
      + `most of the budget used: ${(this.worstUse.share * 100).toFixed(0)}% (image #${this.worstUse.index})`);
    lines.push(`worst preprocessing CPU per megapixel: ${this.worstPreprocessPerMp.msPerMp.toFixed(0)} ms/MP; slowest ONNX create ${this.worstCreate.ms.toFixed(0)} ms CPU (onnx #${this.worstCreate.index}); peak worker RSS ${this.peakRssMb.toFixed(0)} MiB; `
      + `${s.workersStarted} workers started; ${Number(s.seconds).toFixed(0)} s`);
    if (this.tensorLeaks) lines.push(`note: ${this.tensorLeaks} cases left tfjs tensors behind`);
    if (this.internal.length) lines.push(`internal errors (not findings unless --strict): ${this.internal.length}${this.internal.length >= 200 ? '+' : ''}, e.g. ${this.internal.slice(0, 5).map(e => `${e.kind} #${e.index} ${e.text}`).join(' | ')}`);
    lines.push(this.findings.length ? `FINDINGS: ${this.findings.length}` : 'findings: none');
    for (const f of this.findings) lines.push(`  ${f.type} ${f.kind} #${f.index} (${f.desc}): ${f.detail}`);
    return lines.join('\n');
  }
}
