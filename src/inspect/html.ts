// One self-contained HTML page from an inspect report with a trace: inline CSS, inline script, and the report as
// embedded JSON (without the summary's per-node lists, which the trace's nodes replace). No network, no CDN.

import type { InspectReport } from './inspect.js';
import { REPORT_JS } from './report-client.js';
import { REPORT_CSS } from './report-style.js';

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** The data the page embeds: the report minus the summaries' node lists (counts kept). */
function pageData(r: InspectReport): unknown {
  const { nodes: originalNodes, ...original } = r.original;
  const optimized = r.optimized && (({ nodes, ...rest }) => ({ ...rest, nodeCount: nodes.length }))(r.optimized);
  return { ...r, original: { ...original, nodeCount: originalNodes.length }, optimized };
}

export function renderHtml(report: InspectReport): string {
  if (!report.trace) throw new Error('the HTML report shows a trace: inspect the model with a trace image');
  // JSON inside <script>: escaping '<' keeps '</script>' and '<!--' out of the element's text; JSON.parse undoes it.
  const json = JSON.stringify(pageData(report)).replace(/</g, '\\u003c');
  const title = `ocellus inspect — ${escapeHtml(report.id)}`;
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${title}</title>`,
    `<style>${REPORT_CSS}</style>`,
    '</head>',
    '<body>',
    '<div id="app"></div>',
    '<noscript><p style="padding:20px">This report draws itself with JavaScript; the data is in the page (script#report-data).</p></noscript>',
    `<script type="application/json" id="report-data">${json}</script>`,
    `<script>${REPORT_JS}</script>`,
    `<footer>ocellus inspect · ${escapeHtml(report.file)} · MACs count Conv and MatMul/Gemm products (batch 1) · times are this machine's kernel times for one run</footer>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
