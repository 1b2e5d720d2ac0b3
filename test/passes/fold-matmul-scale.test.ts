// fold-matmul-scale: a per-column constant scale after a linear layer (ConvNeXt's layer scale) goes into its weight
// and bias; then fuse-matmul-residual takes the residual Add, so the block is one product. Checked against
// onnxruntime-node; scales per row, non-constant scales and products with an activation are left alone.

import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import { foldMatMulScale } from '../../src/passes/fold-matmul-scale.js';
import { fuseMatMulAdd } from '../../src/passes/fuse-matmul-add.js';
import { fuseMatMulActivation } from '../../src/passes/fuse-matmul-activation.js';
import { againstOrt, runOcellus } from '../helpers/cnn-reference.js';
import { applyShaped, checkPass, randomConst, randomTensor } from './helpers.js';

const feeds = { x: randomTensor([2, 5, 8], 3) };

interface Variant { gammaDims?: number[]; swap?: boolean; gelu?: boolean; computed?: boolean }

/** x [2, 5, 8] → MatMul W [8, 8] + b [→ Relu] → · γ → + x → y. */
function block(v: Variant = {}) {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [2, 5, 8]);
  let y = b.op('MatMul', [x, b.init('W', randomConst([8, 8], 5))]);
  y = b.op('Add', [y, b.init('bias', randomConst([8], 6))]);
  if (v.gelu) y = b.op('Relu', [y]);
  const dims = v.gammaDims ?? [8];
  const gamma = v.computed ? b.op('Sigmoid', [x]) : b.init('gamma', randomConst(dims, 7, 0.1, 2));
  y = b.op('Mul', v.swap ? [gamma, y] : [y, gamma]);
  b.node('Add', [y, x], {}, { outputs: ['y'] });
  b.output('y');
  return b.model(14);
}

/** After the passes before it: MatMul + bias → FusedMatMul, then its activation (if any) into it. */
const prepared = (v: Variant) => applyShaped(applyShaped(block(v), fuseMatMulAdd, feeds).model, fuseMatMulActivation, feeds).model;

describe('fold-matmul-scale', () => {
  it('folds γ [N] or [1, 1, N] into weight and bias, either Mul order', async () => {
    for (const v of [{}, { swap: true }, { gammaDims: [1, 1, 8] }] as Variant[]) {
      const m = await checkPass(prepared(v), foldMatMulScale, feeds, { count: 1, ops: ['local:FusedMatMul', 'Add'] });
      expect(m.graph.nodes[0]!.inputs, JSON.stringify(v)).toHaveLength(3);
      expect(m.graph.initializers.has('W'), 'the unscaled weight is gone from the plan').toBe(false);
    }
  });

  it('a second plan of the same model reuses the first one\'s scaled weights', () => {
    const base = prepared({});
    const [a, b] = [applyShaped(base, foldMatMulScale, feeds).model, applyShaped(base, foldMatMulScale, feeds).model];
    const w = (m: typeof a) => m.graph.initializers.get(m.graph.nodes[0]!.inputs[1]!);
    expect(w(a)?.dims).toEqual([8, 8]);
    expect(w(b)).toBe(w(a));
  });

  it('with the session\'s passes the block is one product with the residual in it, same results as ORT', async () => {
    const model = block();
    await againstOrt(model, feeds, { rtol: 1e-4, atol: 1e-5 });
    expect((await runOcellus(model, feeds, true)).ops).toEqual(['local:FusedMatMul']);
  });

  it('leaves a per-row scale, a computed scale and a product with an activation alone', () => {
    for (const v of [{ gammaDims: [5, 1] }, { computed: true }, { gelu: true }] as Variant[]) {
      expect(applyShaped(prepared(v), foldMatMulScale, feeds).count, JSON.stringify(v)).toBe(0);
    }
  });
});
