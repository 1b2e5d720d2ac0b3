// A fuzz worker: a long-lived child process that takes cases over IPC and runs each through the public API —
// image bytes → decodeImage or loadImage, then ViT preprocessing; ONNX bytes → InferenceSession.create (from
// bytes, or from a temp folder for external-data cases) and, when it loads, one run on zeros of the declared
// shape if that is small. It reports the outcome and the CPU time of the decode; the parent enforces time and
// memory limits from outside (it kills this process), so nothing here tries to limit itself.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { zlibSync } from 'fflate';
import { ensureBackend } from '../kernels/backend.js';
import { ImageProcessor, InferenceSession, Tensor, decodeImage, loadImage } from '../src/index.js';
import { readJpegHeader } from '../src/image/jpeg/index.js';
import { readPngHeader } from '../src/image/png.js';
import type { FuzzCase } from './cases.js';
import { type Budget, budgetMs } from './report.js';
import { makePng } from './corpus.js';
import { progressiveBomb } from './crafted.js';
import { parsePng, serializePng } from './png-mutate.js';
import { Rng } from './rng.js';

/** Most elements a graph input may have for the one run after a successful load. */
const MAX_RUN_ELEMENTS = 1 << 20;

export interface Outcome {
  index: number;
  kind: FuzzCase['kind'];
  status: 'ok' | 'refused' | 'non-error' | 'empty-message';
  phase?: 'decode' | 'preprocess' | 'create' | 'run';
  errorClass?: string;
  message?: string;
  mp?: number;                 // megapixels: decoded size, else the size the header declares
  decodeMs?: number;           // CPU time (user + system, all threads) of the decode call (least of 3 if over budget)
  firstDecodeMs?: number;      // the first call's, when it was over budget and the call was timed again
  preprocessMs?: number;
  createMs?: number;           // CPU time of InferenceSession.create, refused or not
  loaded?: boolean;
  ran?: boolean;
  tensorLeak?: number;         // tf.memory().numTensors after the case minus before
  peakRssMb?: number;          // this process's peak RSS during the case (Linux: VmHWM after resetting it)
}

const processor = ImageProcessor.fromConfig({
  image_processor_type: 'ViTImageProcessor', do_resize: true, size: { height: 224, width: 224 }, resample: 2,
  do_rescale: true, rescale_factor: 1 / 255, do_normalize: true, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5],
});

function cpuMs(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
}

function resetPeakRss(): void {
  try { fs.writeFileSync('/proc/self/clear_refs', '5'); } catch { /* not Linux, or not allowed: peak stays cumulative */ }
}

function peakRssMb(): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return process.resourceUsage().maxRSS / 1024;
  }
}

function declaredMp(bytes: Uint8Array): number | undefined {
  for (const read of [readJpegHeader, readPngHeader]) {
    try {
      const h = read(bytes);
      return (h.width * h.height) / 1e6;
    } catch { /* not this format, or no readable header */ }
  }
  return undefined;
}

/** Burns `ms` of this process's CPU time (not wall time: the machine may be shared). */
function spin(ms: number): void {
  const t = process.cpuUsage();
  while (cpuMs(t) < ms) { /* planted CPU use */ }
}

/** Classify a throw: an Error with a message is a refusal; anything else is a finding. */
function refusal(out: Outcome, phase: Outcome['phase'], e: unknown): Outcome {
  out.phase = phase;
  if (!(e instanceof Error)) {
    out.status = 'non-error';
    out.errorClass = e === null ? 'null' : typeof e === 'object' ? `object ${e.constructor?.name ?? ''}`.trim() : typeof e;
    out.message = String(e).slice(0, 300);
    return out;
  }
  out.errorClass = e.name || e.constructor.name;
  out.message = e.message.slice(0, 300);
  out.status = e.message.trim() === '' ? 'empty-message' : 'refused';
  return out;
}

type Decode = (bytes: Uint8Array, name: string) => ReturnType<typeof decodeImage> | Promise<ReturnType<typeof decodeImage>>;

const publicDecode = (index: number): Decode => (index % 2 ? (b, name) => loadImage(b, { name }) : (b, name) => decodeImage(b, { name }));

/** Decoders planted by the self-test cases: they misbehave inside the same guarded call a real decoder runs in. */
const PLANTED: Partial<Record<NonNullable<FuzzCase['selftest']>, Decode>> = {
  // eslint-disable-next-line no-throw-literal
  'throw-string': () => { throw 'planted string'; },
  'throw-object': () => { throw { planted: true }; },
  'empty-message': () => { throw new Error(''); },
  slow: () => { spin(200); throw new Error('planted slow decode'); },   // 4× the fixed budget, every time
};

/**
 * A decode over its CPU budget is timed twice more, right away, and judged by the least of the three: the
 * process's CPU time includes V8 compiling and collecting on other threads, which the first calls of a path pay
 * for; a decoder that really does too much work does it every time. No forced GC in between: measured on a PNG
 * refused after 1 MiB of excess data, calls after gc() took 5–98 ms, without it a steady 5–6 ms.
 */
async function remeasure(c: FuzzCase, out: Outcome, decode: Decode): Promise<void> {
  if (!budget || out.decodeMs === undefined || out.decodeMs <= budgetMs(budget, out.mp, c.bytes.length)) return;
  out.firstDecodeMs = out.decodeMs;
  for (let k = 0; k < 2; k++) {
    const t = process.cpuUsage();
    try { await decode(c.bytes, `case ${c.index}`); } catch { /* the same refusal as the first time */ }
    out.decodeMs = Math.min(out.decodeMs, cpuMs(t));
  }
}

async function runImage(c: FuzzCase, out: Outcome, decode: Decode = publicDecode(c.index)): Promise<void> {
  out.mp = c.selftest ? 0 : declaredMp(c.bytes);
  const t0 = process.cpuUsage();
  let img;
  try {
    img = await decode(c.bytes, `case ${c.index}`);
  } catch (e) {
    out.decodeMs = cpuMs(t0);
    refusal(out, 'decode', e);
    await remeasure(c, out, decode);
    return;
  }
  out.decodeMs = cpuMs(t0);
  out.mp = (img.width * img.height) / 1e6;
  await remeasure(c, out, decode);
  const t1 = process.cpuUsage();
  try {
    processor.process(img);
  } catch (e) {
    refusal(out, 'preprocess', e);
  }
  out.preprocessMs = cpuMs(t1);
}

let budget: Budget | undefined;   // the run's decode budget, sent with each case

const ZERO: Partial<Record<string, (n: number) => Tensor['data']>> = {
  float32: n => new Float32Array(n), int64: n => new BigInt64Array(n), int32: n => new Int32Array(n),
  uint8: n => new Uint8Array(n), int8: n => new Int8Array(n), bool: n => new Uint8Array(n), float64: n => new Float64Array(n),
};

async function runOnnx(c: FuzzCase, out: Outcome): Promise<void> {
  let dir: string | undefined;
  let session: InferenceSession;
  const t0 = process.cpuUsage();
  try {
    if (c.files) {
      dir = fs.mkdtempSync(path.join(process.env.OCELLUS_FUZZ_TMP ?? os.tmpdir(), 'case-'));
      fs.writeFileSync(path.join(dir, 'model.onnx'), c.bytes);
      for (const f of c.files) {
        if (f.symlink !== undefined) fs.symlinkSync(f.symlink, path.join(dir, f.name));
        else fs.writeFileSync(path.join(dir, f.name), f.bytes ?? new Uint8Array(0));
      }
      session = await InferenceSession.create(path.join(dir, 'model.onnx'));
    } else {
      session = await InferenceSession.create(c.bytes);
    }
  } catch (e) {
    refusal(out, 'create', e);
    return;
  } finally {
    out.createMs = cpuMs(t0);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
  out.loaded = true;
  try {
    const feeds: Record<string, Tensor> = {};
    for (const m of session.inputMetadata) {
      const dims = (m.shape ?? [1]).map(d => (typeof d === 'number' && d > 0 ? d : 1));
      const n = dims.reduce((a, b) => a * b, 1);
      const zero = ZERO[m.type];
      if (!zero || n > MAX_RUN_ELEMENTS) return;
      feeds[m.name] = new Tensor(m.type, zero(n), dims);
    }
    await session.run(feeds);
    out.ran = true;
  } catch (e) {
    refusal(out, 'run', e);
  } finally {
    await session.release();
  }
}

async function runSelftest(c: FuzzCase, out: Outcome): Promise<void> {
  switch (c.selftest) {
    case 'hang': for (;;) { /* planted infinite loop */ }
    case 'wall-hang': await new Promise(() => { /* planted promise that never settles */ }); return;
    case 'crash': process.abort();
    case 'throw-string': case 'throw-object': case 'empty-message': case 'slow':
      return runImage(c, out, PLANTED[c.selftest]);
    case 'memory': {
      const keep: Uint8Array[] = [];
      for (let i = 0; i < 128; i++) {                  // up to 4 GiB, 32 MiB every 20 ms: the parent must stop it
        keep.push(new Uint8Array(32 << 20).fill(1));
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      }
      return;
    }
  }
}

async function runCase(c: FuzzCase): Promise<Outcome> {
  const out: Outcome = { index: c.index, kind: c.kind, status: 'ok' };
  (globalThis as { gc?: () => void }).gc?.();
  resetPeakRss();
  const tensors = tf.memory().numTensors;
  try {
    if (c.kind === 'image') await runImage(c, out);
    else if (c.kind === 'onnx') await runOnnx(c, out);
    else await runSelftest(c, out);
  } catch (e) {
    refusal(out, out.phase, e);                        // a throw outside the guarded calls (e.g. from release)
  }
  out.tensorLeak = tf.memory().numTensors - tensors;
  out.peakRssMb = peakRssMb();
  return out;
}

/**
 * JIT-warm the decoders, so a case's CPU time is the decoder's work and not V8 compiling it: the repo's own
 * JPEGs, PNGs of several kinds, and the refusal paths (JPEGs cut short, a PNG with 2 MiB of excess image data, a
 * progressive JPEG scan bomb), a few rounds each. A worker starts warm, and so does each replacement.
 */
function warmUp(): void {
  const dir = path.resolve(import.meta.dirname, '../test/image/data/jpeg');
  const names = fs.existsSync(dir) ? fs.readdirSync(dir).filter(f => f.endsWith('.jpg')).sort() : [];
  const images: Uint8Array[] = names.map(f => new Uint8Array(fs.readFileSync(path.join(dir, f))));
  const cut = images.map(b => b.subarray(0, Math.floor(b.length * 0.7)));
  images.push(...cut, makePng(33, 17, 8, 2, false), makePng(33, 17, 8, 6, true), makePng(13, 9, 1, 0, false), makePng(13, 9, 4, 3, true));
  const rng = new Rng(1);
  images.push(pngWithExcess(), progressiveBomb(rng).bytes);
  for (let round = 0; round < 4; round++) {
    for (const bytes of images) {
      try { processor.process(decodeImage(bytes)); } catch { /* refusals are part of the warm-up */ }
    }
  }
}

/** A 16×16 RGB PNG whose image data inflates to 2 MiB more than its IHDR implies. */
function pngWithExcess(): Uint8Array {
  const chunks = parsePng(makePng(16, 16, 8, 2, false))!;
  const idat = chunks.find(c => c.type === 'IDAT')!;
  idat.data = zlibSync(new Uint8Array(16 * (1 + 48) + (2 << 20)));
  return serializePng(chunks);
}

if (process.send) {
  await ensureBackend();
  warmUp();
  process.on('message', (msg: { type: 'case'; case: FuzzCase; budget?: Budget } | { type: 'exit' }) => {
    if (msg.type === 'exit') process.exit(0);
    budget = msg.budget;
    void runCase(msg.case).then(o => process.send!({ type: 'result', outcome: o }));
  });
  process.on('disconnect', () => process.exit(0));   // the parent is gone: never outlive it
  process.send({ type: 'ready' });
}
