// `ocellus classify`: images (files, folders, URLs) → top-k table or JSON. One bad image is reported on stderr
// and the rest are still classified; the exit code says whether all succeeded.

import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadImage } from '../image/load.js';
import type { RawImage } from '../image/types.js';
import { pipeline, type Classification, type ProgressEvent } from '../pipeline/index.js';

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

export function progressPrinter(stream: NodeJS.WriteStream = process.stderr): (e: ProgressEvent) => void {
  let last = '';
  return e => {
    let line = '';
    if (e.status === 'prepare') line = `preparing ${e.name}${e.file ? ` (${e.file})` : ''} — first use, cached afterwards`;
    else if (e.status === 'progress' && e.progress !== undefined) line = `  ${e.file ?? ''} ${Math.floor(e.progress / 10) * 10}%`;
    else if (e.status === 'initiate') line = `downloading ${e.name}/${e.file}`;
    if (line && line !== last) { stream.write(line + '\n'); last = line; }
  };
}

export async function runClassify(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: {
      model: { type: 'string' }, 'top-k': { type: 'string', default: '5' }, json: { type: 'boolean', default: false },
      dtype: { type: 'string', default: 'fp32' }, batch: { type: 'string', default: '8' }, verbose: { type: 'boolean', default: false },
    },
  });
  const k = Number(values['top-k']);
  const batchSize = Number(values.batch);
  if (!Number.isInteger(k) || k < 1) throw new Error(`--top-k must be a positive integer, got '${values['top-k']}'`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`--batch must be a positive integer, got '${values.batch}'`);
  const inputs = expandInputs(positionals);
  if (inputs.length === 0) throw new Error('no images given (usage: ocellus classify <image…>)');

  const classify = await pipeline('image-classification', values.model, {
    dtype: values.dtype as 'fp32' | 'q8', onProgress: progressPrinter(),
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

function printTable(input: string, rows: Classification[]): void {
  console.log(input);
  for (const r of rows) console.log(`  ${(r.score * 100).toFixed(2).padStart(6)}%  ${r.label}`);
}
