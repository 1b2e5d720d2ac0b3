// The report's chart: one panel per model and batch size, one horizontal bar per engine variant (median latency,
// with a min–max whisker), each panel on its own scale. Plain SVG 1.1 text, no dependencies.

import type { BenchReport, TimingResult } from './schema.js';

const COLORS: Record<string, string> = { ocellus: '#d9480f', 'ort-web': '#1c7ed6', 'ort-node': '#5f3dc4' };
const PANEL_W = 460;
const LABEL_W = 110;
const BAR_H = 18;
const GAP = 6;
const TITLE_H = 26;
const AXIS_H = 22;

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, c => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** A "nice" axis end ≥ x: 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 × a power of ten. */
export function niceCeil(x: number): number {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= x * (1 - 1e-12)) return +(m * p).toPrecision(12);
  return 10 * p;
}

/** Tick step for an axis from 0 to `end`: the first of end/5, /4, /3, /2 that is one significant digit (or 2.5) × 10^k. */
export function tickStep(end: number): number {
  for (const n of [5, 4, 3, 2]) {
    const step = end / n;
    const m = step / 10 ** Math.floor(Math.log10(step) + 1e-9);
    if (Math.abs(m - Math.round(m)) < 1e-9 || Math.abs(m - 2.5) < 1e-9) return step;
  }
  return end;
}

function shade(hex: string, threads: number, maxThreads: number): string {
  if (threads >= maxThreads) return hex;
  // fewer threads: mix toward white
  const t = 0.45 * (1 - threads / maxThreads);
  const c = [1, 3, 5].map(i => parseInt(hex.slice(i, i + 2), 16)).map(v => Math.round(v + (255 - v) * t));
  return `#${c.map(v => v.toString(16).padStart(2, '0')).join('')}`;
}

function panel(title: string, rows: TimingResult[], x0: number, y0: number, maxThreads: number): { svg: string; height: number } {
  const plotW = PANEL_W - LABEL_W - 70;
  const end = niceCeil(Math.max(...rows.map(r => r.ms.max)));
  const sx = (ms: number) => LABEL_W + (ms / end) * plotW;
  const out: string[] = [`<g transform="translate(${x0},${y0})">`, `<text x="0" y="16" font-weight="bold">${escapeXml(title)}</text>`];
  rows.forEach((r, i) => {
    const y = TITLE_H + i * (BAR_H + GAP);
    const color = shade(COLORS[r.kind] ?? '#495057', r.threads, maxThreads);
    out.push(
      `<text x="${LABEL_W - 6}" y="${y + BAR_H - 5}" text-anchor="end">${escapeXml(`${r.kind} ×${r.threads}`)}</text>`,
      `<rect x="${LABEL_W}" y="${y}" width="${(sx(r.ms.median) - LABEL_W).toFixed(1)}" height="${BAR_H}" fill="${color}"><title>${escapeXml(`${r.kind}, ${r.threads} thread(s): median ${r.ms.median.toFixed(1)} ms (min ${r.ms.min.toFixed(1)}, max ${r.ms.max.toFixed(1)})`)}</title></rect>`,
      `<line x1="${sx(r.ms.min).toFixed(1)}" x2="${sx(r.ms.max).toFixed(1)}" y1="${y + BAR_H / 2}" y2="${y + BAR_H / 2}" stroke="#212529" stroke-width="1.2"/>`,
      `<text x="${(sx(r.ms.max) + 4).toFixed(1)}" y="${y + BAR_H - 5}">${escapeXml(r.ms.median >= 100 ? r.ms.median.toFixed(0) : r.ms.median.toFixed(1))}</text>`,
    );
  });
  const axisY = TITLE_H + rows.length * (BAR_H + GAP);
  out.push(`<line x1="${LABEL_W}" x2="${LABEL_W + plotW}" y1="${axisY}" y2="${axisY}" stroke="#868e96"/>`);
  const step = tickStep(end);
  for (let k = 0; k * step <= end * (1 + 1e-9); k++) {
    const v = k * step;
    out.push(`<text x="${sx(v).toFixed(1)}" y="${axisY + 14}" text-anchor="middle" fill="#495057">${escapeXml(String(+v.toPrecision(3)))}</text>`);
  }
  out.push(`<text x="${LABEL_W + plotW}" y="${axisY + 14}" dx="28" fill="#495057">ms</text>`, '</g>');
  return { svg: out.join('\n'), height: axisY + AXIS_H };
}

/** The chart for a report: panels in two columns, median latency per run (lower is better). */
export function renderSvg(r: BenchReport): string {
  const name = (id: string) => r.models.find(m => m.id === id)?.name ?? id;
  const groups: { title: string; rows: TimingResult[] }[] = [];
  for (const m of r.models) {
    for (const b of r.options.batches) {
      const rows = r.results.filter(x => x.model === m.id && x.batch === b);
      if (rows.length) groups.push({ title: `${name(m.id)} · batch ${b} — median ms per run (min–max)`, rows });
    }
  }
  const maxThreads = Math.max(1, ...r.results.map(x => x.threads));
  const cols = groups.length > 1 ? 2 : 1;
  const header = 46;
  const panels: string[] = [];
  const colY = Array(cols).fill(header) as number[];
  groups.forEach((g, i) => {
    const c = i % cols;
    const p = panel(g.title, g.rows, 10 + c * (PANEL_W + 20), colY[c]!, maxThreads);
    panels.push(p.svg);
    colY[c]! += p.height + 16;
  });
  const width = 20 + cols * (PANEL_W + 20);
  const height = Math.max(header + 20, ...colY) + 10;
  const subtitle = `${r.machine.cpu}, ${r.machine.cores} cores, Node ${r.machine.node}, ${r.createdAt.slice(0, 16).replace('T', ' ')} UTC; lighter bars = fewer threads`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">${escapeXml('ocellus bench: latency per engine and model')}</text>`,
    `<text x="10" y="37" fill="#495057">${escapeXml(subtitle)}</text>`,
    groups.length ? panels.join('\n') : `<text x="10" y="${header + 14}">no timing results</text>`,
    '</svg>',
    '',
  ].join('\n');
}
