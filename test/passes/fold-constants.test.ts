// fold-constants (load pass): constant subgraphs, Constant nodes included, are evaluated once through the
// runtime's kernel evaluator and become initializers; inputs, growth-heavy results and missing evaluators stop it.

import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBackend } from '../../kernels/backend.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import type { Model } from '../../src/ir/graph.js';
import { foldConstants } from '../../src/passes/fold-constants.js';
import { opFacts } from '../../src/runtime/op-facts.js';
import { cloneGraph, evaluateNode } from '../../src/runtime/plan.js';
import { expectClose, ints, opTypes, randomConst, randomTensor, runPlain } from './helpers.js';

function fold(model: Model, withEvaluator = true): { model: Model; count: number } {
  const g = cloneGraph(model.graph);
  const count = foldConstants.run(g, { opsets: model.opsets, facts: opFacts(model.opsets), evaluate: withEvaluator ? (n, c) => evaluateNode(n, c, model.opsets) : undefined });
  return { model: { ...model, graph: g }, count };
}

/** out = x · (a + b) reshaped, where a is a Constant node and b an initializer; plus a big ConstantOfShape. */
function model(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [4, 6]);
  const a = b.node('Constant', [], { value: randomConst([24], 1) })[0]!;
  const sum = b.op('Add', [a, b.init('b', randomConst([24], 2))]);
  const shaped = b.op('Reshape', [sum, b.init('shape', ints([4, 6]))]);
  const big = b.op('ConstantOfShape', [b.init('big_shape', ints([512, 512]))], { value: { dtype: 'float32', dims: [1], data: Float32Array.of(0.5) } });
  const y = b.op('Mul', [x, shaped]);
  const z = b.op('Add', [y, b.op('ReduceMean', [big], { keepdims: 0 })]);
  b.graph.outputs.push({ name: z, dtype: 'float32' });
  return b.model(14);
}

describe('fold-constants', () => {
  beforeAll(ensureBackend);   // the evaluator runs kernels (the session starts the backend before its load passes)

  it('folds the constant chain into one initializer and keeps the results', async () => {
    const m = model();
    const feeds = { x: randomTensor([4, 6], 3) };
    const r = fold(m);
    expect(r.count).toBe(3);   // Constant, Add, Reshape
    expect(opTypes(r.model.graph)).toEqual(['ConstantOfShape', 'Mul', 'ReduceMean', 'Add']);
    const shaped = r.model.graph.nodes[1]!.inputs[1]!;
    expect(r.model.graph.initializers.get(shaped)?.dims).toEqual([4, 6]);
    const [want, got] = [await runPlain(m, feeds), await runPlain(r.model, feeds)];
    for (const k of Object.keys(want)) expectClose(got[k]!, want[k]!, 0);
  });

  it('does nothing without an evaluator', () => {
    const r = fold(model(), false);
    expect(r.count).toBe(0);
    expect(r.model.graph.nodes).toHaveLength(model().graph.nodes.length);
  });
});
