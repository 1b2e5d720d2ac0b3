// The dynamic-quantized fixtures (onnxruntime's quantize_dynamic patterns: DynamicQuantizeLinear → MatMulInteger /
// ConvInteger → Cast → Mul) against onnxruntime-node's outputs, with the graph passes on (fused local ops) and off
// (one kernel per ONNX node). atol 5e-3 and the same top-1: a float32 rounding difference before a
// DynamicQuantizeLinear can move one activation by a quantization step (see shared/fixtures/README.md).

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InferenceSession } from '../../src/index.js';
import { dataSets, readTensorPb, runOnnxTestFolder, SHARED } from '../helpers/onnx-tests.js';

const FIXTURES = ['vit-hf-tiny-op14-q8', 'resnet-tv-tiny-op13-q8'];
const TOL = { rtol: 0, atol: 5e-3 };

const argmax = (v: ArrayLike<number>) => Array.from(v).reduce((b, x, i, a) => (x > a[b]! ? i : b), 0);

describe.each(FIXTURES)('%s', name => {
  const dir = path.join(SHARED, 'fixtures', name);
  for (const optimize of [true, false]) {
    it(`matches onnxruntime within 5e-3 with the same top-1 (passes ${optimize ? 'on' : 'off'})`, async () => {
      const maxDiff = await runOnnxTestFolder(dir, TOL, { optimize });
      const session = await InferenceSession.create(path.join(dir, 'model.onnx'), { optimize });
      try {
        for (const set of dataSets(dir)) {
          const input = readTensorPb(path.join(set, 'input_0.pb'));
          const want = readTensorPb(path.join(set, 'output_0.pb')).tensor;
          const got = (await session.run({ [session.inputNames[0]!]: input.tensor }))[session.outputNames[0]!]!;
          expect(argmax(got.data as Float32Array)).toBe(argmax(want.data as Float32Array));
        }
      } finally {
        await session.release();
      }
      console.log(`${name} (passes ${optimize ? 'on' : 'off'}): max |ours − onnxruntime| = ${maxDiff.toExponential(2)}`);
    });
  }
});
