// The graph passes do work linear in the graph's size. Long chains (Relu, Identity, Conv + BatchNormalization with
// small constant weights, inverse Transpose pairs, Transposes sinking through 247 Relus each, MatMul + bias: fused by
// a shaped pass, Gemm with transB = 1: its weight transposed at load) and a fan (one value read by half the nodes)
// are loaded through the real session from encoded bytes at N = 1,000 and N = 10,000 nodes; the index and graph
// helpers count what they touch (irStats.visits), and ten times the nodes may cost at most 11 times the visits
// (linear work gives 10 plus constant terms; a pass rebuilding its maps per node gives ~100). The 1,000-node models
// run against onnxruntime on the original graph (running the 10,000-node ones would only cost time). The old passes
// took 62 s (Relu), 87 s (Transpose pairs) and over 150 s (Conv + BatchNormalization) to load these (visits ×100);
// the test timeout is the hang watchdog.

import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import type { ConstTensor, Model } from '../../src/ir/graph.js';
import { irStats } from '../../src/ir/graph-index.js';
import { encodeModel } from '../../src/onnx/encode.js';
import { expectClose, randomTensor, runOrt } from '../helpers/cnn-reference.js';

type Chain = 'relu' | 'identity' | 'conv-bn' | 'transpose-pairs' | 'transpose-sink' | 'matmul-add' | 'gemm' | 'fan';

/** Small positive constants, varied per layer (a 1×1 conv over 2 channels). */
function small(dims: number[], k: number, scale = 1): ConstTensor {
  const n = dims.reduce((a, d) => a * d, 1);
  return { dtype: 'float32', dims, data: Float32Array.from({ length: n }, (_, i) => scale * (0.3 + 0.05 * ((i + k) % 7))) };
}

const SINK = 250;

/** A chain of `n` nodes (plus a final Identity writing the output 'y'). 'matmul-add': MatMul + bias pairs, fused by
 *  a shaped pass when planning; 'fan': n/2 Relus all reading x, summed by n/2 − 1 Adds (x has n/2 readers). */
function chain(kind: Chain, n: number): Model {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [1, 2, 3, 3]);
  const flat = kind === 'matmul-add' || kind === 'gemm';
  let v = flat ? b.op('Reshape', [x, b.init('flat', { dtype: 'int64', dims: [2], data: BigInt64Array.of(1n, 18n) })]) : x;
  if (kind === 'fan') v = b.op('Relu', [x]);
  for (let i = 0; i < n; i += kind === 'relu' || kind === 'identity' || kind === 'transpose-sink' || kind === 'gemm' ? 1 : 2) {
    if (kind === 'relu') v = b.op('Relu', [v]);
    else if (kind === 'fan') { if (i > 0) v = b.op('Add', [v, b.op('Relu', [x])]); }
    else if (kind === 'gemm') v = b.op('Gemm', [v, b.init(`w${i}`, small([18, 18], i, 0.1)), b.init(`b${i}`, small([18], i))], { transB: 1 });
    else if (kind === 'matmul-add') v = b.op('Add', [b.op('MatMul', [v, b.init(`w${i}`, small([18, 18], i, 0.1))]), b.init(`b${i}`, small([18], i))]);
    else if (kind === 'identity') v = b.op('Identity', [v]);
    else if (kind === 'transpose-sink') {
      // Blocks of SINK nodes: a Transpose sinks through the block's Relus, one a round, to cancel with its inverse;
      // a Softmax (no Transpose sinks through it) ends each block.
      if (i % SINK === 0) v = b.op('Transpose', [v], { perm: [0, 2, 3, 1] });
      else if (i % SINK === SINK - 2) v = b.op('Transpose', [v], { perm: [0, 3, 1, 2] });
      else if (i % SINK === SINK - 1) v = b.op('Softmax', [v], { axis: -1 });
      else v = b.op('Relu', [v]);
    } else if (kind === 'transpose-pairs') v = b.op('Transpose', [b.op('Transpose', [v], { perm: [0, 2, 3, 1] })], { perm: [0, 3, 1, 2] });
    else {
      v = b.op('Conv', [v, b.init(`w${i}`, small([2, 2, 1, 1], i)), b.init(`b${i}`, small([2], i + 1))]);
      v = b.op('BatchNormalization', [v, ...['scale', 'beta', 'mean', 'var'].map((p, k) => b.init(`${p}${i}`, small([2], i + k)))]);
    }
  }
  if (flat) v = b.op('Reshape', [v, b.init('back', { dtype: 'int64', dims: [4], data: BigInt64Array.of(1n, 2n, 3n, 3n) })]);
  b.node('Identity', [v], {}, { outputs: ['y'] });
  b.output('y', 'float32', [1, 2, 3, 3]);
  return b.model(13);
}

/** What the plan must hold after the passes: op type → count. */
function expectedOps(kind: Chain, n: number): Record<string, number> {
  switch (kind) {
    case 'relu': return { Relu: n };
    case 'identity': return { Identity: 1 };   // x → y: a graph input cannot take the output's name
    case 'transpose-pairs': return { Transpose: 1 };   // the pairs compose to one identity perm from x to y
    case 'transpose-sink': return { Relu: n - 3 * (n / SINK), Softmax: n / SINK };
    case 'conv-bn': return { Transpose: 2, 'local:NhwcConv': n / 2 };
    case 'matmul-add': return { Reshape: 2, 'local:FusedMatMul': n / 2 };
    case 'gemm': return { Reshape: 2, Gemm: n };
    case 'fan': return { Relu: n / 2, Add: n / 2 - 1 };
  }
}

async function load(kind: Chain, n: number): Promise<{ session: InferenceSession; visits: number; model: Model }> {
  const model = chain(kind, n);
  const bytes = encodeModel(model);
  irStats.visits = 0;
  const session = await InferenceSession.create(bytes);
  return { session, visits: irStats.visits, model };
}

function opCounts(session: InferenceSession, feeds: Record<string, Tensor>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of session.plan(feeds).steps) {
    const op = (s.node.domain ? `${s.node.domain}:` : '') + s.node.opType;
    counts[op] = (counts[op] ?? 0) + 1;
  }
  return counts;
}

describe('graph passes are linear in graph size', () => {
  const feeds = { x: randomTensor([1, 2, 3, 3], 7) };

  for (const kind of ['relu', 'identity', 'conv-bn', 'transpose-pairs', 'transpose-sink', 'matmul-add', 'gemm', 'fan'] as const) {
    it(`${kind}: 10,000 nodes cost at most 11× the visits of 1,000; the passes compute what onnxruntime does`, async () => {
      const small = await load(kind, 1000);
      try {
        expect(opCounts(small.session, feeds)).toEqual(expectedOps(kind, 1000));
        const want = await runOrt(small.model, feeds);
        const before = tf.memory().numTensors;
        const got = await small.session.run(feeds);
        expect(tf.memory().numTensors, 'tensors leaked by run()').toBe(before);
        expectClose(got['y'], want['y'], { rtol: 1e-4, atol: 1e-5 }, `${kind} y`);
      } finally {
        await small.session.release();
      }
      const big = await load(kind, 10_000);
      expect(opCounts(big.session, feeds)).toEqual(expectedOps(kind, 10_000));
      await big.session.release();
      expect(small.visits, 'every node is visited at least once').toBeGreaterThanOrEqual(1000);
      expect(big.visits / small.visits, `visits ${small.visits} → ${big.visits}`).toBeLessThanOrEqual(11);
    });
  }
});
