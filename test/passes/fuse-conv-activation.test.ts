// fuse-conv-activation: after to-nhwc, local:NhwcConv followed by Relu / Clip / LeakyRelu / Sigmoid / HardSigmoid /
// HardSwish / SiLU (Sigmoid + Mul) takes the activation into its kernel, for plain, grouped and depthwise convs. A
// residual Add between conv and Relu stays correct (the Relu is not fused), and conv outputs with a second reader
// (or a sigmoid with one) are left alone. Compared with onnxruntime.

import { describe, expect, it } from 'vitest';
import { GraphBuilder, type AttrInput } from '../../src/ir/builder.js';
import { cancelTransposes } from '../../src/passes/cancel-transposes.js';
import { fuseConvActivation } from '../../src/passes/fuse-conv-activation.js';
import { toNhwc } from '../../src/passes/to-nhwc.js';
import { applyPasses, checkAgainstOrt, opTypesOf, randomConst, randomTensor } from '../helpers/cnn-reference.js';

const scalar = (v: number) => ({ dtype: 'float32' as const, dims: [], data: Float32Array.of(v) });
const feeds = { x: randomTensor([1, 3, 8, 8], 1, -6, 6) };

function convThen(act: string, attrs: Record<string, AttrInput> = {}, opset = 13, bounds?: [number, number], alsoOutput = false, group = 1) {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [1, 3 * group, 8, 8]);
  const m = 4 * group;
  const y = b.op('Conv', [x, b.init('w', randomConst([m, 3, 3, 3], 2)), b.init('b', randomConst([m], 3))], { pads: [1, 1, 1, 1], group });
  const extra = bounds ? [b.init('lo', scalar(bounds[0])), b.init('hi', scalar(bounds[1]))] : [];
  if (act === 'SiLU' || act === 'HardSwish13') {
    const s = act === 'SiLU' ? b.op('Sigmoid', [y]) : b.op('HardSigmoid', [y], { alpha: 1 / 6, beta: 0.5 });
    b.output(b.op('Mul', [s, y]));
    if (alsoOutput) b.output(s);
  } else {
    b.output(b.op(act, [y, ...extra], attrs));
    if (alsoOutput) b.output(y);
  }
  return b.model(opset);
}

/** A depthwise conv (group = C = 6, 5×5, stride 2) then `act`. */
function depthwiseThen(act: string, attrs: Record<string, AttrInput> = {}, bounds?: [number, number]) {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [2, 6, 9, 9]);
  const y = b.op('Conv', [x, b.init('w', randomConst([6, 1, 5, 5], 5)), b.init('b', randomConst([6], 6))], { pads: [2, 2, 2, 2], strides: [2, 2], group: 6 });
  const extra = bounds ? [b.init('lo', scalar(bounds[0])), b.init('hi', scalar(bounds[1]))] : [];
  b.output(b.op(act, [y, ...extra], attrs));
  return b.model(14);
}

describe('fuse-conv-activation', () => {
  for (const [what, model, activation] of [
    ['Relu', convThen('Relu'), 'relu'],
    ['Clip(0, 6) with bound inputs (opset 13)', convThen('Clip', {}, 13, [0, 6]), 'relu6'],
    ['Clip(0, 6) with bound attributes (opset 6)', convThen('Clip', { min: { type: 'float', value: 0 }, max: { type: 'float', value: 6 } }, 6), 'relu6'],
    ['LeakyRelu(0.2)', convThen('LeakyRelu', { alpha: 0.2 }), 'leakyrelu'],
    ['Sigmoid', convThen('Sigmoid'), 'sigmoid'],
    ['Clip(0, 5)', convThen('Clip', {}, 13, [0, 5]), 'clip'],
    ['Clip(−1, 2) with bound attributes (opset 6)', convThen('Clip', { min: { type: 'float', value: -1 }, max: { type: 'float', value: 2 } }, 6), 'clip'],
    ['HardSigmoid(0.3, 0.4)', convThen('HardSigmoid', { alpha: 0.3, beta: 0.4 }), 'hardsigmoid'],
    ['HardSwish', convThen('HardSwish', {}, 14), 'hardswish'],
    ['SiLU (Sigmoid + Mul)', convThen('SiLU'), 'silu'],
    ['HardSwish as HardSigmoid(1/6, ½) + Mul (opset 13)', convThen('HardSwish13'), 'hardswish'],
    ['HardSwish after a grouped conv (3 groups)', convThen('HardSwish', {}, 14, undefined, false, 3), 'hardswish'],
    ['SiLU after a grouped conv (2 groups)', convThen('SiLU', {}, 13, undefined, false, 2), 'silu'],
    ['Clip(0, 6) after a depthwise 5×5 conv at stride 2', depthwiseThen('Clip', {}, [0, 6]), 'relu6'],
    ['HardSwish after a depthwise conv', depthwiseThen('HardSwish'), 'hardswish'],
    ['HardSigmoid after a depthwise conv', depthwiseThen('HardSigmoid'), 'hardsigmoid'],
  ] as const) {
    it(`fuses ${what}`, async () => {
      const { counts, model: after } = applyPasses(model, [toNhwc, cancelTransposes, fuseConvActivation]);
      expect(counts[2]).toBe(1);
      expect(opTypesOf(after.graph)).toEqual(['Transpose', 'local:NhwcConv', 'Transpose']);
      expect(after.graph.nodes[1]!.attrs['activation']?.value).toBe(activation);
      const dims = model.graph.inputs[0]!.shape as number[];
      const { optimized } = await checkAgainstOrt(model, dims[0] === 1 && dims[1] === 3 ? feeds : { x: randomTensor(dims, 7, -6, 6) });
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

  it('does not fuse when the conv output is also read elsewhere, or SiLU\'s sigmoid is', async () => {
    for (const model of [convThen('Relu', {}, 13, undefined, true), convThen('SiLU', {}, 13, undefined, true), convThen('HardSwish13', {}, 13, undefined, true)]) {
      const { counts } = applyPasses(model, [toNhwc, cancelTransposes, fuseConvActivation]);
      expect(counts[2]).toBe(0);
      const { optimized } = await checkAgainstOrt(model, feeds);
      expect(optimized.ops.some(o => o === 'Relu' || o === 'Mul')).toBe(true);
    }
  });
});
