// `ocellus classify PHOTO --model DIR --json` done with onnxruntime-node in a plain Node script: the baseline of the
// cold bench's classify goal (whole process wall time). Same model file, same preprocessing (ocellus's image module,
// from the build folder given, which imports no engine), same labels, softmax and top-k; prints the same JSON shape.
//   node bench/classify-ort-node.mjs PHOTO MODEL_DIR [OCELLUS_BUILD_DIR (default dist)]

import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as ort from 'onnxruntime-node';

const [photo, dir, dist = path.join(import.meta.dirname, '..', 'dist')] = process.argv.slice(2);
if (!photo || !dir) {
  console.error('usage: node bench/classify-ort-node.mjs PHOTO MODEL_DIR [OCELLUS_BUILD_DIR]');
  process.exit(2);
}
const { loadImage, ImageProcessor } = await import(pathToFileURL(path.join(dist, 'src', 'image', 'index.js')).href);
const json = f => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
const processor = ImageProcessor.fromConfig(json('preprocessor_config.json'));
const labels = json('config.json').id2label;
const x = processor.process(await loadImage(photo));
const session = await ort.InferenceSession.create(path.join(dir, 'onnx', 'model.onnx'));
const logits = (await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x.data, x.dims) }))[session.outputNames[0]].data;
// Softmax, unless the output already is a distribution (a graph ending in Softmax, as ocellus's pipeline checks).
let max = -Infinity, total = 0, sum = 0;
for (const v of logits) { max = Math.max(max, v); total += v; }
const isDistribution = Math.abs(total - 1) < 1e-3 && Array.prototype.every.call(logits, v => v >= 0);
const p = isDistribution ? Array.from(logits) : Array.from(logits, v => Math.exp(v - max));
for (const v of p) sum += v;
const results = p.map((v, i) => ({ label: labels[i] ?? String(i), score: v / sum })).sort((a, b) => b.score - a.score).slice(0, 5);
process.stdout.write(JSON.stringify([{ input: photo, results }], null, 2) + '\n', () => process.exit(0));
