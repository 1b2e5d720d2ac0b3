// Graph-level load checks (issue #18, item 6): one definition per value name and defined graph outputs, judged
// against onnxruntime-node on the same bytes; ai.onnx opsets past the registry's refused by name; every file in
// ../shared/fixtures/bad refused with a clear error; valid models (one with external data) still load and run.

import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { InferenceSession, ModelLoadError, Tensor, UnsupportedOpsError } from '../../src/index.js';
import { onnx } from '../../src/onnx/proto.js';
import { HIGHEST_OPSET } from '../../src/runtime/session.js';
import { SHARED, runOnnxTestFolder } from '../helpers/onnx-tests.js';
import { haveTestData } from '../helpers/test-data.js';

const T = onnx.TensorProto.DataType;
const BAD = path.join(SHARED, 'fixtures/bad');
const vi = (name: string) => ({ name, type: { tensorType: { elemType: T.FLOAT, shape: { dim: [{ dimValue: 2 }] } } } });
const W = (values: number[]) => ({ name: 'W', dims: [2], dataType: T.FLOAT, floatData: values });
const relu = (i: string, o: string, name = 'r') => ({ opType: 'Relu', input: [i], output: [o], name });

function model(graph: onnx.IGraphProto, opset = 13): Uint8Array {
  return onnx.ModelProto.encode({ irVersion: 8, opsetImport: [{ domain: '', version: opset }], graph: { name: 'g', ...graph } }).finish();
}

/** Graphs onnxruntime refuses or accepts for how they name values; `refused`: our message after the file name. */
const CASES: { name: string; bytes: Uint8Array; refused?: string }[] = [
  { name: 'two nodes write Y', refused: "node Neg 'n': output 'Y' is already defined by node Relu 'r' (each value must have one definition)",
    bytes: model({ node: [relu('X', 'Y'), { opType: 'Neg', input: ['X'], output: ['Y'], name: 'n' }], input: [vi('X')], output: [vi('Y')] }) },
  { name: 'a node writes a graph input', refused: "node Relu 'r': output 'X' is already defined by a graph input (each value must have one definition)",
    bytes: model({ node: [relu('X', 'X')], input: [vi('X')], output: [vi('X')] }) },
  { name: 'a node writes an initializer', refused: "node Relu 'r': output 'W' is already defined by an initializer (each value must have one definition)",
    bytes: model({ node: [relu('X', 'W'), { opType: 'Add', input: ['X', 'W'], output: ['Y'], name: 'a' }], input: [vi('X')], output: [vi('Y')], initializer: [W([1, 2])] }) },
  { name: 'a node writes an initializer that is also an input', refused: "node Relu 'r': output 'W' is already defined by a graph input (each value must have one definition)",
    bytes: model({ node: [relu('X', 'W'), { opType: 'Add', input: ['X', 'W'], output: ['Y'], name: 'a' }], input: [vi('X'), vi('W')], output: [vi('Y')], initializer: [W([1, 2])] }) },
  { name: 'one node names an output twice', refused: "node Split 's': output 'Y' is already defined by node Split 's' (each value must have one definition)",
    bytes: model({ node: [{ opType: 'Split', input: ['X'], output: ['Y', 'Y'], name: 's' }], input: [vi('X')], output: [vi('Y')] }) },
  { name: 'a graph input declared twice', refused: "graph input 'X' is declared twice",
    bytes: model({ node: [{ opType: 'Add', input: ['X', 'X'], output: ['Y'], name: 'a' }], input: [vi('X'), vi('X')], output: [vi('Y')] }) },
  { name: 'a graph output nothing defines', refused: "graph output 'Z' is not a graph input, an initializer or any node's output",
    bytes: model({ node: [relu('X', 'Y')], input: [vi('X')], output: [vi('Z')] }) },
  { name: 'a node input nothing defines', refused: "Add 'a': input 'Q' is not a graph input, an initializer, or any node's output",
    bytes: model({ node: [{ opType: 'Add', input: ['X', 'Q'], output: ['Y'], name: 'a' }], input: [vi('X')], output: [vi('Y')] }) },
  { name: 'two initializers named W (the last one counts)',
    bytes: model({ node: [{ opType: 'Add', input: ['X', 'W'], output: ['Y'], name: 'a' }], input: [vi('X')], output: [vi('Y')], initializer: [W([1, 2]), W([30, 40])] }) },
  { name: 'an initializer that is also an input (a default)',
    bytes: model({ node: [{ opType: 'Add', input: ['X', 'W'], output: ['Y'], name: 'a' }], input: [vi('X')], output: [vi('Y')], initializer: [W([1, 2])] }) },
  { name: 'optional outputs left empty', bytes: model({ node: [{ opType: 'Dropout', input: ['X'], output: ['Y', ''], name: 'd' }, { opType: 'Dropout', input: ['Y'], output: ['Z', ''], name: 'd2' }], input: [vi('X')], output: [vi('Z')] }) },
];

describe('one definition per value, as onnxruntime judges it', () => {
  for (const c of CASES) {
    it(`${c.name}: ${c.refused ? 'refused' : 'accepted'} by both, with the same outputs when accepted`, async () => {
      const theirs = await ort.InferenceSession.create(c.bytes).then(s => s, (e: Error) => e);
      const ours = await InferenceSession.create(c.bytes, { name: 'g.onnx' }).then(s => s, (e: Error) => e);
      expect(theirs instanceof Error, `onnxruntime: ${theirs instanceof Error ? theirs.message : 'accepted'}`).toBe(!!c.refused);
      if (c.refused) {
        expect(ours).toBeInstanceOf(ModelLoadError);
        expect((ours as Error).message).toBe(`g.onnx: ${c.refused}`);
        return;
      }
      expect(ours, (ours as Error).message).toBeInstanceOf(InferenceSession);
      const x = new Float32Array([0.5, -3]);
      const want = await (theirs as ort.InferenceSession).run({ X: new ort.Tensor('float32', x, [2]) });
      const got = await (ours as InferenceSession).run({ X: new Tensor('float32', x, [2]) });
      for (const k of Object.keys(want)) expect(Array.from(got[k]!.data as Float32Array), k).toEqual(Array.from(want[k]!.data as Float32Array));
      await (ours as InferenceSession).release();
    });
  }
});

describe('opsets', () => {
  const reluAt = (opset: number) => model({ node: [relu('X', 'Y')], input: [vi('X')], output: [vi('Y')] }, opset);

  it(`an ai.onnx opset above ${HIGHEST_OPSET} (the newest any registered definition is for) is refused by name`, async () => {
    expect(HIGHEST_OPSET).toBeGreaterThanOrEqual(17);   // the opset-17 fixtures must load
    for (const opset of [HIGHEST_OPSET + 1, 99]) {
      const err = await InferenceSession.create(reluAt(opset), { name: `op${opset}.onnx` }).catch(e => e);
      expect(err).toBeInstanceOf(ModelLoadError);
      expect(err.message).toBe(`op${opset}.onnx: opset_import asks for ai.onnx opset ${opset}, but the highest opset ocellus supports is ${HIGHEST_OPSET}`);
    }
    await expect(ort.InferenceSession.create(reluAt(99))).rejects.toThrow(/Opset 99 is under development/);
  });

  it('a node of a domain the model does not import is a ModelLoadError naming file and node', async () => {
    const bytes = model({ node: [{ ...relu('X', 'Y'), domain: 'com.example' }], input: [vi('X')], output: [vi('Y')] });
    const err = await InferenceSession.create(bytes, { name: 'd.onnx' }).catch(e => e);
    expect(err).toBeInstanceOf(ModelLoadError);
    expect(err.message).toBe("d.onnx: com.example:Relu 'r': domain 'com.example' is not in the model's opset_import");
  });

  it(`opset ${HIGHEST_OPSET} itself loads and runs`, async () => {
    const s = await InferenceSession.create(reluAt(HIGHEST_OPSET));
    const out = await s.run({ X: new Tensor('float32', new Float32Array([2, -2]), [2]) });
    expect(Array.from(out.Y!.data as Float32Array)).toEqual([2, 0]);
    await s.release();
  });
});

describe('the bad fixtures, then good models', () => {
  const bad = haveTestData(BAD, 'the bad-model fixtures of ../shared') ? fs.readdirSync(BAD).filter(f => f.endsWith('.onnx')).sort() : [];

  it.skipIf(!bad.length)('every file in fixtures/bad is refused with an error naming it (ModelLoadError, or the op list for unknown-op)', async () => {
    expect(bad).toEqual(expect.arrayContaining(['missing-external-data.onnx', 'rawdata-size-mismatch.onnx', 'truncated.onnx', 'unknown-op.onnx']));
    for (const f of bad) {
      const file = path.join(BAD, f);
      const err = await InferenceSession.create(file).then(() => expect.fail(`${f} was accepted`), e => e);
      expect(err instanceof ModelLoadError || err instanceof UnsupportedOpsError, `${f}: ${err.name}: ${err.message}`).toBe(true);
      expect(err.message.startsWith(`${file}: `), err.message).toBe(true);
    }
  });

  for (const name of ['resnet-tv-tiny-op13', 'resnet-hf-tiny-op17-extdata']) {
    const dir = path.join(SHARED, 'fixtures', name);
    it.skipIf(!haveTestData(dir, `the ../shared fixture ${name}`))(`${name} still loads and matches onnxruntime's stored outputs`, async () => {
      expect(await runOnnxTestFolder(dir, { rtol: 1e-3, atol: 1e-4 })).toBeLessThan(1e-4);
    });
  }
});
