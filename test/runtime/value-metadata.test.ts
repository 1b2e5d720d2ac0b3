// InferenceSession's inputMetadata and outputMetadata: one ValueMetadata per graph input and output (name, element
// type, declared shape with symbolic dims by name); InputMetadata, onnxruntime-web's name, stays as an alias.

import { describe, expect, it } from 'vitest';
import { InferenceSession, type InputMetadata, type ValueMetadata } from '../../src/index.js';
import { GraphBuilder } from '../../src/ir/builder.js';

describe('value metadata', () => {
  it('describes inputs and outputs alike, as the graph declares them', async () => {
    const b = new GraphBuilder('meta');
    const x = b.input('x', 'float32', ['batch', 4]);
    const k = b.input('k', 'int64', [1]);
    const y = b.op('Relu', [x], {}, 'relu');
    b.op('Identity', [k], {}, 'id');
    b.output(y, 'float32', ['batch', 4]);
    b.output('id_output_0', 'int64', [1]);
    const s = await InferenceSession.create(b.model(13), { optimize: false });
    const inputs: readonly ValueMetadata[] = s.inputMetadata;
    const outputs: readonly ValueMetadata[] = s.outputMetadata;
    expect(inputs).toEqual([{ name: 'x', type: 'float32', shape: ['batch', 4] }, { name: 'k', type: 'int64', shape: [1] }]);
    expect(outputs).toEqual([{ name: y, type: 'float32', shape: ['batch', 4] }, { name: 'id_output_0', type: 'int64', shape: [1] }]);
    const legacy: InputMetadata = outputs[0]!;   // the deprecated name is the same type
    expect(legacy.name).toBe(s.outputNames[0]);
    await s.release();
  });
});
