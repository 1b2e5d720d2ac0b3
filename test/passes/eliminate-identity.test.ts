// eliminate-identity: Identity and inference-time Dropout disappear, graph output names stay; a Dropout whose mask
// is read, one with a non-constant training_mode, and an Identity from a graph input to a graph output stay.
// The rewritten graph is run by ocellus and compared with onnxruntime on the original.

import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import type { Model } from '../../src/ir/graph.js';
import { eliminateIdentity } from '../../src/passes/eliminate-identity.js';
import { applyPasses, expectClose, opTypesOf, randomTensor, runOcellus, runOrt } from '../helpers/cnn-reference.js';

const feeds = { x: randomTensor([2, 3, 4], 1) };

async function sameAsOrt(original: Model, rewritten: Model): Promise<void> {
  const want = await runOrt(original, feeds);
  const got = (await runOcellus(rewritten, feeds, false)).outputs;
  for (const k of Object.keys(want)) expectClose(got[k], want[k], { rtol: 0, atol: 0 }, k);
}

describe('eliminate-identity', () => {
  it('removes Identity and Dropout (opsets 13 and 7), keeping the output name', async () => {
    for (const opset of [13, 7]) {
      const b = new GraphBuilder();
      const i = b.op('Identity', [b.input('x', 'float32', [2, 3, 4])]);
      const r = b.op('Relu', [i]);
      const d = opset >= 12
        ? b.op('Dropout', [r, b.init('ratio', { dtype: 'float32', dims: [], data: Float32Array.of(0.3) })])
        : b.node('Dropout', [r], { ratio: 0.3 }, { outputs: ['dropped', 'unused_mask'] })[0]!;
      b.node('Identity', [d], {}, { outputs: ['y'] });
      b.output('y');
      const model = b.model(opset);
      const { counts, model: after } = applyPasses(model, [eliminateIdentity]);
      expect(counts).toEqual([3]);
      expect(opTypesOf(after.graph)).toEqual(['Relu']);
      expect(after.graph.nodes[0]!.outputs).toEqual(['y']);
      await sameAsOrt(model, after);
    }
  });

  it('keeps a Dropout whose mask is read, one with a non-constant training_mode, and input→output Identity', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [2, 3, 4]);
    b.node('Dropout', [x], {}, { outputs: ['d', 'mask'] });
    b.output('mask', 'bool');
    b.node('Dropout', [x, '', b.input('training', 'bool', [])], {}, { outputs: ['d2'] });
    b.output('d2');
    b.node('Identity', [x], {}, { outputs: ['y'] });
    b.output('y');
    const model = b.model(13);
    const { counts, model: after } = applyPasses(model, [eliminateIdentity]);
    expect(counts).toEqual([0]);
    expect(opTypesOf(after.graph)).toEqual(['Dropout', 'Dropout', 'Identity']);
  });
});
