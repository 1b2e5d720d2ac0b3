// One self-contained HTML page from an inspect report with a trace: inline CSS, inline script, and the report as
// embedded JSON (without the summary's per-node lists, which the trace's nodes replace). No network, no CDN.
// The script is report/client.ts bundled by esbuild into one IIFE: `npm run build` writes it beside this file's
// compiled form (dist/src/inspect/report-client.bundle.js); run from sources, it is bundled on first use with the
// same options (esbuild is a devDependency).

import fs from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { InspectReport } from './inspect.js';
import { REPORT_CSS } from './report-style.js';

/** What package.json's build writes: esbuild src/inspect/report/client.ts --bundle --format=iife --target=es2020. */
const BUNDLE = new URL('./report-client.bundle.js', import.meta.url);
const CLIENT = new URL('./report/client.ts', import.meta.url);
let clientJs: string | undefined;

interface EsbuildSync {
  buildSync(o: { entryPoints: string[]; bundle: boolean; format: 'iife'; target: string; write: false; logLevel: 'silent' }): { outputFiles: { text: string }[] };
}

/** The page's script: the build's bundle when there is one, else report/client.ts bundled now. */
export function reportClientJs(): string {
  if (clientJs !== undefined) return clientJs;
  if (fs.existsSync(BUNDLE)) return (clientJs = fs.readFileSync(BUNDLE, 'utf8'));
  let esbuild: EsbuildSync;
  try {
    esbuild = createRequire(import.meta.url)('esbuild') as EsbuildSync;
  } catch {
    throw new Error(`the HTML report's script is missing: no ${fileURLToPath(BUNDLE)} (npm run build writes it) and no esbuild to bundle ${fileURLToPath(CLIENT)}`);
  }
  const out = esbuild.buildSync({ entryPoints: [fileURLToPath(CLIENT)], bundle: true, format: 'iife', target: 'es2020', write: false, logLevel: 'silent' });
  return (clientJs = out.outputFiles[0]!.text);
}

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
    `<script>${reportClientJs().replace(/<\/(script)/gi, '<\\/$1')}</script>`,
    `<footer>ocellus inspect · ${escapeHtml(report.file)} · MACs count Conv and MatMul/Gemm products (batch 1) · times are this machine's kernel times for one run</footer>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
