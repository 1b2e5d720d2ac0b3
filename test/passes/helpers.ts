// Shared by the pass tests: run a model without passes, apply one pass the way the planner does (after inferring
// shapes and folding for concrete inputs), run the rewritten graph, and compare.

import { expect } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import type { ConstTensor, Graph, Model, TensorInfo } from '../../src/ir/graph.js';
import type { Pass } from '../../src/passes/types.js';
import { opFacts } from '../../src/runtime/op-facts.js';
import { cloneGraph, evaluateNode, inferAndFold } from '../../src/runtime/plan.js';
import { randomTensor as uniformTensor } from '../helpers/random.js';

export { randomConst } from '../helpers/random.js';

export function scalar(v: number, dims: number[] = []): ConstTensor {
  return { dtype: 'float32', dims, data: Float32Array.of(v) };
}

export function ints(values: number[]): ConstTensor {
  return { dtype: 'int64', dims: [values.length], data: BigInt64Array.from(values.map(BigInt)) };
}

/** The pass tests' inputs: uniform in [-2, 2). */
export function randomTensor(dims: number[], seed: number): Tensor {
  return uniformTensor(dims, seed, -2, 2);
}

/** Infers and folds `model` for the feeds' shapes, then runs `pass` once as a shaped pass. */
export function applyShaped(model: Model, pass: Pass, feeds: Record<string, Tensor>): { model: Model; count: number } {
  const g: Graph = cloneGraph(model.graph);
  const inputs = new Map<string, TensorInfo>(Object.entries(feeds).map(([k, t]) => [k, { dtype: t.type, shape: [...t.dims] }]));
  const { infos } = inferAndFold(g, inputs, model.opsets);
  const count = pass.run(g, { opsets: model.opsets, facts: opFacts(model.opsets), infos, evaluate: (n, c) => evaluateNode(n, c, model.opsets) });
  return { model: { ...model, graph: g }, count };
}

export async function runPlain(model: Model, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const s = await InferenceSession.create(model, { optimize: false, checkShapes: true });
  try {
    return await s.run(feeds);
  } finally {
    await s.release();
  }
}

export function opTypes(g: Graph): string[] {
  return g.nodes.map(n => (n.domain ? `${n.domain}:${n.opType}` : n.opType));
}

export function expectClose(got: Tensor, want: Tensor, atol = 1e-5): void {
  expect([...got.dims]).toEqual([...want.dims]);
  let worst = 0;
  const a = got.data as Float32Array, b = want.data as Float32Array;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  expect(worst, `max |diff| ${worst}`).toBeLessThanOrEqual(atol);
}

/** Runs `model` before and after `pass`: asserts the rewrite count, the resulting op types, and equal outputs. */
export async function checkPass(model: Model, pass: Pass, feeds: Record<string, Tensor>,
  expected: { count: number; ops?: string[] }, atol = 1e-5): Promise<Model> {
  const before = await runPlain(model, feeds);
  const after = applyShaped(model, pass, feeds);
  expect(after.count).toBe(expected.count);
  if (expected.ops) expect(opTypes(after.model.graph)).toEqual(expected.ops);
  const got = await runPlain(after.model, feeds);
  for (const k of Object.keys(before)) expectClose(got[k]!, before[k]!, atol);
  return after.model;
}
