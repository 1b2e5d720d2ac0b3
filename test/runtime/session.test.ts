// What a session owns on the device (src/runtime/session.ts): the uploads of its constants and what kernels derived
// from them when planning (packed weights in the WASM heap, ConvTranspose filters). Counted three ways: the
// session's own memory(), the heap's packed blocks and bytes (packedStats), and tf.memory().numTensors. Creating and
// releasing sessions returns all three to the baseline; an evicted plan frees what only it used.

import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureBackend } from '../../kernels/backend.js';
import { ownGemm, packedLength, packedStats, setOwnGemm, winogradLength } from '../../kernels/wasm/gemm.js';
import { InferenceSession } from '../../src/index.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import type { Model } from '../../src/ir/graph.js';
import { randomConst, randomTensor } from '../helpers/cnn-reference.js';

beforeAll(async () => {
  await ensureBackend();
});
afterEach(() => setOwnGemm(undefined));

/** NHWC after the load passes: a 3×3 conv (Winograd), a 1×1 conv, a MatMul head. Batch is symbolic. */
function cnn(): Model {
  const b = new GraphBuilder('cnn');
  const x = b.input('x', 'float32', ['N', 8, 6, 6]);
  const c1 = b.op('Relu', [b.op('Conv', [x, b.init('w1', randomConst([8, 8, 3, 3], 1)), b.init('b1', randomConst([8], 2))], { pads: [1, 1, 1, 1] })]);
  const c2 = b.op('Conv', [c1, b.init('w2', randomConst([16, 8, 1, 1], 3)), b.init('b2', randomConst([16], 4))]);
  const flat = b.op('Flatten', [b.op('GlobalAveragePool', [c2])]);
  b.node('MatMul', [flat, b.init('fc', randomConst([16, 10], 5))], {}, { outputs: ['y'] });
  b.output('y', 'float32', ['N', 10]);
  return b.model(13);
}

const PACKED_BYTES = (winogradLength(8, 8) + packedLength(8, 16) + packedLength(16, 10)) * 4;

describe('InferenceSession: what it owns', () => {
  it('create + run + release N sessions: packed heap blocks, bytes and tensors return to the baseline', async () => {
    if (!ownGemm()) return;   // no relaxed SIMD here: nothing is packed (tfjs runs the products)
    const base = { tensors: tf.memory().numTensors, ...packedStats() };
    const feeds = { x: randomTensor([2, 8, 6, 6], 6) };
    let first: Float32Array | undefined;
    for (let i = 0; i < 5; i++) {
      const s = await InferenceSession.create(cnn());
      expect(s.memory()).toMatchObject({ plans: 1, derived: 3 });
      expect(packedStats().count - base.count).toBe(3);
      expect(packedStats().bytes - base.bytes).toBe(PACKED_BYTES);
      const y = (await s.run(feeds))['y']!.data as Float32Array;   // a second plan (batch 2) shares the packed weights
      expect(s.memory()).toMatchObject({ plans: 2, derived: 3 });
      expect(packedStats().count - base.count).toBe(3);
      if (first) expect(y).toEqual(first);
      first ??= y;
      await s.release();
      expect(s.memory()).toEqual({ plans: 0, uploads: 0, derived: 0 });
      expect(packedStats()).toEqual({ count: base.count, bytes: base.bytes });
      expect(tf.memory().numTensors).toBe(base.tensors);
    }
  });

  it('an evicted plan frees the packed weights only it used', async () => {
    if (!ownGemm()) return;
    // y = x · (W + 0): with the load passes off the Add folds while planning, into a new constant per plan, packed
    // for that plan's MatMul.
    const b = new GraphBuilder('per-plan');
    const x = b.input('x', 'float32', ['N', 12]);
    const w = b.op('Add', [b.init('W', randomConst([12, 5], 7)), b.init('zero', { dtype: 'float32', dims: [], data: Float32Array.of(0) })]);
    b.node('MatMul', [x, w], {}, { outputs: ['y'] });
    b.output('y', 'float32', ['N', 5]);
    const base = { tensors: tf.memory().numTensors, ...packedStats() };
    const s = await InferenceSession.create(b.model(13), { optimize: false, maxPlans: 1 });
    expect(s.memory()).toMatchObject({ plans: 1, derived: 1 });
    for (const n of [2, 3, 1]) {
      await s.run({ x: randomTensor([n, 12], n) });
      expect(s.memory(), `after batch ${n}: one plan, its folded weight uploaded and packed once`).toMatchObject({ plans: 1, derived: 1 });
      expect(packedStats().count - base.count).toBe(1);
    }
    await s.release();
    expect(packedStats().count).toBe(base.count);
    expect(tf.memory().numTensors).toBe(base.tensors);
  });

  it('with the kernel off, nothing is packed and the results are those of the tfjs path', async () => {
    const feeds = { x: randomTensor([1, 8, 6, 6], 8) };
    const on = await InferenceSession.create(cnn());
    const yOn = (await on.run(feeds))['y']!;
    await on.release();
    setOwnGemm(false);
    const blocks = packedStats().count;
    const off = await InferenceSession.create(cnn());
    expect(off.memory().derived).toBe(0);
    expect(packedStats().count).toBe(blocks);
    const yOff = (await off.run(feeds))['y']!;
    await off.release();
    const a = yOn.data as Float32Array, c = yOff.data as Float32Array;
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - c[i]!)).toBeLessThan(1e-4 * (1 + Math.abs(c[i]!)));
  });
});
