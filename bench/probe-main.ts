// The RSS probe's process (bench/rss-probe.ts bundles it with esbuild and runs it under plain `node`, no tsx, no
// IPC): starts the engine (OCELLUS_THREADS from the caller, 1 for the probe), creates a session on argv[2], runs it once
// on the first image of the raw float32 inputs file argv[3] (image dims argv[4], e.g. 3,224,224), prints one JSON line.

import fs from 'node:fs';
import { ensureBackend } from '../kernels/backend.js';
import { InferenceSession } from '../src/runtime/session.js';
import { Tensor } from '../src/runtime/tensor.js';
import { peakRssMiB } from './rss.js';

const [modelPath, inputsFile, dimsArg] = process.argv.slice(2);
if (!modelPath || !inputsFile || !dimsArg) throw new Error('usage: node probe.mjs <model.onnx> <inputs.f32> <C,H,W>');
const imageDims = dimsArg.split(',').map(Number);
const mib = (bytes: number) => bytes / 2 ** 20;

await ensureBackend();
const readyMiB = mib(process.memoryUsage.rss());
const t0 = performance.now();
const session = await InferenceSession.create(modelPath);
const loadMs = performance.now() - t0;
const bytes = imageDims.reduce((a, b) => a * b, 4);
const image = new Float32Array(bytes / 4);   // x: (1, C, H, W)
const fd = fs.openSync(inputsFile, 'r');
try {
  const got = fs.readSync(fd, new Uint8Array(image.buffer), 0, bytes, 0);
  if (got !== bytes) throw new Error(`${inputsFile}: the first image is short (${got} of ${bytes} bytes)`);
} finally {
  fs.closeSync(fd);
}
const t1 = performance.now();
const out = session.runSync({ [session.inputNames[0]!]: new Tensor('float32', image, [1, ...imageDims]) })[session.outputNames[0]!]!;
const runMs = performance.now() - t1;
const peakMiB = peakRssMiB();
process.stdout.write(JSON.stringify({ readyMiB, peakMiB, loadMs, runMs, outputDims: out.dims }) + '\n');
await session.release();
