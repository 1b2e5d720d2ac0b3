// fuse-matmul-residual: FusedMatMul (no activation) + Add of a same-shaped computed value becomes one FusedMatMul
// with the value as input Z, either Add order, on ocellus's GEMM and on the tfjs path; a broadcasting addend and a
// product with an activation are left alone. Outputs equal the unfused graph's.

import { afterEach, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import { fuseMatMulActivation } from '../../src/passes/fuse-matmul-activation.js';
import { fuseMatMulAdd } from '../../src/passes/fuse-matmul-add.js';
import { fuseMatMulResidual } from '../../src/passes/fuse-matmul-residual.js';
import { setOwnGemm } from '../../kernels/wasm/gemm.js';
import { applyShaped, checkPass, randomConst, randomTensor } from './helpers.js';

const feeds = { x: randomTensor([2, 9, 12], 3) };
afterEach(() => setOwnGemm(undefined));

function block(opts: { swap?: boolean; addend?: 'x' | 'row'; relu?: boolean } = {}) {
  const b = new GraphBuilder();
  const x = b.op('Identity', [b.input('x', 'float32', [2, 9, 12])]);
  let y = b.op('Add', [b.op('MatMul', [x, b.init('W', randomConst([12, 12], 5))]), b.init('bias', randomConst([12], 6))]);
  if (opts.relu) y = b.op('Relu', [y]);
  const z = opts.addend === 'row' ? b.init('row', randomConst([12], 7)) : x;
  b.output(b.op('Add', opts.swap ? [z, y] : [y, z]));
  return b.model(14);
}

/** After the passes before it: MatMul + bias → FusedMatMul, then its Relu (if any) into it. */
const prepared = (opts: Parameters<typeof block>[0]) =>
  applyShaped(applyShaped(block(opts), fuseMatMulAdd, feeds).model, fuseMatMulActivation, feeds).model;

describe('fuse-matmul-residual', () => {
  for (const own of [true, false]) {
    it(`adds the residual in the product, either Add order (ocellus GEMM ${own ? 'on' : 'off'})`, async () => {
      setOwnGemm(own);
      for (const swap of [false, true]) {
        const m = await checkPass(prepared({ swap }), fuseMatMulResidual, feeds, { count: 1, ops: ['Identity', 'local:FusedMatMul'] });
        expect(m.graph.nodes[1]!.inputs).toEqual([m.graph.nodes[0]!.outputs[0], 'W', 'bias', m.graph.nodes[0]!.outputs[0]]);
      }
    });
  }

  it('leaves a broadcasting addend and a product with an activation alone', () => {
    expect(applyShaped(prepared({ addend: 'row' }), fuseMatMulResidual, feeds).count).toBe(0);
    const withRelu = prepared({ relu: true });
    expect(withRelu.graph.nodes.find(n => n.opType === 'FusedMatMul')?.attrs['activation']?.value).toBe('relu');
    expect(applyShaped(withRelu, fuseMatMulResidual, feeds).count).toBe(0);
  });
});
