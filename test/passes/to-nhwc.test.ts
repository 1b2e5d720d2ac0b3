// to-nhwc: 2-D Conv (constant weight) and pools become local NHWC ops between a Transpose pair; with
// cancel-transposes a conv chain keeps one Transpose at each end. Outputs are checked against onnxruntime-node,
// and convs with a non-constant weight, 1-D convs and MaxPool with Indices stay NCHW.

import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import { cancelTransposes } from '../../src/passes/cancel-transposes.js';
import { nhwcWeight, toNhwc } from '../../src/passes/to-nhwc.js';
import { applyPasses, checkAgainstOrt, opTypesOf, randomConst, randomTensor, runOcellus } from '../helpers/cnn-reference.js';

function convChain(n: number) {
  const b = new GraphBuilder();
  let y = b.input('x', 'float32', ['batch', 3, 12, 12]);
  let c = 3;
  for (let i = 0; i < n; i++) {
    const m = 4 + 2 * i;
    y = b.op('Conv', [y, b.init(`w${i}`, randomConst([m, c, 3, 3], 10 + i)), b.init(`b${i}`, randomConst([m], 20 + i))], { pads: [1, 1, 1, 1], strides: [i === 1 ? 2 : 1, 1] });
    if (i < n - 1) y = b.op('Relu', [y]);
    c = m;
  }
  b.graph.outputs.push({ name: y, dtype: 'float32' });
  return b.model(13);
}

describe('to-nhwc', () => {
  it('rewrites each conv between a Transpose pair, weights transposed once at load', () => {
    const { model, counts } = applyPasses(convChain(3), [toNhwc]);
    expect(counts).toEqual([3]);
    const ops = opTypesOf(model.graph);
    expect(ops.filter(o => o === 'Transpose')).toHaveLength(6);
    expect(ops.filter(o => o === 'local:NhwcConv')).toHaveLength(3);
    const conv = model.graph.nodes.find(n => n.opType === 'NhwcConv')!;
    expect(model.graph.initializers.get(conv.inputs[1]!)!.dims).toEqual([3, 3, 3, 4]);   // [kh, kw, C, M]
  });

  it('a 3-conv chain keeps exactly 2 Transposes with cancel-transposes, batch 1 and 2, same results as ORT', async () => {
    const model = convChain(3);
    const { model: after } = applyPasses(model, [toNhwc, cancelTransposes]);
    expect(opTypesOf(after.graph)).toEqual(['Transpose', 'local:NhwcConv', 'Relu', 'local:NhwcConv', 'Relu', 'local:NhwcConv', 'Transpose']);
    for (const batch of [1, 2]) {
      const { optimized } = await checkAgainstOrt(model, { x: randomTensor([batch, 3, 12, 12], batch) });
      expect(optimized.ops.filter(o => o === 'Transpose'), `batch ${batch}`).toHaveLength(2);
    }
  });

  it('pools go NHWC too, and the global pool comes back NCHW once, before Flatten', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 3, 16, 16]);
    let y = b.op('Relu', [b.op('Conv', [x, b.init('w', randomConst([8, 3, 3, 3], 1)), b.init('b', randomConst([8], 2))], { pads: [1, 1, 1, 1] })]);
    y = b.op('MaxPool', [y], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
    y = b.op('AveragePool', [y], { kernel_shape: [2, 2], strides: [2, 2] });
    y = b.op('Flatten', [b.op('GlobalAveragePool', [y])]);
    b.graph.outputs.push({ name: y, dtype: 'float32' });
    const model = b.model(13);
    const { optimized } = await checkAgainstOrt(model, { x: randomTensor([1, 3, 16, 16], 3) });
    expect(optimized.ops).toEqual(['Transpose', 'local:NhwcConv', 'local:NhwcMaxPool', 'local:NhwcAveragePool', 'local:NhwcGlobalAveragePool', 'Transpose', 'Flatten']);
  });

  it('depthwise weights get tfjs depthwise layout [kh, kw, C, M/C]', () => {
    const w = randomConst([6, 1, 2, 3], 4);
    const t = nhwcWeight(w, 3);
    expect(t.dims).toEqual([2, 3, 3, 2]);
    // element [i, j, c, q] is W[c·2 + q, 0, i, j]
    const at = (d: Float32Array, dims: number[], idx: number[]) => d[idx.reduce((o, v, k) => o * dims[k]! + v, 0)];
    expect(at(t.data as Float32Array, t.dims, [1, 2, 2, 1])).toBe(at(w.data as Float32Array, w.dims, [5, 0, 1, 2]));
  });

  it('leaves alone: non-constant weight, 1-D conv, MaxPool with Indices, global pool of unknown rank', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 2, 8, 8]);
    const w = b.input('w', 'float32', [2, 2, 3, 3]);
    const y = b.op('Conv', [x, w], { pads: [1, 1, 1, 1] });
    b.node('MaxPool', [y], { kernel_shape: [2, 2], strides: [2, 2] }, { outputs: ['p', 'idx'] });
    const s = b.input('s', 'float32', [1, 2, 9]);
    const s1 = b.op('Conv', [s, b.init('w1', randomConst([3, 2, 3], 5))]);
    b.op('GlobalAveragePool', [b.op('Relu', [s1])]);
    b.graph.outputs.push({ name: 'p', dtype: 'float32' }, { name: 'idx', dtype: 'int64' }, { name: b.graph.nodes.at(-1)!.outputs[0]!, dtype: 'float32' });
    const model = b.model(13);
    const { counts, model: after } = applyPasses(model, [toNhwc]);
    expect(counts).toEqual([0]);
    expect(opTypesOf(after.graph)).toEqual(opTypesOf(model.graph));
    const feeds = { x: randomTensor([1, 2, 8, 8], 6), w: randomTensor([2, 2, 3, 3], 7), s: randomTensor([1, 2, 9], 8) };
    const run = await runOcellus(model, feeds, true);
    expect(run.ops).not.toContain('Transpose');
  });
});
