// fuse-layernorm: the decomposed LayerNorm of torch's opset-14 and opset-18 exports, and ONNX LayerNormalization,
// become local:LayerNorm; outputs match the unfused graph; near-misses are left alone.

import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import { fuseLayerNorm } from '../../src/passes/fuse-layernorm.js';
import { applyShaped, checkPass, ints, opTypes, randomConst, randomTensor, scalar } from './helpers.js';

interface Variant {
  opset?: number; axes?: number[]; exponent?: number; affine?: 'both' | 'gamma' | 'none'; swapped?: boolean;
  leakSub?: boolean; eps?: number;
}

/** Builds x [2,5,8] → decomposed LayerNorm (+ a trailing Relu so the output is not the LayerNorm's own). */
function decomposed(v: Variant = {}) {
  const opset = v.opset ?? 14;
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [2, 5, 8]);
  const axes = v.axes ?? [-1];
  const mean = (t: string) => (opset >= 18
    ? b.op('ReduceMean', [t, b.init(`axes_${t}`, ints(axes))])
    : b.op('ReduceMean', [t], { axes }));
  const m = mean(x);
  const d = b.op('Sub', [x, m]);
  const two = b.node('Constant', [], { value: scalar(v.exponent ?? 2) })[0]!;
  const varc = mean(b.op('Pow', [d, two]));
  const eps = b.init('eps', scalar(v.eps ?? 1e-12));
  const s = b.op('Sqrt', [b.op('Add', [varc, eps])]);
  let y = b.op('Div', [d, s]);
  if (v.affine !== 'none') {
    const gamma = b.init('gamma', randomConst([8], 11, 0.5, 1.5));
    y = b.op('Mul', v.swapped ? [gamma, y] : [y, gamma]);
  }
  if (v.affine === undefined || v.affine === 'both') {
    const beta = b.init('beta', randomConst([8], 12));
    y = b.op('Add', v.swapped ? [beta, y] : [y, beta]);
  }
  const out = b.op('Relu', [y]);
  b.graph.outputs.push({ name: out, dtype: 'float32' });
  if (v.leakSub) b.graph.outputs.push({ name: d, dtype: 'float32' });
  return b.model(opset);
}

const feeds = { x: randomTensor([2, 5, 8], 1) };

describe('fuse-layernorm', () => {
  it('fuses the opset-14 form (axes attribute) with gamma and beta', async () => {
    const m = await checkPass(decomposed(), fuseLayerNorm, feeds, { count: 1, ops: ['local:LayerNorm', 'Relu'] });
    const ln = m.graph.nodes[0]!;
    expect(ln.inputs).toEqual(['x', 'gamma', 'beta']);
    expect(ln.attrs['epsilon']).toEqual({ type: 'float', value: expect.closeTo(1e-12, 15) });
    expect(ln.attrs['axis']).toEqual({ type: 'int', value: -1 });
  });

  it('fuses the opset-18 form (axes input), operands in either order', async () => {
    await checkPass(decomposed({ opset: 18, swapped: true, axes: [2] }), fuseLayerNorm, feeds, { count: 1, ops: ['local:LayerNorm', 'Relu'] });
  });

  it('fuses without beta, or without any affine part', async () => {
    const g = await checkPass(decomposed({ affine: 'gamma', eps: 1e-5 }), fuseLayerNorm, feeds, { count: 1, ops: ['local:LayerNorm', 'Relu'] });
    expect(g.graph.nodes[0]!.inputs).toEqual(['x', 'gamma']);
    const n = await checkPass(decomposed({ affine: 'none', eps: 1e-5 }), fuseLayerNorm, feeds, { count: 1, ops: ['local:LayerNorm', 'Relu'] });
    expect(n.graph.nodes[0]!.inputs).toEqual(['x']);
  });

  it('maps ONNX LayerNormalization (opset 17) when only Y is read', async () => {
    const b = new GraphBuilder();
    b.input('x', 'float32', [2, 5, 8]);
    b.init('gamma', randomConst([8], 3)); b.init('beta', randomConst([8], 4));
    b.node('LayerNormalization', ['x', 'gamma', 'beta'], { axis: -1, epsilon: 1e-6 }, { outputs: ['y'] });
    b.output('y');
    const m = await checkPass(b.model(17), fuseLayerNorm, feeds, { count: 1, ops: ['local:LayerNorm'] });
    expect(m.graph.nodes[0]!.attrs['epsilon']).toEqual({ type: 'float', value: 1e-6 });
  });

  it('leaves near-misses alone: other axis, cube instead of square, an intermediate read elsewhere', () => {
    for (const v of [{ axes: [1] }, { exponent: 3 }, { leakSub: true }] as Variant[]) {
      const r = applyShaped(decomposed(v), fuseLayerNorm, feeds);
      expect(r.count, JSON.stringify(v)).toBe(0);
      expect(opTypes(r.model.graph)).not.toContain('local:LayerNorm');
    }
  });

  it('leaves LayerNormalization alone when its Mean output is read', () => {
    const b = new GraphBuilder();
    b.input('x', 'float32', [2, 5, 8]);
    b.init('gamma', randomConst([8], 3));
    b.node('LayerNormalization', ['x', 'gamma'], { axis: -1 }, { outputs: ['y', 'mean'] });
    b.output('y'); b.output('mean');
    expect(applyShaped(b.model(17), fuseLayerNorm, feeds).count).toBe(0);
  });
});
