// cancel-transposes: inverse Transpose pairs vanish, Transposes sink below elementwise ops (both operands carrying
// the same Transpose, or a constant that is permuted once), and nothing moves when a reader cannot take it.
// Each rewritten graph must compute what onnxruntime computes on the original.

import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import { cancelTransposes } from '../../src/passes/cancel-transposes.js';
import { applyPasses, expectClose, opTypesOf, randomConst, randomTensor, runOcellus, runOrt } from '../helpers/cnn-reference.js';
import type { Model } from '../../src/ir/graph.js';
import type { Tensor } from '../../src/index.js';

const NHWC = [0, 2, 3, 1], NCHW = [0, 3, 1, 2];

/** Applies the pass, checks whether it fired and the op types, and runs the rewritten graph against ORT on the original. */
async function check(model: Model, feeds: Record<string, Tensor>, fires: boolean, ops: string[]) {
  const { counts, model: after } = applyPasses(model, [cancelTransposes]);
  expect(opTypesOf(after.graph)).toEqual(ops);
  expect(counts[0]! > 0, `rewrites: ${counts[0]}`).toBe(fires);
  const want = await runOrt(model, feeds);
  const got = (await runOcellus(after, feeds, false)).outputs;
  for (const k of Object.keys(want)) expectClose(got[k], want[k], { rtol: 1e-5, atol: 1e-6 }, k);
}

describe('cancel-transposes', () => {
  it('an inverse pair around Relu and Clip vanishes', async () => {
    const b = new GraphBuilder();
    const t = b.op('Transpose', [b.input('x', 'float32', [1, 3, 4, 5])], { perm: NHWC });
    const r = b.op('Clip', [b.op('Relu', [t]), b.init('lo', randomConst([], 1)), b.init('hi', { dtype: 'float32', dims: [], data: Float32Array.of(0.5) })]);
    b.output(b.op('Transpose', [r], { perm: NCHW }));
    await check(b.model(13), { x: randomTensor([1, 3, 4, 5], 1) }, true, ['Relu', 'Clip']);
  });

  it('sinks through Add when both operands carry the same Transpose (residual join)', async () => {
    const b = new GraphBuilder();
    const ta = b.op('Transpose', [b.input('a', 'float32', [2, 3, 4, 5])], { perm: NHWC });
    const tb = b.op('Transpose', [b.input('b', 'float32', [2, 3, 4, 5])], { perm: NHWC });
    b.output(b.op('Relu', [b.op('Add', [ta, tb])]));
    await check(b.model(13), { a: randomTensor([2, 3, 4, 5], 1), b: randomTensor([2, 3, 4, 5], 2) }, true, ['Add', 'Relu', 'Transpose']);
  });

  it('permutes constant operands (per-channel and full-rank) and keeps scalars', async () => {
    const b = new GraphBuilder();
    const t = b.op('Transpose', [b.input('x', 'float32', [1, 3, 4, 5])], { perm: NHWC });   // [1, 4, 5, 3]
    const m = b.op('Mul', [t, b.init('perchannel', randomConst([3], 2))]);
    const s = b.op('Sub', [b.init('full', randomConst([1, 4, 5, 3], 3)), m]);
    const d = b.op('Div', [s, b.init('two', { dtype: 'float32', dims: [1], data: Float32Array.of(2) })]);
    b.output(b.op('Transpose', [d], { perm: NCHW }));
    await check(b.model(13), { x: randomTensor([1, 3, 4, 5], 1) }, true, ['Mul', 'Sub', 'Div']);
  });

  it('composes non-inverse chains into one Transpose', async () => {
    const b = new GraphBuilder();
    const t = b.op('Transpose', [b.input('x', 'float32', [2, 3, 4, 5])], { perm: [0, 2, 3, 1] });
    b.output(b.op('Transpose', [t], { perm: [1, 0, 2, 3] }));
    await check(b.model(13), { x: randomTensor([2, 3, 4, 5], 1) }, true, ['Transpose']);
  });

  it('does not move a Transpose that has a reader which cannot take it, or different perms on Add', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [2, 4, 4, 4]);
    const t = b.op('Transpose', [x], { perm: NHWC });
    b.output(b.op('Relu', [t]));
    b.output(b.op('Flatten', [t]));
    const u = b.op('Transpose', [x], { perm: [0, 1, 3, 2] });
    b.output(b.op('Add', [t, u]));
    await check(b.model(13), { x: randomTensor([2, 4, 4, 4], 1) }, false, ['Transpose', 'Relu', 'Flatten', 'Transpose', 'Add']);
  });

  it('keeps a Transpose whose output is a graph output', async () => {
    const b = new GraphBuilder();
    const t = b.op('Transpose', [b.input('x', 'float32', [1, 2, 3, 4])], { perm: NHWC });
    b.output(t);
    b.output(b.op('Sigmoid', [t]));
    await check(b.model(13), { x: randomTensor([1, 2, 3, 4], 1) }, false, ['Transpose', 'Sigmoid']);
  });
});
