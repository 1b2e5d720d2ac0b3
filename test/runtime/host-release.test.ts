// Large float constants live on the device once uploaded (src/runtime/host-release.ts): the session drops their
// host arrays and reads one back only if planning needs its values. Checked structurally (which constants are on
// the host, which buffers they view) and by results: a session that plans new shapes after releasing (batch 1,
// 2, then 1 again, with plans evicted in between) matches onnxruntime and a fresh session, leaks no tensors, and
// frees everything on release().

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import type { ConstTensor, Model } from '../../src/ir/graph.js';
import { encodeModel } from '../../src/onnx/encode.js';
import { RELEASE_MIN_BYTES, canRelease, isReleased, readBackCount, releaseHostData } from '../../src/runtime/host-release.js';
import { ensureBackend } from '../../kernels/backend.js';
import { expectClose, randomConst, randomTensor, runOrt } from '../helpers/cnn-reference.js';

const TOL = { rtol: 1e-4, atol: 1e-4 };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-release-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const floats = (n: number) => n * 4;
const isLarge = (c: ConstTensor) => c.dtype === 'float32' && floats(c.dims.reduce((a, b) => a * b, 1)) >= RELEASE_MIN_BYTES;

/** A small CNN with ResNet's load-time rewrites (Conv+BN folding, NHWC weights, Gemm pre-transpose): two of its
 *  weights are large (conv2: 64×32×3×3, the Gemm: 64×300), the rest small. Batch is symbolic. */
function cnn(): Model {
  const b = new GraphBuilder('cnn');
  const x = b.input('x', 'float32', ['N', 3, 12, 12]);
  const c1 = b.op('Conv', [x, b.init('w1', randomConst([32, 3, 3, 3], 1)), b.init('b1', randomConst([32], 2))], { pads: [1, 1, 1, 1] });
  const bn = b.op('BatchNormalization', [c1, b.init('s', randomConst([32], 3, 0.5, 1.5)), b.init('t', randomConst([32], 4)),
    b.init('m', randomConst([32], 5)), b.init('v', randomConst([32], 6, 0.5, 2))], { epsilon: 1e-5 });
  const r1 = b.op('Relu', [bn]);
  const c2 = b.op('Conv', [r1, b.init('w2', randomConst([64, 32, 3, 3], 7, -0.1, 0.1)), b.init('b2', randomConst([64], 8))], { pads: [1, 1, 1, 1], strides: [2, 2] });
  const r2 = b.op('Relu', [c2]);
  const flat = b.op('Flatten', [b.op('GlobalAveragePool', [r2])]);
  b.node('Gemm', [flat, b.init('fc', randomConst([300, 64], 9, -0.2, 0.2)), b.init('fcb', randomConst([300], 10))], { transB: 1 }, { outputs: ['y'] });
  b.output('y', 'float32', ['N', 300]);
  return b.model(13);
}

/** y = x·W + ReduceSum(W, axis 0): with passes off, every new plan folds ReduceSum(W) on the host, so a plan built
 *  after W was released must read W back from the device. */
function readsWeightWhenPlanning(): Model {
  const b = new GraphBuilder('reads-weight');
  const x = b.input('x', 'float32', ['N', 256]);
  const w = b.init('W', randomConst([256, 128], 11));
  const axes = b.init('axes', { dtype: 'int64', dims: [1], data: BigInt64Array.of(0n) });
  const sum = b.op('ReduceSum', [w, axes], { keepdims: 0 });
  b.node('Add', [b.op('MatMul', [x, w]), sum], {}, { outputs: ['y'] });
  b.output('y', 'float32', ['N', 128]);
  return b.model(13);
}

/** A transformer-ish block the shape-specialised passes look at (MatMul+Add, exact GELU, elementwise Mul by a large
 *  constant): their pattern matchers must decide from dims, never by reading a released weight back. */
function transformerish(): Model {
  const b = new GraphBuilder('transformerish');
  const x = b.input('x', 'float32', ['N', 64, 128]);
  const h = b.op('Add', [b.op('MatMul', [x, b.init('W', randomConst([128, 256], 12, -0.1, 0.1))]), b.init('bias', randomConst([256], 13))]);
  const g = b.op('Mul', [b.op('Mul', [h, b.op('Add', [b.op('Erf', [b.op('Div', [h, b.init('sqrt2', { dtype: 'float32', dims: [], data: Float32Array.of(Math.SQRT2) })])]),
    b.init('one', { dtype: 'float32', dims: [], data: Float32Array.of(1) })])]), b.init('half', { dtype: 'float32', dims: [], data: Float32Array.of(0.5) })]);
  b.node('Mul', [g, b.init('S', randomConst([64, 256], 14, 0.5, 1.5))], {}, { outputs: ['y'] });
  b.output('y', 'float32', ['N', 64, 256]);
  return b.model(13);
}

/** y = x + ReduceSum(W, axis 0): the large W only feeds a folded node, so it stays on the host (passes off). */
function sumOnly(): Model {
  const b = new GraphBuilder('sum-only');
  const x = b.input('x', 'float32', ['N', 128]);
  const axes = b.init('axes', { dtype: 'int64', dims: [1], data: BigInt64Array.of(0n) });
  const sum = b.op('ReduceSum', [b.init('W', randomConst([256, 128], 12)), axes], { keepdims: 0 });
  b.node('Add', [x, sum], {}, { outputs: ['y'] });
  b.output('y', 'float32', ['N', 128]);
  return b.model(13);
}

function writeModel(name: string, m: Model): string {
  const file = path.join(tmp, `${name}.onnx`);
  fs.writeFileSync(file, encodeModel(m));
  return file;
}

/** Every constant the session can reach (its graph and the plan for `feeds`), without reading released data. */
function reachable(s: InferenceSession, feeds: Record<string, Tensor>): Set<ConstTensor> {
  const plan = s.plan(feeds);
  const all = new Set<ConstTensor>([...s.model.graph.initializers.values(), ...plan.graph.initializers.values()]);
  for (const step of plan.steps) for (const c of step.ctx.consts) if (c) all.add(c);
  return all;
}

/** Host arrays that view a larger buffer (the file's bytes): none may remain once the session is built. */
function views(consts: Iterable<ConstTensor>): ConstTensor[] {
  return [...consts].filter(c => !isReleased(c) && ArrayBuffer.isView(c.data) && c.data.byteLength < c.data.buffer.byteLength);
}

beforeAll(() => ensureBackend());

describe('releaseHostData', () => {
  it('reads the values back exactly, once, and puts them away again on the next release', () => {
    const c = randomConst([128, 130], 20);
    const copy = (c.data as Float32Array).slice();
    expect(canRelease(c)).toBe(true);
    const t = tf.tensor(c.data as Float32Array, c.dims);
    try {
      releaseHostData(c, t, 'W');
      expect(isReleased(c)).toBe(true);
      expect(canRelease(c)).toBe(false);
      const back = c.data;
      expect(isReleased(c)).toBe(false);
      expect(c.data, 'the read-back copy stays until released again').toBe(back);
      expect(Buffer.from((back as Float32Array).buffer).equals(Buffer.from(copy.buffer))).toBe(true);
      releaseHostData(c, t, 'W');
      c.data = Float32Array.of(1);   // assigning replaces the device copy as the host value
      expect(isReleased(c)).toBe(false);
      expect(Array.from(c.data as Float32Array)).toEqual([1]);
    } finally {
      t.dispose();
    }
  });

  it('fails naming the constant once its device copy is gone', () => {
    const c = randomConst([128, 130], 21);
    const t = tf.tensor(c.data as Float32Array, c.dims);
    releaseHostData(c, t, 'session m.onnx: constant [128, 130]');
    t.dispose();
    expect(() => c.data).toThrow(/session m\.onnx: constant \[128, 130\]: .*freed with the session/);
  });

  it('only takes large float arrays', () => {
    expect(canRelease(randomConst([RELEASE_MIN_BYTES / 4 - 1], 22))).toBe(false);
    expect(canRelease({ dtype: 'int32', dims: [RELEASE_MIN_BYTES], data: new Int32Array(RELEASE_MIN_BYTES) })).toBe(false);
    expect(canRelease({ dtype: 'float64', dims: [RELEASE_MIN_BYTES], data: new Float64Array(RELEASE_MIN_BYTES) })).toBe(false);
    expect(canRelease({ dtype: 'int8', dims: [RELEASE_MIN_BYTES], data: new Int8Array(RELEASE_MIN_BYTES) })).toBe(false);
  });
});

describe('a session loaded from a file', () => {
  it('keeps no host copy of its large weights and no view of the file, before and after new plans', async () => {
    for (const [name, model, optimize, dims, uploadedLarge] of [
      ['cnn', cnn(), true, [3, 12, 12], 2],          // conv2 and Gemm weights, as the load passes rewrote them
      ['sum-only', sumOnly(), false, [128], 0],       // W is folded into a constant in every plan, never uploaded
    ] as const) {
      const s = await InferenceSession.create(writeModel(name, model), { optimize });
      try {
        const feeds = (n: number) => ({ x: randomTensor([n, ...dims], 30 + n) });
        for (const n of [1, 2, 1]) {
          await s.run(feeds(n));
          const uploaded = s.plan(feeds(n)).constSlots.map(c => c.value).filter(c => isReleased(c) || isLarge(c));
          expect(uploaded.length, `${name} batch ${n}: large uploaded constants`).toBe(uploadedLarge);
          expect(uploaded.filter(c => !isReleased(c)).map(c => c.dims), `${name} batch ${n}: ...still on the host`).toEqual([]);
          expect(views(reachable(s, feeds(n))).map(c => c.dims), `${name} batch ${n}: host arrays viewing the file's bytes`).toEqual([]);
        }
      } finally {
        await s.release();
      }
    }
  });

  it('plans new shapes through the shaped passes without reading a released weight back', async () => {
    const s = await InferenceSession.create(writeModel('transformerish', transformerish()), { maxPlans: 1 });
    try {
      const feeds = (n: number) => ({ x: randomTensor([n, 64, 128], 40 + n) });
      await s.run(feeds(1));
      const released = s.plan(feeds(1)).constSlots.map(c => c.value).filter(c => isReleased(c));
      expect(released.length).toBeGreaterThanOrEqual(1);   // W (and S when uploaded) left the host
      const before = readBackCount();
      for (const n of [2, 3, 1]) await s.run(feeds(n));   // each a new plan (maxPlans 1): the shaped passes run again
      expect(readBackCount() - before).toBe(0);
      const want = await runOrt(transformerish(), { x: feeds(1).x });
      expectClose((await s.run(feeds(1))).y!, want.y!, TOL, 'batch 1 after re-planning');
    } finally {
      await s.release();
    }
  });

  it('plans batch 1, 2, then 1 again after its weights left the host: same as onnxruntime and fresh sessions, no leaks', async () => {
    for (const [name, model, optimize, dims] of [
      ['cnn', cnn(), true, [3, 12, 12]],
      ['reads-weight', readsWeightWhenPlanning(), false, [256]],
    ] as const) {
      const file = writeModel(name, model);
      const feeds = (n: number) => ({ x: randomTensor([n, ...dims], 40 + n) });
      const base = tf.memory().numTensors;
      // maxPlans 1: every new shape evicts the previous plan, so batch 1 is planned twice, the second time after release.
      const s = await InferenceSession.create(file, { optimize, maxPlans: 1, checkShapes: true });
      const weight = [...s.model.graph.initializers.values()].find(isReleased);
      expect(weight, `${name}: a released weight`).toBeDefined();
      let tensors: number | undefined;
      const got: Tensor[] = [];
      for (const n of [1, 2, 1]) {
        got.push((await s.run(feeds(n))).y!);
        tensors ??= tf.memory().numTensors;
        expect(tf.memory().numTensors, `${name} batch ${n}: live tensors`).toBe(tensors);
        expect(isReleased(weight!), `${name} batch ${n}: the weight is off the host again after planning`).toBe(true);
      }
      expect(Buffer.from((got[2]!.data as Float32Array).buffer).equals(Buffer.from((got[0]!.data as Float32Array).buffer)),
        `${name}: batch 1 re-planned after release gives the same bits`).toBe(true);
      for (const [i, n] of [1, 2, 1].entries()) {
        expectClose(got[i], (await runOrt(model, feeds(n))).y, TOL, `${name} batch ${n} vs onnxruntime`);
        const fresh = await InferenceSession.create(file, { optimize });
        expectClose(got[i], (await fresh.run(feeds(n))).y, { rtol: 0, atol: 1e-6 }, `${name} batch ${n} vs a fresh session`);
        await fresh.release();
      }
      await s.release();
      expect(tf.memory().numTensors, `${name}: release() frees every tensor`).toBe(base);
      expect(() => weight!.data, `${name}: a released weight after release()`).toThrow(/freed with the session/);
    }
  });
});

describe('a session created from a Model object', () => {
  it('never releases or rewrites the caller\'s constants', async () => {
    const model = readsWeightWhenPlanning();
    const w = model.graph.initializers.get('W')!;
    const before = (w.data as Float32Array).slice();
    const s = await InferenceSession.create(model, { optimize: false });
    const y1 = (await s.run({ x: randomTensor([2, 256], 50) })).y!;
    await s.release();
    expect(isReleased(w)).toBe(false);
    expect(Buffer.from((w.data as Float32Array).buffer).equals(Buffer.from(before.buffer))).toBe(true);
    const again = await InferenceSession.create(model, { optimize: false });
    expectClose((await again.run({ x: randomTensor([2, 256], 50) })).y, y1, { rtol: 0, atol: 0 }, 'the same model in a second session');
    await again.release();
  });
});
