// One cold start, in a fresh plain-Node process (no tsx: every engine is imported as its users get it, ocellus from a
// build folder). The job is argv[2] (JSON, bench/cold.ts ColdJob). The input is read first, untimed; then: import the
// engine's module, create a session, run batch 1 once. Prints one JSON line — importMs, createMs, firstRunMs (this
// process's own clock), peakRssMiB (VmHWM) — and exits at once (thread pools would keep it alive). The parent times
// the whole process from spawn to exit.
//
// planCache: 'none' today. When ocellus gets its planned-model cache, pass its session option here for 'warm' and
// 'cold' (the parent prepares the cache state before the try) — nothing else needs to change.

import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const job = JSON.parse(process.argv[2] ?? '{}');
const dims = [1, ...job.imageDims];
const per = job.imageDims.reduce((a, b) => a * b, 1);
const bytes = new Uint8Array(per * 4);
const fd = fs.openSync(job.inputFile, 'r');
fs.readSync(fd, bytes, 0, bytes.length, 0);
fs.closeSync(fd);
const data = new Float32Array(bytes.buffer);

const peakRssMiB = () => Number(/^VmHWM:\s+(\d+)\s+kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN) / 1024;

async function load() {
  switch (job.kind) {
    case 'ocellus': {
      const m = await import(pathToFileURL(path.join(job.dist, 'src', 'index.js')).href);
      return {
        create: () => m.InferenceSession.create(job.modelPath, { planCache: job.planCache !== 'none' }),
        tensor: () => new m.Tensor('float32', data, dims),
      };
    }
    case 'ort-web': {
      const ort = await import('onnxruntime-web');
      ort.env.wasm.numThreads = job.threads;
      ort.env.wasm.proxy = false;
      return {
        create: () => ort.InferenceSession.create(job.modelPath, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' }),
        tensor: () => new ort.Tensor('float32', data, dims),
      };
    }
    case 'ort-node': {
      const ort = await import('onnxruntime-node');
      return {
        create: () => ort.InferenceSession.create(job.modelPath, {
          executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: job.threads, interOpNumThreads: 1, executionMode: 'sequential',
        }),
        tensor: () => new ort.Tensor('float32', data, dims),
      };
    }
    default: throw new Error(`unknown engine '${job.kind}'`);
  }
}

try {
  const t0 = performance.now();
  const engine = await load();
  const t1 = performance.now();
  const session = await engine.create();
  const t2 = performance.now();
  const out = await session.run({ [session.inputNames[0]]: engine.tensor() });
  const y = out[session.outputNames[0]];
  const t3 = performance.now();
  if (!y || !(y.data.length > 0)) throw new Error(`${job.modelPath}: the first run gave no output`);
  process.stdout.write(JSON.stringify({ importMs: t1 - t0, createMs: t2 - t1, firstRunMs: t3 - t2, peakRssMiB: peakRssMiB() }) + '\n', () => process.exit(0));
} catch (e) {
  process.stdout.write(JSON.stringify({ error: String(e?.message ?? e).split('\n')[0] }) + '\n', () => process.exit(1));
}
