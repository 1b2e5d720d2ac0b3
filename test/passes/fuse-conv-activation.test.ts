// fuse-conv-activation: after to-nhwc, local:NhwcConv followed by Relu / Clip(0,6) / LeakyRelu / Sigmoid takes the
// activation into its kernel. A residual Add between conv and Relu stays correct (the Relu is not fused), and
// conv outputs with a second reader or Clip bounds tfjs cannot fuse are left alone. Compared with onnxruntime.

import { describe, expect, it } from 'vitest';
import { GraphBuilder, type AttrInput } from '../../src/ir/builder.js';
import { cancelTransposes } from '../../src/passes/cancel-transposes.js';
import { fuseConvActivation } from '../../src/passes/fuse-conv-activation.js';
import { toNhwc } from '../../src/passes/to-nhwc.js';
import { applyPasses, checkAgainstOrt, opTypesOf, randomConst, randomTensor } from '../helpers/cnn-reference.js';

const scalar = (v: number) => ({ dtype: 'float32' as const, dims: [], data: Float32Array.of(v) });
const feeds = { x: randomTensor([1, 3, 8, 8], 1, -6, 6) };

function convThen(act: string, attrs: Record<string, AttrInput> = {}, opset = 13, bounds?: [number, number], alsoOutput = false) {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [1, 3, 8, 8]);
  const y = b.op('Conv', [x, b.init('w', randomConst([4, 3, 3, 3], 2)), b.init('b', randomConst([4], 3))], { pads: [1, 1, 1, 1] });
  const extra = bounds ? [b.init('lo', scalar(bounds[0])), b.init('hi', scalar(bounds[1]))] : [];
  b.output(b.op(act, [y, ...extra], attrs));
  if (alsoOutput) b.output(y);
  return b.model(opset);
}

describe('fuse-conv-activation', () => {
  for (const [what, model, activation] of [
    ['Relu', convThen('Relu'), 'relu'],
    ['Clip(0, 6) with bound inputs (opset 13)', convThen('Clip', {}, 13, [0, 6]), 'relu6'],
    ['Clip(0, 6) with bound attributes (opset 6)', convThen('Clip', { min: { type: 'float', value: 0 }, max: { type: 'float', value: 6 } }, 6), 'relu6'],
    ['LeakyRelu(0.2)', convThen('LeakyRelu', { alpha: 0.2 }), 'leakyrelu'],
    ['Sigmoid', convThen('Sigmoid'), 'sigmoid'],
  ] as const) {
    it(`fuses ${what}`, async () => {
      const { counts, model: after } = applyPasses(model, [toNhwc, cancelTransposes, fuseConvActivation]);
      expect(counts[2]).toBe(1);
      expect(opTypesOf(after.graph)).toEqual(['Transpose', 'local:NhwcConv', 'Transpose']);
      expect(after.graph.nodes[1]!.attrs['activation']?.value).toBe(activation);
      const { optimized } = await checkAgainstOrt(model, feeds);
      expect(optimized.ops).toEqual(['Transpose', 'local:NhwcConv', 'Transpose']);
    });
  }

  it('keeps the residual Relu after Add (conv → Add(·, shortcut) → Relu)', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 4, 6, 6]);
    const y = b.op('Conv', [x, b.init('w', randomConst([4, 4, 3, 3], 2)), b.init('b', randomConst([4], 3))], { pads: [1, 1, 1, 1] });
    b.output(b.op('Relu', [b.op('Add', [y, x])]));
    const model = b.model(13);
    const { counts, model: after } = applyPasses(model, [toNhwc, cancelTransposes, fuseConvActivation]);
    expect(counts[2]).toBe(0);
    expect(opTypesOf(after.graph)).toContain('Relu');
    await checkAgainstOrt(model, { x: randomTensor([1, 4, 6, 6], 4) });
  });

  it('does not fuse when the conv output is also read elsewhere, or Clip bounds are not (0, 6)', async () => {
    for (const model of [convThen('Relu', {}, 13, undefined, true), convThen('Clip', {}, 13, [0, 5])]) {
      const { counts } = applyPasses(model, [toNhwc, cancelTransposes, fuseConvActivation]);
      expect(counts[2]).toBe(0);
      const { optimized } = await checkAgainstOrt(model, feeds);
      expect(optimized.ops.some(o => o === 'Relu' || o === 'Clip')).toBe(true);
    }
  });
});
