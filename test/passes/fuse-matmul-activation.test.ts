// fuse-matmul-activation: FusedMatMul (MatMul + bias) followed by its only reader local:Gelu or Relu takes it as its
// activation; an output read twice is left alone. Outputs equal the unfused graph's (local:Gelu computes erf with
// tfjs; the fused product with ocellus's GEMM and its own erf, where it runs).

import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import { fuseGelu } from '../../src/passes/fuse-gelu.js';
import { fuseMatMulActivation } from '../../src/passes/fuse-matmul-activation.js';
import { fuseMatMulAdd } from '../../src/passes/fuse-matmul-add.js';
import { applyShaped, checkPass, randomConst, randomTensor, scalar } from './helpers.js';

const feeds = { x: randomTensor([2, 9, 12], 3) };

function mlp(act: 'gelu' | 'relu', alsoOutput = false) {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [2, 9, 12]);
  const y = b.op('Add', [b.op('MatMul', [x, b.init('W', randomConst([12, 20], 5))]), b.init('bias', randomConst([20], 6))]);
  let out: string;
  if (act === 'relu') out = b.op('Relu', [y]);
  else {
    const erf = b.op('Erf', [b.op('Div', [y, b.init('sqrt2', scalar(Math.SQRT2))])]);
    out = b.op('Mul', [b.op('Mul', [y, b.op('Add', [erf, b.init('one', scalar(1))])]), b.init('half', scalar(0.5))]);
  }
  b.output(out);
  if (alsoOutput) b.output(y);
  return b.model(14);
}

/** The model after the passes that make FusedMatMul and local:Gelu. */
const prepared = (act: 'gelu' | 'relu', alsoOutput = false) =>
  applyShaped(applyShaped(mlp(act, alsoOutput), fuseGelu, feeds).model, fuseMatMulAdd, feeds).model;

describe('fuse-matmul-activation', () => {
  for (const act of ['gelu', 'relu'] as const) {
    it(`takes ${act} into the product`, async () => {
      const m = await checkPass(prepared(act), fuseMatMulActivation, feeds, { count: 1, ops: ['local:FusedMatMul'] });
      expect(m.graph.nodes[0]!.attrs['activation']?.value).toBe(act);
    });
  }

  it('leaves a product that is also read elsewhere alone', () => {
    expect(applyShaped(prepared('gelu', true), fuseMatMulActivation, feeds).count).toBe(0);
  });
});
