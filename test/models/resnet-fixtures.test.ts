// The fp32 ResNet-style fixtures (torchvision and Hugging Face exports, opsets 13 and 17, external data) run end to
// end against onnxruntime's stored outputs, with graph passes on (NHWC, fused conv+bias+relu) and off (NCHW
// kernels), batch 1 and batch 2; with passes on, the plan must be NHWC from the first conv to the head.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InferenceSession } from '../../src/index.js';
import { SHARED, dataSets, readTensorPb, runOnnxTestFolder } from '../helpers/onnx-tests.js';
import { haveTestData } from '../helpers/test-data.js';

const FIXTURES = ['resnet-tv-tiny-op13', 'resnet-tv-tiny-op17', 'resnet-hf-tiny-op17-extdata'];
const TOL = { rtol: 1e-3, atol: 1e-4 };

for (const name of FIXTURES) {
  const dir = path.join(SHARED, 'fixtures', name);
  describe.skipIf(!haveTestData(dir, `the ../shared fixture ${name}`))(name, () => {
    for (const optimize of [true, false]) {
      it(`matches onnxruntime on every data set, passes ${optimize ? 'on' : 'off'}`, async () => {
        const maxDiff = await runOnnxTestFolder(dir, TOL, { optimize });
        expect(maxDiff).toBeLessThan(TOL.atol);
      });
    }

    it('with passes on: no BatchNorm, every conv NHWC with its Relu (and residual Add) fused, one Transpose at each end', async () => {
      const session = await InferenceSession.create(path.join(dir, 'model.onnx'));
      try {
        for (const set of dataSets(dir)) {
          const x = readTensorPb(path.join(set, 'input_0.pb')).tensor;
          const steps = session.plan({ [session.inputNames[0]!]: x }).steps;
          const ops = steps.map(s => (s.node.domain ? `${s.node.domain}:` : '') + s.node.opType);
          expect(ops.filter(o => o === 'Conv' || o === 'BatchNormalization' || o === 'MaxPool' || o === 'GlobalAveragePool')).toEqual([]);
          expect(ops.filter(o => o === 'local:NhwcConv')).toHaveLength(17);
          expect(ops.filter(o => o === 'Transpose'), `transposes in ${ops.join(' ')}`).toHaveLength(2);
          expect(ops[0]).toBe('Transpose');
          // All 13 Relus are fused into convs: 9 directly, 4 at the block ends with the residual Add (input Z).
          expect(ops.filter(o => o === 'Relu' || o === 'Add')).toEqual([]);
          expect(steps.filter(s => s.node.opType === 'NhwcConv' && s.node.attrs['activation']?.value === 'relu')).toHaveLength(13);
          expect(steps.filter(s => s.node.opType === 'NhwcConv' && s.node.inputs[3])).toHaveLength(4);
        }
      } finally {
        await session.release();
      }
    });
  });
}
