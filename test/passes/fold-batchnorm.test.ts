// fold-batchnorm: Conv → BatchNormalization with constant parameters becomes one Conv (new weights and bias);
// checked against onnxruntime-node on the unfolded model. It must not fire when the conv output has another
// reader, when a weight is not constant, or for a BatchNorm with no conv before it.

import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import { foldBatchNorm } from '../../src/passes/fold-batchnorm.js';
import { applyPasses, checkAgainstOrt, opTypesOf, randomConst, randomTensor } from '../helpers/cnn-reference.js';

function convBn(opts: { bias?: boolean; convAlsoOutput?: boolean; weightInput?: boolean; opset?: number; group?: number } = {}) {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', ['n', 4, 9, 9]);
  const g = opts.group ?? 1;
  const w = opts.weightInput ? b.input('w', 'float32', [6, 4 / g, 3, 3]) : b.init('w', randomConst([6, 4 / g, 3, 3], 1));
  const ins = [x, w];
  if (opts.bias !== false) ins.push(b.init('cb', randomConst([6], 2)));
  const y = b.op('Conv', ins, { pads: [1, 1, 1, 1], group: g }, 'conv');
  const p = [
    b.init('scale', randomConst([6], 3, 0.5, 1.5)), b.init('beta', randomConst([6], 4)),
    b.init('mean', randomConst([6], 5)), b.init('var', randomConst([6], 6, 0.1, 2)),
  ];
  const z = b.op('Relu', [b.op('BatchNormalization', [y, ...p], { epsilon: 1e-3 }, 'bn')]);
  b.graph.outputs.push({ name: z, dtype: 'float32' });
  if (opts.convAlsoOutput) b.graph.outputs.push({ name: y, dtype: 'float32' });
  return b.model(opts.opset ?? 15);
}

const feeds = (n = 1) => ({ x: randomTensor([n, 4, 9, 9], 9, -3, 3) });

describe('fold-batchnorm', () => {
  for (const [what, opts] of [
    ['with conv bias, opset 15', {}],
    ['without conv bias, opset 9', { bias: false, opset: 9 }],
    ['grouped conv, opset 7', { group: 2, opset: 7 }],
  ] as [string, Parameters<typeof convBn>[0]][]) {
    it(`folds ${what}; same results as onnxruntime on the unfolded model`, async () => {
      const model = convBn(opts);
      const { counts, model: after } = applyPasses(model, [foldBatchNorm]);
      expect(counts).toEqual([1]);
      expect(opTypesOf(after.graph)).toEqual(['Conv', 'Relu']);
      expect(after.graph.nodes[0]!.inputs).toHaveLength(3);
      // The original weight is untouched (it may be shared): the fold wrote new initializers.
      expect(after.graph.initializers.get('w')).toBe(model.graph.initializers.get('w'));
      for (const n of [1, 2]) {
        const { optimized } = await checkAgainstOrt(model, feeds(n), { rtol: 1e-5, atol: 1e-5 });
        expect(optimized.ops).not.toContain('BatchNormalization');
      }
    });
  }

  it('does not fire when the conv output is also a graph output', async () => {
    const model = convBn({ convAlsoOutput: true });
    expect(applyPasses(model, [foldBatchNorm]).counts).toEqual([0]);
    const { optimized } = await checkAgainstOrt(model, feeds());
    expect(optimized.ops).toContain('BatchNormalization');
  });

  it('does not fire when the conv weight is not constant', async () => {
    const model = convBn({ weightInput: true });
    expect(applyPasses(model, [foldBatchNorm]).counts).toEqual([0]);
    await checkAgainstOrt(model, { ...feeds(), w: randomTensor([6, 4, 3, 3], 8) });
  });

  it('leaves a lone BatchNormalization to its kernel', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [2, 4, 5, 5]);
    const p = ['s', 'b', 'm', 'v'].map((k, i) => b.init(k, randomConst([4], 20 + i, 0.5, 1.5)));
    b.graph.outputs.push({ name: b.op('BatchNormalization', [b.op('Relu', [x]), ...p]), dtype: 'float32' });
    const model = b.model(15);
    expect(applyPasses(model, [foldBatchNorm]).counts).toEqual([0]);
    await checkAgainstOrt(model, { x: randomTensor([2, 4, 5, 5], 3) });
  });
});
