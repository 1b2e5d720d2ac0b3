// Planning (src/runtime/plan.ts): each node is resolved and parsed once per plan, however many folding rounds the
// shape-aware passes ask for (a node a pass gives new attributes is parsed again, once); each step's state
// (OpDef.plan) is built once per plan and handed to every run; two plans for two input shapes have separate steps
// and states. Counted with spies on the registered definitions, which call through to the real ones.

import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureBackend } from '../../kernels/backend.js';
import { resolveOp } from '../../kernels/registry.js';
import { InferenceSession } from '../../src/index.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import type { Graph, Model } from '../../src/ir/graph.js';
import type { Pass } from '../../src/passes/types.js';
import { buildPlan } from '../../src/runtime/plan.js';
import { randomConst, randomTensor } from '../helpers/cnn-reference.js';

beforeAll(async () => {
  await ensureBackend();
});
afterEach(() => {
  vi.restoreAllMocks();
});

const def = (opType: string) => resolveOp('', opType, 13)!;

/** Calls of a spied parse/infer/plan, by the name of the node they were for (the view is the first argument). */
function callsByNode(spy: { mock: { calls: unknown[][] } }): Map<string, number> {
  const m = new Map<string, number>();
  for (const [view] of spy.mock.calls) {
    const name = (view as { name: string }).name;
    m.set(name, (m.get(name) ?? 0) + 1);
  }
  return m;
}

/** x [N, 8] → MatMul(W1) → Relu → Reshape(to Shape(x)-derived [N, 2, 2]) → y: the Shape → Gather → Concat chain
 *  folds while planning, so there is folding work in every round. */
function model(): Model {
  const b = new GraphBuilder('plan-test');
  const x = b.input('x', 'float32', ['N', 8]);
  const h = b.op('Relu', [b.op('MatMul', [x, b.init('W1', randomConst([8, 4], 1))], {}, 'mm')], {}, 'relu');
  const n = b.op('Gather', [b.op('Shape', [x], {}, 'shape'), b.init('zero', { dtype: 'int64', dims: [1], data: BigInt64Array.of(0n) })], { axis: 0 }, 'gather');
  const shape = b.op('Concat', [n, b.init('tail', { dtype: 'int64', dims: [2], data: BigInt64Array.of(2n, 2n) })], { axis: 0 }, 'concat');
  b.node('Reshape', [h, shape], {}, { outputs: ['y'], name: 'reshape' });
  b.output('y', 'float32', ['N', 2, 2]);
  return b.model(13);
}

/** A pass that reports a change `rounds` times without making one: the planner runs that many more rounds. */
function idleRounds(rounds: number): Pass {
  let left = rounds;
  return { name: 'idle', run: () => (left-- > 0 ? 1 : 0) };
}

describe('buildPlan', () => {
  const inputs = new Map([['x', { dtype: 'float32' as const, shape: [3, 8] }]]);

  it('parses each node once per plan, over several folding rounds', () => {
    const m = model();
    const spies = ['MatMul', 'Relu', 'Shape', 'Gather', 'Concat', 'Reshape'].map(t => vi.spyOn(def(t), 'parse'));
    const infer = vi.spyOn(def('Relu'), 'infer');
    const plan = buildPlan(m.graph, inputs, m.opsets, [idleRounds(3)]);
    expect(infer, 'the planner ran 4 rounds (3 reported changes, then none)').toHaveBeenCalledTimes(4);
    const parsed = new Map(spies.flatMap(s => [...callsByNode(s)]));
    expect(Object.fromEntries(parsed)).toEqual({ mm: 1, relu: 1, shape: 1, gather: 1, concat: 1, reshape: 1 });
    expect(plan.steps.map(s => s.node.name)).toEqual(['mm', 'relu', 'reshape']);   // Shape → Gather → Concat folded
    expect(plan.folded).toBe(3);

    buildPlan(m.graph, inputs, m.opsets, []);
    expect(spies.reduce((n, s) => n + s.mock.calls.length, 0), 'a second plan parses again, once per node').toBe(12);
  });

  it('parses a node again (once) when a pass gives it new attributes', () => {
    const m = model();
    const parse = vi.spyOn(def('Concat'), 'parse');
    let done = false;
    const touch: Pass = {
      name: 'touch',
      run: (g: Graph) => {
        if (done) return 0;
        done = true;
        const relu = g.nodes.find(n => n.name === 'relu')!;
        relu.attrs = { ...relu.attrs };   // as passes edit nodes: a new attrs object
        return 1;
      },
    };
    const reluParse = vi.spyOn(def('Relu'), 'parse');
    buildPlan(m.graph, inputs, m.opsets, [touch, idleRounds(2)]);
    expect(reluParse).toHaveBeenCalledTimes(2);
    expect(parse).toHaveBeenCalledTimes(1);
  });
});

describe('step state (OpDef.plan)', () => {
  it('is built once per planned step and handed to every run', async () => {
    const plan = vi.spyOn(def('MatMul'), 'plan');
    const run = vi.spyOn(def('MatMul'), 'run');
    const s = await InferenceSession.create(model(), { optimize: false });
    expect(plan, 'create() plans the declared shapes (batch 1)').toHaveBeenCalledTimes(1);
    const feeds = { x: randomTensor([1, 8], 2) };
    for (let i = 0; i < 3; i++) await s.run(feeds);
    expect(plan).toHaveBeenCalledTimes(1);
    expect(run).toHaveBeenCalledTimes(3);
    const state = plan.mock.results[0]!.value;
    for (const call of run.mock.calls) expect(call[3], 'run gets the state plan returned').toBe(state);
    await s.release();
  });

  it('two plans for two input shapes have separate steps and states; results match a fresh session', async () => {
    const plan = vi.spyOn(def('MatMul'), 'plan');
    const s = await InferenceSession.create(model(), { optimize: false });
    const x1 = randomTensor([1, 8], 3), x5 = randomTensor([5, 8], 4);
    const p1 = s.plan({ x: x1 }), p5 = s.plan({ x: x5 });
    expect(p1).not.toBe(p5);
    expect(plan).toHaveBeenCalledTimes(2);
    const mm1 = p1.steps.find(st => st.node.name === 'mm')!, mm5 = p5.steps.find(st => st.node.name === 'mm')!;
    expect(mm1.state).not.toBe(mm5.state);
    expect((mm1.state as { p: { a: number[] } }).p.a).toEqual([1, 8]);
    expect((mm5.state as { p: { a: number[] } }).p.a).toEqual([5, 8]);
    // Runs alternate between the two plans without planning again.
    const y1 = (await s.run({ x: x1 }))['y']!, y5 = (await s.run({ x: x5 }))['y']!;
    expect((await s.run({ x: x1 }))['y']!.data).toEqual(y1.data);
    expect(plan).toHaveBeenCalledTimes(2);
    const fresh = await InferenceSession.create(model(), { optimize: false });
    expect(y5.dims).toEqual([5, 2, 2]);
    expect((await fresh.run({ x: x5 }))['y']!.data).toEqual(y5.data);
    await fresh.release();
    await s.release();
  });
});
