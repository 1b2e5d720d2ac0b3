// Full-size ViT-B/16 (seeded weights, the torch opset-14 export's graph; built once into the test cache) against
// onnxruntime-web on the same seeded input: logits within 1e-3 with graph passes on and off. Logs what each pass
// removed and the time per run (batch 1) of ocellus fused, unfused and onnxruntime-web (WASM, 1 thread).

import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { SeededNormal } from '../../weights-tools/vit/seeded-normal.js';
import { vitB16Dir } from '../helpers/models.js';

const SHAPE = [1, 3, 224, 224];
const TIMED_RUNS = 3;

function seededInput(seed: number): Float32Array {
  const r = new SeededNormal(seed);
  return Float32Array.from({ length: SHAPE.reduce((a, b) => a * b, 1) }, () => r.normal());
}

async function medianMs(runs: number, f: () => Promise<unknown>): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await f();
    ms.push(performance.now() - t0);
  }
  return ms.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

describe('ViT-B/16 seeded vs onnxruntime-web (full size, slow)', () => {
  let modelPath: string;
  const x = seededInput(2024);
  let want: Float32Array;

  beforeAll(async () => {
    modelPath = path.join(await vitB16Dir(), 'onnx/model.onnx');
    ort.env.wasm.numThreads = 1;
    const s = await ort.InferenceSession.create(modelPath);
    const feeds = { pixel_values: new ort.Tensor('float32', x, SHAPE) };
    want = (await s.run(feeds)).logits!.data as Float32Array;
    const ms = await medianMs(TIMED_RUNS, () => s.run(feeds));
    console.log(`onnxruntime-web (wasm, 1 thread): ${ms.toFixed(0)} ms per run (median of ${TIMED_RUNS})`);
    await s.release();
  });

  for (const optimize of [true, false]) {
    it(`logits within 1e-3 of onnxruntime-web, passes ${optimize ? 'on' : 'off'}`, async () => {
      const t0 = performance.now();
      const s = await InferenceSession.create(modelPath, { optimize });
      const loadMs = performance.now() - t0;
      try {
        const feeds = { pixel_values: new Tensor('float32', x, SHAPE) };
        const before = tf.memory().numTensors;
        const got = (await s.run(feeds)).logits!;
        expect(tf.memory().numTensors, 'tensors leaked by run()').toBe(before);
        expect([...got.dims]).toEqual([1, 1000]);
        let maxDiff = 0;
        const g = got.data as Float32Array;
        for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(g[i]! - want[i]!));
        const ms = await medianMs(TIMED_RUNS, () => s.run(feeds));
        const steps = s.plan(feeds).steps.length;
        console.log(`ocellus passes ${optimize ? 'on' : 'off'}: max |diff| vs onnxruntime-web ${maxDiff.toExponential(2)}, ` +
          `${ms.toFixed(0)} ms per run (median of ${TIMED_RUNS}), ${steps} steps, session created in ${loadMs.toFixed(0)} ms`);
        expect(maxDiff).toBeLessThanOrEqual(1e-3);
        if (optimize) {
          for (const r of s.passReport) console.log(`  ${r.pass}: ${r.changes} rewrite(s), ${r.removed} node(s) removed`);
          const ops = new Map<string, number>();
          for (const n of s.plan(feeds).graph.nodes) ops.set(`${n.domain}:${n.opType}`, (ops.get(`${n.domain}:${n.opType}`) ?? 0) + 1);
          expect(ops.get('local:Attention')).toBe(12);
          expect(ops.get('local:LayerNorm')).toBe(25);
          expect(ops.get('local:Gelu') ?? 0).toBe(0);   // each GELU rides in its MLP product
          expect(s.plan(feeds).graph.nodes.filter(n => n.attrs['activation']?.value === 'gelu')).toHaveLength(12);
          expect(ops.get('local:FusedMatMul')).toBe(72);   // Q, K, V, output, two MLP linears per layer
          expect(ops.get(':Softmax') ?? 0).toBe(0);
          expect(s.passReport.find(r => r.pass === 'fuse-attention')?.changes).toBe(12);
          expect(s.passReport.find(r => r.pass === 'fuse-matmul-residual')?.changes).toBe(24);   // both residual Adds per layer
          expect(ops.get(':Add') ?? 0).toBe(1);   // left: the position embeddings
        }
      } finally {
        await s.release();
      }
    });
  }
});
