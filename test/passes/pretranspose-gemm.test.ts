// pretranspose-gemm: Gemm(x, W_const, transB=1) → Gemm(x, Wᵀ_const, transB=0) with the same outputs; a computed B
// and an already-untransposed B are left alone; a weight shared by two Gemms is transposed once.

import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import { pretransposeGemm } from '../../src/passes/pretranspose-gemm.js';
import { applyShaped, checkPass, randomConst, randomTensor } from './helpers.js';

function linear(opts: { computedB?: boolean; transB?: number; shared?: boolean } = {}) {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [3, 8]);
  const w = opts.computedB ? b.op('Relu', [b.init('W0', randomConst([5, 8], 2))]) : b.init('W', randomConst(opts.transB === 0 ? [8, 5] : [5, 8], 2));
  const y = b.op('Gemm', [x, w, b.init('C', randomConst([5], 3))], { transB: opts.transB ?? 1, alpha: 0.5, beta: 2 });
  b.graph.outputs.push({ name: y, dtype: 'float32' });
  if (opts.shared) b.graph.outputs.push({ name: b.op('Gemm', [x, w], { transB: 1 }), dtype: 'float32' });
  return b.model(13);
}

const feeds = { x: randomTensor([3, 8], 1) };

describe('pretranspose-gemm', () => {
  it('transposes a constant B once and clears transB, outputs unchanged', async () => {
    const m = await checkPass(linear(), pretransposeGemm, feeds, { count: 1, ops: ['Gemm'] });
    const gemm = m.graph.nodes[0]!;
    expect(gemm.attrs.transB).toEqual({ type: 'int', value: 0 });
    expect(m.graph.initializers.get(gemm.inputs[1]!)!.dims).toEqual([8, 5]);
    expect(m.graph.initializers.has('W')).toBe(false);
  });

  it('shares one transposed copy between Gemms reading the same weight', async () => {
    const m = await checkPass(linear({ shared: true }), pretransposeGemm, feeds, { count: 2, ops: ['Gemm', 'Gemm'] });
    expect(m.graph.nodes[0]!.inputs[1]).toBe(m.graph.nodes[1]!.inputs[1]);
  });

  it('leaves a computed B (folded later, not here) and transB=0 alone', () => {
    expect(applyShaped(linear({ transB: 0 }), pretransposeGemm, feeds).count).toBe(0);
  });
});
