// fuse-matmul-add: MatMul by a constant matrix plus a constant per-column bias becomes local:FusedMatMul; the
// residual-style Add (both operands computed) and a bias of the wrong length are left alone.

import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import { fuseMatMulAdd } from '../../src/passes/fuse-matmul-add.js';
import { applyShaped, checkPass, randomConst, randomTensor } from './helpers.js';

function linear(opts: { biasFirst?: boolean; biasLen?: number; residual?: boolean } = {}) {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [2, 9, 12]);
  const w = b.init('W', randomConst([12, 10], 5));
  const y = b.op('MatMul', [x, w]);
  const bias = opts.residual ? b.op('MatMul', [x, b.init('W2', randomConst([12, 10], 7))]) : b.init('bias', randomConst([opts.biasLen ?? 10], 6));
  const out = b.op('Add', opts.biasFirst ? [bias, y] : [y, bias]);
  b.graph.outputs.push({ name: out, dtype: 'float32' });
  return b.model(14);
}

const feeds = { x: randomTensor([2, 9, 12], 3) };

describe('fuse-matmul-add', () => {
  it('fuses MatMul + bias in either Add order', async () => {
    for (const biasFirst of [false, true]) {
      const m = await checkPass(linear({ biasFirst }), fuseMatMulAdd, feeds, { count: 1, ops: ['local:FusedMatMul'] });
      expect(m.graph.nodes[0]!.inputs).toEqual(['x', 'W', 'bias']);
    }
  });

  it('leaves a computed addend and a bias that is not per column alone', () => {
    expect(applyShaped(linear({ residual: true }), fuseMatMulAdd, feeds).count).toBe(0);
    expect(applyShaped(linear({ biasLen: 1 }), fuseMatMulAdd, feeds).count).toBe(0);
  });
});
