// Helpers for the CNN kernel and pass tests: seeded random tensors, running an IR model through ocellus (passes on
// or off) and through onnxruntime-node (the independent reference), and an element-wise closeness check.

import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import type { Graph, Model } from '../../src/ir/graph.js';
import type { Pass } from '../../src/passes/types.js';
import { opFacts } from '../../src/runtime/op-facts.js';
import { cloneGraph } from '../../src/runtime/plan.js';
import { encodeModel } from '../../src/onnx/encode.js';
import { compare, type Tolerance } from './onnx-tests.js';

// The seeded inputs, re-exported for the files that import them from here (one generator: ./random.ts).
export { randomConst, randomData, randomTensor, rng } from './random.js';

export interface OcellusRun {
  outputs: Record<string, Tensor>;
  session: InferenceSession;
  /** Op types of the plan for these feeds ('local:NhwcConv' for our own ops). */
  ops: string[];
}

/** Runs `model` through InferenceSession with shape checks; asserts run() leaks no tensors. Releases the session. */
export async function runOcellus(model: Model, feeds: Record<string, Tensor>, optimize: boolean): Promise<OcellusRun> {
  const session = await InferenceSession.create(model, { optimize, checkShapes: true });
  try {
    const ops = session.plan(feeds).steps.map(s => (s.node.domain ? `${s.node.domain}:` : '') + s.node.opType);
    const before = tf.memory().numTensors;
    const outputs = await session.run(feeds);
    expect(tf.memory().numTensors, 'tensors leaked by run()').toBe(before);
    return { outputs, session, ops };
  } finally {
    await session.release();
  }
}

/** onnxruntime-node with graph optimisations off, as the reference. */
export async function runOrt(model: Model, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const s = await ort.InferenceSession.create(encodeModel(model), { graphOptimizationLevel: 'disabled' });
  const ortFeeds = Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, new ort.Tensor(t.type as 'float32', t.data as Float32Array, [...t.dims])]));
  const out = await s.run(ortFeeds);
  await s.release();
  return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, new Tensor(t.type as 'float32', t.data as Float32Array, [...t.dims])]));
}

export function expectClose(actual: Tensor | undefined, expected: Tensor | undefined, tol: Tolerance, what: string): number {
  expect(actual, `${what}: missing`).toBeDefined();
  expect(expected, `${what}: reference missing`).toBeDefined();
  expect([...actual!.dims], `${what}: dims`).toEqual([...expected!.dims]);
  const c = compare(actual!, expected!, tol);
  if (!c.ok) {
    const a = Number((actual!.data as ArrayLike<number>)[c.worst]), b = Number((expected!.data as ArrayLike<number>)[c.worst]);
    expect.fail(`${what}: element ${c.worst} is ${a}, expected ${b} (max |diff| ${c.maxDiff}, tol ${JSON.stringify(tol)})`);
  }
  return c.maxDiff;
}

/** Runs the model through onnxruntime and through ocellus with passes off and on; every output must match ORT. */
export async function checkAgainstOrt(model: Model, feeds: Record<string, Tensor>, tol: Tolerance = { rtol: 1e-4, atol: 1e-5 }): Promise<{ plain: OcellusRun; optimized: OcellusRun }> {
  const want = await runOrt(model, feeds);
  const plain = await runOcellus(model, feeds, false);
  const optimized = await runOcellus(model, feeds, true);
  for (const [name, t] of Object.entries(want)) {
    expectClose(plain.outputs[name], t, tol, `${name} (passes off)`);
    expectClose(optimized.outputs[name], t, tol, `${name} (passes on)`);
  }
  return { plain, optimized };
}

/** Applies load-time passes in order, once each, to a copy of the model; returns the copy and each pass's count. */
export function applyPasses(model: Model, passes: readonly Pass[]): { model: Model; counts: number[] } {
  const g = cloneGraph(model.graph);
  const counts = passes.map(p => p.run(g, { opsets: model.opsets, facts: opFacts(model.opsets) }));
  return { model: { ...model, graph: g }, counts };
}

/** The op types of a graph in order, 'local:NhwcConv' for our own domain. */
export function opTypesOf(g: Graph): string[] {
  return g.nodes.map(n => (n.domain ? `${n.domain}:${n.opType}` : n.opType));
}

/** ocellus (passes on, shape checks, no leaks) vs onnxruntime-node on output 'y': same type, dims and values. */
export async function againstOrt(model: Model, feeds: Record<string, Tensor>, tol = { rtol: 1e-5, atol: 1e-6 }): Promise<Tensor> {
  const want = (await runOrt(model, feeds)).y!;
  const got = (await runOcellus(model, feeds, true)).outputs.y!;
  expect(got.type).toBe(want.type);
  expectClose(got, want, tol, 'y');
  return got;
}
