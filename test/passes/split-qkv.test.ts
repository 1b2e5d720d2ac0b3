// split-qkv: Swin's packed q/k/v (Reshape [B, T, 3, H, D] → Transpose [2, 0, 3, 1, 4] → Gather 0/1/2) becomes a
// Slice → Reshape → 4-D Transpose per Gather (K's own Transpose composed in), with the same results as
// onnxruntime-node; another perm or a Gather on another axis is left alone.

import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import { splitQkv } from '../../src/passes/split-qkv.js';
import { againstOrt } from '../helpers/cnn-reference.js';
import { applyShaped, checkPass, ints, randomConst, randomTensor, scalar } from './helpers.js';

const feeds = { x: randomTensor([2, 5, 6], 3) };

/** x [2, 5, 6] → linear to 24 = 3·2·4 → packed q/k/v → softmax(q·kᵀ/√4)·v → y [2, 2, 5, 4]. */
function packed(v: { perm?: number[]; axis?: number } = {}) {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [2, 5, 6]);
  const qkv = b.op('MatMul', [x, b.init('W', randomConst([6, 24], 5))]);
  const r = b.op('Reshape', [qkv, b.init('shape5', ints([2, 5, 3, 2, 4]))]);
  const t = b.op('Transpose', [r], { perm: v.perm ?? [2, 0, 3, 1, 4] });
  const pick = (i: number) => b.op('Gather', [t, b.init(`i${i}`, { dtype: 'int64', dims: [], data: BigInt64Array.of(BigInt(i)) })], { axis: v.axis ?? 0 });
  const q = b.op('Mul', [pick(0), b.init('scale', scalar(0.5))]);
  const k = b.op('Transpose', [pick(1)], { perm: [0, 1, 3, 2] });
  const p = b.op('Softmax', [b.op('MatMul', [q, k])], { axis: -1 });
  b.node('MatMul', [p, pick(-1)], {}, { outputs: ['y'] });
  b.output('y');
  return b.model(14);
}

describe('split-qkv', () => {
  it('slices q, k and v out of the packed projection, K\'s transpose composed, same results as ORT', async () => {
    const model = packed();
    await againstOrt(model, feeds, { rtol: 1e-5, atol: 1e-6 });
    const m = await checkPass(model, splitQkv, feeds, { count: 1 });
    const ops = m.graph.nodes.map(n => n.opType);
    expect(ops.filter(o => o === 'Gather')).toHaveLength(0);
    expect(ops.filter(o => o === 'Slice')).toHaveLength(3);
    const perms = m.graph.nodes.filter(n => n.opType === 'Transpose').map(n => n.attrs['perm']!.value);
    expect(perms).toEqual([[0, 2, 1, 3], [0, 2, 3, 1], [0, 2, 1, 3]]);
  });

  it('leaves another perm or a Gather on another axis alone', () => {
    expect(applyShaped(packed({ perm: [2, 0, 1, 3, 4] }), splitQkv, feeds).count).toBe(0);
    expect(applyShaped(packed({ perm: [0, 2, 3, 1, 4], axis: 2 }), splitQkv, feeds).count).toBe(0);
  });
});
