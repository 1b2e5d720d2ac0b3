// The three tiny ViT fixtures (HF opset 14 with decomposed LayerNorm, HF opset 17 with LayerNormalization, torchvision
// opset 13 with nn.MultiheadAttention) against their stored onnxruntime outputs, with graph passes on (fused) and
// off, at batch 1 and 2; with passes on, the planned graph must hold the fused transformer ops and not their parts.

import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { SHARED, compare, dataSets, readTensorPb, runOnnxTestFolder } from '../helpers/onnx-tests.js';
import { haveTestData } from '../helpers/test-data.js';

const TOL = { rtol: 1e-3, atol: 1e-4 };
const FIXTURES = ['vit-hf-tiny-op14', 'vit-hf-tiny-op17', 'vit-tv-tiny-op13'];
// 2 encoder layers: 2 attentions, 2×2 + 1 LayerNorms; the 2 GELUs ride in their MLP products (FusedMatMul).
const FUSED = { 'local:Attention': 2, 'local:LayerNorm': 5 };
const PARTS = ['Softmax', 'Erf', 'ReduceMean', 'Sqrt', 'Pow', 'LayerNormalization', 'MatMul', 'local:Gelu'];

const dirOf = (f: string) => path.join(SHARED, 'fixtures', f);

function stack2(t: Tensor): Tensor {
  const d = t.data as Float32Array, out = new Float32Array(d.length * 2);
  out.set(d); out.set(d, d.length);
  return new Tensor('float32', out, [2, ...t.dims.slice(1)]);
}

function opCounts(s: InferenceSession, feeds: Record<string, Tensor>): Map<string, number> {
  const m = new Map<string, number>();
  for (const n of s.plan(feeds).graph.nodes) {
    const k = n.domain ? `${n.domain}:${n.opType}` : n.opType;
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

describe.skipIf(!haveTestData(FIXTURES.map(dirOf), 'the ViT fixtures of ../shared'))('ViT fixtures', () => {
  for (const f of FIXTURES) {
    for (const optimize of [true, false]) {
      const mode = optimize ? 'fused' : 'unfused';

      it(`${f} (${mode}): every stored data set`, async () => {
        const diff = await runOnnxTestFolder(dirOf(f), TOL, { optimize });
        console.log(`${f} ${mode}: max |diff| vs onnxruntime ${diff.toExponential(2)}`);
      });

      it(`${f} (${mode}): batch 2 of set 0's input twice gives set 0's output in both rows, and the expected graph`, async () => {
        const set = dataSets(dirOf(f))[0]!;
        const x = readTensorPb(path.join(set, 'input_0.pb')).tensor;
        const want = readTensorPb(path.join(set, 'output_0.pb')).tensor;
        const logged: string[] = [];
        const s = await InferenceSession.create(path.join(dirOf(f), 'model.onnx'), { optimize, checkShapes: true, logPasses: l => logged.push(l) });
        try {
          // The session's report (and the DEBUG_PASSES log) covers the shaped passes of the first plan too.
          const rewrites = Object.fromEntries(s.passReport.map(r => [r.pass, r.changes]));
          if (optimize) {
            // Both residual Adds of a layer go into products in the Hugging Face exports; torchvision's attention output
            // reaches its Add through a Transpose (sequence-first layout), so only its MLP residuals do.
            const residuals = f.startsWith('vit-tv') ? 2 : 4;
            expect(rewrites).toMatchObject({ 'fuse-attention': 2, 'fuse-gelu': 2, 'fuse-layernorm': 5, 'fuse-matmul-activation': 2, 'fuse-matmul-residual': residuals });
            expect(logged.some(l => /^\[pass\] fuse-attention: 2 rewrite\(s\), \d+ node\(s\) removed/.test(l)), logged.join('\n')).toBe(true);
          } else {
            expect(s.passReport).toEqual([]);
          }
          const feeds = { [s.inputNames[0]!]: stack2(x) };
          s.plan(feeds);   // planning for the new batch size uploads its constants: outside the count
          const before = tf.memory().numTensors;
          const y = (await s.run(feeds))[s.outputNames[0]!]!;
          expect(tf.memory().numTensors, 'tensors leaked by run()').toBe(before);
          expect([...y.dims]).toEqual([2, ...want.dims.slice(1)]);
          const n = want.data.length;
          for (const row of [0, 1]) {
            const got = new Tensor('float32', (y.data as Float32Array).slice(row * n, (row + 1) * n), [...want.dims]);
            const c = compare(got, want, TOL);
            expect(c.ok, `row ${row}: max |diff| ${c.maxDiff}`).toBe(true);
          }
          for (const feedsAt of [{ [s.inputNames[0]!]: x }, feeds]) {
            const ops = opCounts(s, feedsAt);
            for (const [op, count] of Object.entries(FUSED)) expect(ops.get(op) ?? 0, `${op} in the ${mode} plan`).toBe(optimize ? count : 0);
            if (optimize) for (const part of PARTS) expect(ops.get(part) ?? 0, `${part} left in the fused plan`).toBe(0);
          }
        } finally {
          await s.release();
        }
      });
    }
  }
});
