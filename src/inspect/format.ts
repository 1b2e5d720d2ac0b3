// Plain-text rendering of the summary and the trace for the terminal: fixed-width tables, SI-scaled numbers.

import type { ModelSummary, NodeSummary, ValueSummary } from './summary.js';
import type { TraceReport } from './trace.js';

/** 3858000000 → '3.86 G'; small integers stay as they are. */
export function si(n: number, digits = 2): string {
  const a = Math.abs(n);
  for (const [f, u] of [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'K']] as const) if (a >= f) return `${(n / f).toFixed(digits)} ${u}`;
  return Number.isInteger(n) ? String(n) : n.toFixed(digits);
}

export function bytes(n: number): string {
  for (const [f, u] of [[2 ** 30, 'GiB'], [2 ** 20, 'MiB'], [2 ** 10, 'KiB']] as const) if (n >= f) return `${(n / f).toFixed(1)} ${u}`;
  return `${n} B`;
}

export const dims = (s: readonly (number | string | null)[]) => `[${s.map(d => d ?? '?').join(', ')}]`;
const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
const decl = (v: ValueSummary) => `${v.name} ${v.dtype} ${dims(v.shape)}`;
const opName = (n: { opType: string; domain: string }) => (n.domain ? `${n.domain}:${n.opType}` : n.opType);
const cut = (s: string, w: number) => (s.length <= w ? s.padEnd(w) : `…${s.slice(s.length - w + 1)}`);

function num(v: number | undefined, w: number): string {
  if (v === undefined || Number.isNaN(v)) return '–'.padStart(w);
  const a = Math.abs(v);
  const s = a !== 0 && (a >= 1e5 || a < 1e-3) ? v.toExponential(2) : v.toFixed(a >= 100 ? 1 : 3);
  return s.padStart(w);
}

function nodeTable(nodes: readonly NodeSummary[], params: boolean): string[] {
  const nameW = Math.min(48, Math.max(4, ...nodes.map(n => n.name.length)));
  const opW = Math.max(2, ...nodes.map(n => opName(n).length));
  const lines = [`  ${'#'.padStart(4)}  ${'op'.padEnd(opW)}  ${'name'.padEnd(nameW)}  ${'output'.padEnd(20)}${params ? '  ' + 'params'.padStart(10) : ''}  ${'MACs'.padStart(10)}`];
  for (const n of nodes) {
    const shape = n.outputs.map(o => dims(o.shape)).join(' ');
    lines.push(`  ${String(n.index).padStart(4)}  ${opName(n).padEnd(opW)}  ${cut(n.name, nameW)}  ${shape.padEnd(20)}${params ? '  ' + (n.params ? si(n.params) : '–').padStart(10) : ''}  ${(n.macs ? si(n.macs) : '–').padStart(10)}`);
  }
  return lines;
}

export function formatSummary(s: ModelSummary): string {
  const o = s.original;
  const out: string[] = [
    `${s.id}${s.architecture ? ` — ${s.architecture}` : ''}  (${s.file})`,
    `  IR ${s.irVersion}, opsets ${Object.entries(s.opsets).map(([d, v]) => `${d || 'ai.onnx'} ${v}`).join(', ')}, producer ${s.producer.name || '–'} ${s.producer.version}`.trimEnd(),
    ...s.inputs.map(v => `  input   ${decl(v)}`),
    ...s.outputs.map(v => `  output  ${decl(v)}`),
    `  planned at ${s.planInputs.map(v => `${v.name} ${dims(v.shape)}`).join(', ')}`,
    `  parameters ${si(s.params.count)} in ${s.params.tensors} tensors (${bytes(s.params.bytes)})`,
    `  MACs ${si(o.macs)} (batch 1; Conv and MatMul/Gemm products only)`,
    '',
    `Ops in the file (${o.nodes.length} nodes): ${Object.entries(o.ops).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    '',
    `Nodes in execution order (${o.executed} run${o.folded ? `; ${o.folded} computed while planning are not listed, --json has them` : ''}):`,
    ...nodeTable(o.nodes.filter(n => !n.folded), true),
    `  total: ${si(o.params)} parameters, ${si(o.macs)} MACs`,
  ];
  const p = s.optimized;
  if (p) {
    out.push('', `Graph passes: ${p.nodesBefore} nodes in the file → ${p.afterLoadPasses} after the load passes → ${p.steps} plan steps` +
      (p.planFolded ? ` (${p.planFolded} folded into constants while planning)` : ''));
    for (const r of p.passes) {
      if (r.changes) out.push(`  ${r.pass.padEnd(24)} ${String(r.changes).padStart(5)}×  ${r.stage === 'load' ? 'at load' : 'on the plan'}, ${plural(Math.abs(r.removed), 'node')} ${r.removed >= 0 ? 'removed' : 'added'}`);
    }
    const idle = p.passes.filter(r => !r.changes).map(r => r.pass);
    if (idle.length) out.push(`  (no change: ${idle.join(', ')})`);
    out.push('', `Optimised plan (${p.steps} steps): ${Object.entries(p.ops).map(([k, v]) => `${k} ${v}`).join(', ')}`,
      ...nodeTable(p.nodes, false), `  total: ${si(p.macs)} MACs`);
  }
  return out.join('\n');
}

export function formatTrace(t: TraceReport): string {
  const nameW = Math.min(44, Math.max(4, ...t.nodes.map(n => n.name.length)));
  const opW = Math.max(2, ...t.nodes.map(n => opName(n).length));
  const out = [
    `Trace of ${t.image.source} (${t.image.originalWidth}×${t.image.originalHeight} → ${dims(t.input.shape)}), passes ${t.optimize ? 'on' : 'off'}: ` +
      `${t.nodes.length} nodes, ${t.totalMs.toFixed(1)} ms of kernel time, ${si(t.macs)} MACs`,
    `  ${'#'.padStart(4)}  ${'op'.padEnd(opW)}  ${'name'.padEnd(nameW)}  ${'output'.padEnd(18)}  ${'ms'.padStart(7)}  ${'min'.padStart(9)}  ${'max'.padStart(9)}  ${'mean'.padStart(9)}  ${'std'.padStart(9)}  ${'zeros'.padStart(6)}  entropy`,
  ];
  for (const n of t.nodes) {
    const s = n.stats;
    out.push(`  ${String(n.index).padStart(4)}  ${opName(n).padEnd(opW)}  ${cut(n.name, nameW)}  ${dims(n.outputs[0]?.shape ?? []).padEnd(18)}  ${n.ms.toFixed(2).padStart(7)}  ` +
      `${num(s?.min, 9)}  ${num(s?.max, 9)}  ${num(s?.mean, 9)}  ${num(s?.std, 9)}  ${(s ? `${(100 * s.zeros).toFixed(1)}%` : '–').padStart(6)}  ` +
      `${n.entropy ? `${n.entropy.mean.toFixed(3)} / ${n.entropy.max.toFixed(3)}` : ''}`.trimEnd());
  }
  if (t.predictions) {
    out.push('', 'Top-5:', ...t.predictions.map(p => `  ${(100 * p.score).toFixed(2).padStart(6)}%  ${p.label}`));
  }
  return out.join('\n');
}
