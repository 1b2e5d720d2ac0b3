// ocellus fuzz runner (issue #18). Usage:
//   tsx fuzz/run.ts [--seed 1] [--images 2000] [--onnx 500] [--jobs 2] [--timeout 5000] [--wall-timeout 120000] [--max-mb 1024]
//                   [--out fuzz/out] [--json summary.json] [--crafted 0.03] [--strict] [--selftest] [--start 0]
//   tsx fuzz/run.ts --replay fuzz/out/image-s1-i123.json      (or the raw .jpg/.png/.onnx file)
// Any hang, crash, non-Error throw, Error without a message, memory breach or decode over its CPU budget is a
// finding: its input is saved under --out for --replay, and the run exits 1. See fuzz/README.md.

import fs from 'node:fs';
import path from 'node:path';
import { type FuzzCase, SELFTESTS, imageCase, onnxCase, selftestCase } from './cases.js';
import { loadCorpus } from './corpus.js';
import { runPool, type Verdict } from './pool.js';
import { type Finding, Stats, findingOf } from './report.js';

interface Args {
  seed: number; images: number; onnx: number; jobs: number; timeout: number; wall: number; maxMb: number; out: string;
  json?: string; crafted?: number; strict: boolean; selftest: boolean; start: number; replay?: string; budgetPerMp: number; budgetFixed: number; budgetPerMb: number;
}

const USAGE = `usage: tsx fuzz/run.ts [--seed N=1] [--images N=2000] [--onnx N=500] [--jobs N=2] [--timeout MS=5000]
       [--wall-timeout MS=max(24×timeout, 120000)] [--max-mb MB=1024] [--budget-ms-per-mp MS=2000] [--budget-fixed-ms MS=100]
       [--budget-ms-per-mib MS=100] [--out DIR=fuzz/out]
       [--json FILE] [--crafted SHARE] [--strict] [--selftest] [--start I=0]
   or: tsx fuzz/run.ts --replay FILE [--timeout MS] [--max-mb MB]`;

function parseArgs(argv: string[]): Args {
  const a: Args = { seed: 1, images: 2000, onnx: 500, jobs: 2, timeout: 5000, wall: 0, maxMb: 1024, out: path.join(import.meta.dirname, 'out'),
    strict: false, selftest: false, start: 0, budgetPerMp: 2000, budgetFixed: 100, budgetPerMb: 100 };
  const num: Record<string, keyof Args> = { '--seed': 'seed', '--images': 'images', '--onnx': 'onnx', '--jobs': 'jobs', '--timeout': 'timeout', '--wall-timeout': 'wall',
    '--max-mb': 'maxMb', '--start': 'start', '--budget-ms-per-mp': 'budgetPerMp', '--budget-fixed-ms': 'budgetFixed',
    '--budget-ms-per-mib': 'budgetPerMb' };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    if (k === '--strict') a.strict = true;
    else if (k === '--selftest') a.selftest = true;
    else if (k === '--help' || k === '-h') { console.log(USAGE); process.exit(0); }
    else if (k in num || k === '--out' || k === '--json' || k === '--replay' || k === '--crafted') {
      const v = argv[++i];
      if (v === undefined) fail(`${k} needs a value`);
      if (k === '--out') a.out = path.resolve(v);
      else if (k === '--json') a.json = path.resolve(v);
      else if (k === '--replay') a.replay = path.resolve(v);
      else if (k === '--crafted') {
        a.crafted = Number(v);
        if (!(a.crafted >= 0 && a.crafted <= 1)) fail(`--crafted must be a share from 0 to 1, got '${v}'`);
      }
      else {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0) fail(`${k} must be a non-negative integer, got '${v}'`);
        (a as unknown as Record<string, number>)[num[k]!] = n;
      }
    } else fail(`unknown argument '${k}'`);
  }
  if (a.jobs < 1) fail('--jobs must be at least 1');
  return a;
}

function fail(msg: string): never {
  console.error(`${msg}\n${USAGE}`);
  process.exit(2);
}

const EXT: Record<FuzzCase['kind'], (b: Uint8Array) => string> = {
  image: b => (b[0] === 0x89 ? 'png' : 'jpg'), onnx: () => 'onnx', selftest: () => 'bin',
};

/** Saves a finding's input (raw bytes + a JSON descriptor with any folder files) and returns the JSON's path. */
function save(out: string, seed: number, c: FuzzCase, f: Finding): string {
  fs.mkdirSync(out, { recursive: true });
  const base = path.join(out, `${c.kind}-s${seed}-i${c.index}`);
  const raw = `${base}.${EXT[c.kind](c.bytes)}`;
  fs.writeFileSync(raw, c.bytes);
  const files = c.files?.map(x => (x.symlink !== undefined ? { name: x.name, symlink: x.symlink } : { name: x.name, base64: Buffer.from(x.bytes ?? []).toString('base64') }));
  fs.writeFileSync(`${base}.json`, JSON.stringify({ kind: c.kind, seed, index: c.index, desc: c.desc, selftest: c.selftest, finding: f, bytes: path.basename(raw), files }, null, 1));
  return `${base}.json`;
}

function loadReplay(file: string): FuzzCase {
  if (file.endsWith('.json')) {
    const d = JSON.parse(fs.readFileSync(file, 'utf8'));
    const files = d.files?.map((x: { name: string; symlink?: string; base64?: string }) => (x.symlink !== undefined ? x : { name: x.name, bytes: new Uint8Array(Buffer.from(x.base64!, 'base64')) }));
    return { kind: d.kind, index: d.index, desc: d.desc, selftest: d.selftest, files, bytes: new Uint8Array(fs.readFileSync(path.join(path.dirname(file), d.bytes))) };
  }
  const bytes = new Uint8Array(fs.readFileSync(file));
  return { kind: file.endsWith('.onnx') ? 'onnx' : 'image', index: 0, desc: path.basename(file), bytes };
}

/** The run's cases; one the generator fails to make is a harness finding (the harness's bug), and the run goes on. */
function* cases(a: Args, corpus: ReturnType<typeof loadCorpus>, harness: Finding[]): Generator<FuzzCase> {
  if (a.selftest) for (const [i, k] of SELFTESTS.entries()) yield selftestCase(i, k);
  // Interleaved in proportion, so progress and timing are even through the run.
  const total = a.images + a.onnx;
  let im = 0, ox = 0;
  for (let k = 0; k < total; k++) {
    const image = ox >= a.onnx || (im < a.images && im * a.onnx <= ox * a.images);
    const index = a.start + (image ? im++ : ox++);
    let c: FuzzCase;
    try {
      c = image ? imageCase(a.seed, index, corpus, a.crafted) : onnxCase(a.seed, index, corpus, a.crafted);
    } catch (e) {
      const f: Finding = { type: 'harness', kind: image ? 'image' : 'onnx', index, desc: 'case generation', detail: String((e as Error)?.stack ?? e).slice(0, 500) };
      harness.push(f);
      console.log(`FINDING harness ${f.kind} #${index}: ${f.detail}`);
      continue;
    }
    yield c;
  }
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const budget = { perMp: a.budgetPerMp, fixed: a.budgetFixed, perMb: a.budgetPerMb };
  const pool = { jobs: a.replay ? 1 : a.jobs, timeoutMs: a.timeout, wallMs: a.wall || Math.max(24 * a.timeout, 120_000), maxMb: a.maxMb, budget };
  const stats = new Stats(budget);
  const t0 = Date.now();
  if (a.replay) {
    const c = loadReplay(a.replay);
    let verdict: Verdict | undefined;
    await runPool([c], pool, (_, v) => { verdict = v; stats.add(c, v, a.strict); });
    console.log(JSON.stringify(verdict, null, 1));
    const f = findingOf(c, verdict!, budget, a.strict);
    console.log(f ? `FINDING: ${f.type}: ${f.detail}` : 'no finding');
    process.exit(f ? 1 : 0);
  }
  const corpus = loadCorpus();
  console.log(`ocellus fuzz: seed ${a.seed}, cases ${a.start}…, ${a.images} image + ${a.onnx} ONNX${a.selftest ? ` + ${SELFTESTS.length} planted` : ''}; `
    + `corpus ${corpus.fingerprint} (${corpus.images.length} images, ${corpus.models.length} models); ${a.jobs} jobs, `
    + `timeout ${a.timeout} ms CPU (${pool.wallMs} ms wall), max ${a.maxMb} MiB RSS, decode budget ${a.budgetFixed} ms + ${a.budgetPerMp} ms/MP + ${a.budgetPerMb} ms/MiB of input`);
  let done = 0;
  // Stopped early (Ctrl-C, kill): print and write what the run has so far, marked partial.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      const partial = stats.summary({ seed: a.seed, start: a.start, corpus: corpus.fingerprint, seconds: (Date.now() - t0) / 1000, workersStarted: 0, options: pool, partial: `stopped by ${sig} after ${done} cases` });
      console.log(`stopped by ${sig} after ${done} cases\n${stats.format(partial)}`);
      if (a.json) fs.writeFileSync(a.json, JSON.stringify(partial, null, 1));
      process.exit(stats.findings.length ? 1 : 130);
    });
  }
  const total = a.images + a.onnx + (a.selftest ? SELFTESTS.length : 0);
  const { workersStarted } = await runPool(cases(a, corpus, stats.findings), pool, (c, v) => {
    const f = stats.add(c, v, a.strict);
    if (f) {
      const file = save(a.out, a.seed, c, f);
      console.log(`FINDING ${f.type} ${c.kind} #${c.index} (${c.desc}): ${f.detail} → ${path.relative(process.cwd(), file)}`);
    }
    if (++done % 500 === 0) console.log(`… ${done}/${total} cases, ${stats.findings.length} findings, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  });
  const summary = stats.summary({ seed: a.seed, start: a.start, corpus: corpus.fingerprint, seconds: (Date.now() - t0) / 1000, workersStarted, options: pool });
  console.log(stats.format(summary));
  if (a.json) fs.writeFileSync(a.json, JSON.stringify(summary, null, 1));
  process.exit(stats.findings.length ? 1 : 0);
}

await main();
