// Resize-19 (half_pixel_symmetric) made 19 the highest opset the registry names, so the session accepts opset-19
// models. What else changed at 19 is covered here: AveragePool's dilations run exactly (vs onnxruntime-node), Pad's
// new 'wrap' mode is refused by name; the rest of 19's changes are new types (float8, strings) ocellus never loads.

import { describe, expect, it } from 'vitest';
import { InferenceSession } from '../../src/index.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { constTensor } from '../../src/ir/tensor.js';
import { HIGHEST_OPSET } from '../../src/runtime/session.js';
import { checkAgainstOrt, randomTensor } from '../helpers/cnn-reference.js';

describe('opset-19 models', () => {
  it('are accepted', () => expect(HIGHEST_OPSET).toBeGreaterThanOrEqual(19));

  it('AveragePool-19 with dilations, strides and pads matches onnxruntime-node', async () => {
    const b = new GraphBuilder();
    b.input('x', 'float32', [2, 3, 9, 10]);
    b.node('AveragePool', ['x'], { kernel_shape: [3, 2], dilations: [2, 3], pads: [1, 0, 2, 1], strides: [1, 2] }, { outputs: ['y'] });
    b.output('y');
    await checkAgainstOrt(b.model(19), { x: randomTensor([2, 3, 9, 10], 1) });
  });

  it("Pad-19's wrap mode is refused, naming the node", async () => {
    const b = new GraphBuilder();
    b.input('x', 'float32', [2, 3]);
    b.init('pads', constTensor('int64', [4], [0, 1, 0, 1]));
    b.node('Pad', ['x', 'pads'], { mode: 'wrap' }, { name: 'pad', outputs: ['y'] });
    b.output('y');
    await expect(InferenceSession.create(b.model(19))).rejects.toThrow(/Pad 'pad' \(opset 19\): mode 'wrap' is not supported/);
  });
});
