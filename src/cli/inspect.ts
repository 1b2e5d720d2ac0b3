// `ocellus inspect`: a model's summary (shapes, parameters, MACs, what the graph passes did), optionally a trace of
// one image (per-node time and activation statistics) as a table, JSON, or a self-contained HTML report.

import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { formatSummary, formatTrace } from '../inspect/format.js';
import { renderHtml } from '../inspect/html.js';
import { inspect } from '../inspect/inspect.js';
import { progressPrinter } from './classify.js';

export { INSPECT_USAGE } from './usage.js';   // the synopsis lives there: main.ts prints it without loading this module

export const INSPECT_OPTIONS = `Inspect options:
  model            folder, .onnx file, hub id, or 'default' (default: the bundled ResNet-50)
  --json           one JSON document (summary, passes, and the trace when given)
  --trace IMAGE    run IMAGE through the model and record each node's time and output statistics
  --unfused        trace the file's own graph (passes off) instead of the optimised plan
  --cold           skip the untraced warm-up run (times then include first-call costs)
  --html FILE      write a self-contained HTML report of the trace to FILE`;

export async function runInspect(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: {
      json: { type: 'boolean', default: false }, trace: { type: 'string' }, html: { type: 'string' },
      unfused: { type: 'boolean', default: false }, cold: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
    },
  });
  if (positionals.length > 1) throw new Error(`inspect takes one model, got ${positionals.length}: ${positionals.join(' ')}`);
  if (values.html !== undefined && values.trace === undefined) throw new Error('--html needs --trace IMAGE (the report shows a traced run)');
  if ((values.unfused || values.cold) && values.trace === undefined) throw new Error(`--${values.unfused ? 'unfused' : 'cold'} only applies with --trace IMAGE`);

  const report = await inspect(positionals[0], {
    hub: { onProgress: progressPrinter() },
    trace: values.trace === undefined ? undefined : { image: values.trace, optimize: !values.unfused, warmup: !values.cold },
  });
  if (values.html !== undefined) {
    const html = renderHtml(report);
    fs.writeFileSync(values.html, html);
    const line = `wrote ${values.html} (${(Buffer.byteLength(html) / 2 ** 20).toFixed(2)} MiB): ${report.trace!.nodes.length} nodes of ${report.id}`;
    (values.json ? console.error : console.log)(line);
  }
  if (values.json) console.log(JSON.stringify(report, null, 2));
  else if (values.html === undefined) console.log(report.trace ? `${formatSummary(report)}\n\n${formatTrace(report.trace)}` : formatSummary(report));
  return 0;
}
