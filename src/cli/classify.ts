// `ocellus classify`: images (files, folders, URLs) → top-k table or JSON. One bad image is reported on stderr
// and the rest are still classified; the exit code says whether all succeeded.

import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadImage } from '../image/load.js';
import type { RawImage } from '../image/types.js';
import { pipeline, type Classification, type ProgressEvent } from '../pipeline/index.js';

export { CLASSIFY_USAGE } from './usage.js';   // the synopsis lives there: main.ts prints it without loading this module

export const CLASSIFY_OPTIONS = `Classify options:
  --model M           local folder (Hugging Face layout), .onnx file, or hub id (default: the bundled ResNet-50)
  --top-k N           classes per image (default 5)
  --json              one JSON array: [{ "input", "results": [{ "label", "score" }] }]
  --dtype D           fp32 (default) or q8: onnx/model_quantized.onnx, made on first use for local and default models
  --batch N           images per session run (default 8)
  --preprocessor F    a preprocessor_config.json to use instead of the model's (a bare .onnx file gets ImageNet's)`;

const IMAGE_EXT = /\.(jpe?g|png|gif|webp|bmp|tiff?|heic|avif)$/i;

function expandInputs(args: string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    if (!/^[a-z]+:/i.test(a) && fs.existsSync(a) && fs.statSync(a).isDirectory()) {
      const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((x, y) => x.name.localeCompare(y.name))) {
          const p = path.join(d, e.name);
          if (e.isDirectory()) walk(p); else if (IMAGE_EXT.test(e.name)) out.push(p);
        }
      };
      walk(a);
    } else out.push(a);
  }
  return out;
}

/**
 * Progress of model preparation (downloads, conversion, quantization) on `stream`: in a terminal one line that updates
 * in place; piped, plain lines at each 10 % step.
 */
export function progressPrinter(stream: NodeJS.WriteStream = process.stderr): (e: ProgressEvent) => void {
  const tty = stream.isTTY === true;
  let last = '';
  let open = false;   // a TTY line is being updated in place
  const finish = () => { if (open) { stream.write('\n'); open = false; } };
  return e => {
    let line = '';
    if (e.status === 'prepare') line = `preparing ${e.name}${e.file ? ` (${e.file})` : ''} — first use, cached afterwards`;
    else if (e.status === 'initiate') line = `downloading ${e.name}/${e.file}`;
    else if (e.status === 'progress' && e.progress !== undefined) {
      const pct = tty ? e.progress.toFixed(0) : String(Math.floor(e.progress / 10) * 10);
      const size = tty && e.total ? ` of ${mib(e.total)}` : '';
      line = `  ${e.file ?? ''} ${pct}%${size}`;
    } else if (e.status === 'ready' || e.status === 'done') { finish(); return; }
    if (!line || line === last) return;
    last = line;
    if (!tty) { stream.write(line + '\n'); return; }
    const width = Math.max(20, (stream.columns ?? 80) - 1);
    const fresh = e.status !== 'progress';
    if (fresh) finish();
    stream.write(`\r\x1b[2K${line.length > width ? line.slice(0, width - 1) + '…' : line}`);
    open = true;
    if (fresh && e.status === 'prepare') finish();
  };
}

function mib(bytes: number): string {
  return bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(0)} KiB`;
}

export async function runClassify(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: {
      model: { type: 'string' }, 'top-k': { type: 'string', default: '5' }, json: { type: 'boolean', default: false },
      dtype: { type: 'string', default: 'fp32' }, batch: { type: 'string', default: '8' }, verbose: { type: 'boolean', default: false },
      preprocessor: { type: 'string' },
    },
  });
  if (values.dtype !== 'fp32' && values.dtype !== 'q8') throw new Error(`--dtype must be fp32 or q8, got '${values.dtype}'`);
  const k = Number(values['top-k']);
  const batchSize = Number(values.batch);
  if (!Number.isInteger(k) || k < 1) throw new Error(`--top-k must be a positive integer, got '${values['top-k']}'`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`--batch must be a positive integer, got '${values.batch}'`);
  const inputs = expandInputs(positionals);
  if (inputs.length === 0) throw new Error('no images given (usage: ocellus classify <image…>)');

  const classify = await pipeline('image-classification', values.model, {
    dtype: values.dtype, onProgress: progressPrinter(), preprocessor: values.preprocessor === undefined ? undefined : readPreprocessor(values.preprocessor),
    onNotice: m => console.error(m),
  });
  const results: { input: string; results: Classification[] }[] = [];
  let failed = 0;
  try {
    for (let i = 0; i < inputs.length; i += batchSize) {
      const group = inputs.slice(i, i + batchSize);
      const loaded: { input: string; image: RawImage }[] = [];
      for (const input of group) {
        try {
          loaded.push({ input, image: await loadImage(input, { name: input }) });
        } catch (e) {
          failed++;
          console.error(`ocellus: ${(e as Error).message}`);
        }
      }
      if (!loaded.length) continue;
      const rows = await classify(loaded.map(l => l.image), { topK: k });
      loaded.forEach((l, j) => {
        results.push({ input: l.input, results: rows[j]! });
        if (!values.json) printTable(l.input, rows[j]!);
      });
    }
  } finally {
    await classify.dispose();
  }
  if (values.json) console.log(JSON.stringify(results, null, 2));
  return failed ? 1 : 0;
}

function readPreprocessor(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`--preprocessor ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  try {
    const cfg = JSON.parse(text) as unknown;
    if (cfg && typeof cfg === 'object' && !Array.isArray(cfg)) return cfg as Record<string, unknown>;
    throw new Error('expected a JSON object');
  } catch (e) {
    throw new Error(`--preprocessor ${file}: not a preprocessor_config.json (${(e as Error).message})`);
  }
}

function printTable(input: string, rows: Classification[]): void {
  console.log(input);
  for (const r of rows) console.log(`  ${(r.score * 100).toFixed(2).padStart(6)}%  ${r.label}`);
}
