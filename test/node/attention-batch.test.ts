// local:Attention at batch 1, 2 and 8, both layouts, Nq ≠ Nk and Dv ≠ D, against onnxruntime-node running the
// unfused ONNX subgraph (Reshape → Transpose → MatMul → Mul → Softmax → MatMul → Transpose → Reshape). Each case
// runs the node several times: same output every run, no tensor left behind.

import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import type { ConstTensor } from '../../src/ir/graph.js';
import { expectClose, randomTensor, runOrt } from '../helpers/cnn-reference.js';

interface Case { layout: 'bnc' | 'nbc'; B: number; Nq: number; Nk: number; H: number; D: number; Dv: number }

const ints = (v: number[]): ConstTensor => ({ dtype: 'int64', dims: [v.length], data: BigInt64Array.from(v.map(BigInt)) });

/** [B, N, C] ('bnc') or [N, B, C] ('nbc'). */
const shapeOf = (c: Case, n: number, ch: number) => (c.layout === 'nbc' ? [n, c.B, ch] : [c.B, n, ch]);

/** The graph local:Attention stands for, from standard ops only: heads split by Reshape + Transpose. */
function unfused(c: Case, scale: number) {
  const b = new GraphBuilder();
  const seqFirst = c.layout === 'nbc';
  const split = (x: string, n: number, d: number, kT: boolean) => {
    const perm = seqFirst ? (kT ? [1, 2, 3, 0] : [1, 2, 0, 3]) : (kT ? [0, 2, 3, 1] : [0, 2, 1, 3]);
    const [a0, a1] = shapeOf(c, n, 0);
    return b.op('Transpose', [b.op('Reshape', [x, b.init(`split_${x}`, ints([a0!, a1!, c.H, d]))])], { perm });
  };
  const q = split(b.input('q', 'float32', shapeOf(c, c.Nq, c.H * c.D)), c.Nq, c.D, false);
  const k = split(b.input('k', 'float32', shapeOf(c, c.Nk, c.H * c.D)), c.Nk, c.D, true);
  const v = split(b.input('v', 'float32', shapeOf(c, c.Nk, c.H * c.Dv)), c.Nk, c.Dv, false);
  const scores = b.op('Mul', [b.op('MatMul', [q, k]), b.init('scale', { dtype: 'float32', dims: [], data: Float32Array.of(scale) })]);
  const o = b.op('MatMul', [b.op('Softmax', [scores], { axis: -1 }), v]);   // [B, H, Nq, Dv]
  const merged = b.op('Transpose', [o], { perm: seqFirst ? [2, 0, 1, 3] : [0, 2, 1, 3] });
  b.graph.nodes.push({ name: 'merge', opType: 'Reshape', domain: '', inputs: [merged, b.init('merge_shape', ints(shapeOf(c, c.Nq, c.H * c.Dv)))], outputs: ['y'], attrs: {} });
  b.output('y');
  return b.model(13);
}

function fused(c: Case, scale: number) {
  const b = new GraphBuilder();
  const ins = [b.input('q', 'float32', shapeOf(c, c.Nq, c.H * c.D)), b.input('k', 'float32', shapeOf(c, c.Nk, c.H * c.D)), b.input('v', 'float32', shapeOf(c, c.Nk, c.H * c.Dv))];
  b.node('Attention', ins, { heads: c.H, scale, layout: c.layout }, { domain: 'local', outputs: ['y'] });
  b.output('y');
  return b.model(17);
}

/** Runs the fused node `runs` times; asserts every run gives the same values and leaves no tensor behind. */
async function runFused(c: Case, scale: number, feeds: Record<string, Tensor>, runs = 2): Promise<Tensor> {
  const s = await InferenceSession.create(fused(c, scale), { optimize: false, checkShapes: true });
  try {
    const first = (await s.run(feeds)).y!;   // warm: the first run may allocate backend state
    const before = tf.memory().numTensors;
    for (let r = 1; r < runs; r++) {
      const y = (await s.run(feeds)).y!;
      expect(tf.memory().numTensors, `tensors after run ${r + 1}`).toBe(before);
      expect(y.data, `run ${r + 1} differs from run 1`).toEqual(first.data);
    }
    return first;
  } finally {
    await s.release();
  }
}

const VIT = { Nq: 197, Nk: 197, H: 12, D: 64, Dv: 64 };   // ViT-B/16: 12 heads of 64 over 197 tokens
const cases: (Case & { what: string })[] = [
  ...[1, 2, 8].map(B => ({ what: 'ViT-B/16 (HF)', layout: 'bnc' as const, B, ...VIT })),
  ...[1, 2, 8].map(B => ({ what: 'torch MHA, head by head', layout: 'nbc' as const, B, Nq: 50, Nk: 50, H: 4, D: 16, Dv: 16 })),
  ...[1, 8].map(B => ({ what: 'Nq ≠ Nk, Dv ≠ D', layout: 'bnc' as const, B, Nq: 40, Nk: 60, H: 3, D: 16, Dv: 8 })),
  ...[2, 8].map(B => ({ what: 'Nq ≠ Nk, Dv ≠ D', layout: 'nbc' as const, B, Nq: 60, Nk: 40, H: 3, D: 16, Dv: 24 })),
  ...[1, 8].map(B => ({ what: 'small, one batched product', layout: 'nbc' as const, B, Nq: 4, Nk: 6, H: 2, D: 3, Dv: 5 })),
];

describe('local:Attention by batch size (vs onnxruntime on the unfused subgraph)', () => {
  for (const c of cases) {
    it(`${c.what}: ${c.layout} B=${c.B} Nq=${c.Nq} Nk=${c.Nk} H=${c.H} D=${c.D} Dv=${c.Dv}`, async () => {
      const scale = 1 / Math.sqrt(c.D);
      const feeds = {
        q: randomTensor(shapeOf(c, c.Nq, c.H * c.D), 100 + c.B, -2, 2),
        k: randomTensor(shapeOf(c, c.Nk, c.H * c.D), 200 + c.B, -2, 2),
        v: randomTensor(shapeOf(c, c.Nk, c.H * c.Dv), 300 + c.B),
      };
      const want = (await runOrt(unfused(c, scale), feeds)).y!;
      expectClose(await runFused(c, scale, feeds), want, { rtol: 1e-4, atol: 1e-5 }, 'y');
    });
  }

  it('batch b of a batch-8 run equals a batch-1 run on that item alone', async () => {
    const c: Case = { layout: 'bnc', B: 8, ...VIT };
    const feeds = Object.fromEntries(['q', 'k', 'v'].map((name, i) => [name, randomTensor([8, 197, 768], 400 + i)]));
    const all = await runFused(c, 0.125, feeds, 1);
    const item = 5, size = 197 * 768;
    const one = Object.fromEntries(Object.entries(feeds).map(([name, t]) =>
      [name, new Tensor('float32', (t.data as Float32Array).slice(item * size, (item + 1) * size), [1, 197, 768])]));
    const alone = await runFused({ ...c, B: 1 }, 0.125, one, 1);
    expect(Array.from((all.data as Float32Array).subarray(item * size, (item + 1) * size))).toEqual(Array.from(alone.data as Float32Array));
  });
});
