// nodeSuite(spec): one describe() per operator family running the official ONNX node tests it lists,
// each through the public InferenceSession, with every skip carrying its reason.

import path from 'node:path';
import { describe, it } from 'vitest';
import { DEFAULT_TOL, NODE_TESTS, runOnnxTestFolder, type Tolerance } from './onnx-tests.js';
import { haveTestData } from './test-data.js';

export interface NodeSpec {
  family: string;                          // kernels/<family>.ts
  run: string[];                           // node tests that must pass
  skip?: Record<string, string>;           // node test → why it is not run
  tol?: Tolerance;
  tolFor?: Record<string, Tolerance>;
}

export const HAVE_NODE_TESTS = haveTestData(NODE_TESTS, 'the official ONNX backend node tests (Debian package libonnx-testdata)');

export function nodeSuite(spec: NodeSpec): void {
  describe.skipIf(!HAVE_NODE_TESTS)(`ONNX node tests: ${spec.family}`, () => {
    for (const t of spec.run) {
      it(t, async () => {
        await runOnnxTestFolder(path.join(NODE_TESTS, t), spec.tolFor?.[t] ?? spec.tol ?? DEFAULT_TOL);
      });
    }
    for (const [t, why] of Object.entries(spec.skip ?? {})) it.skip(`${t} — ${why}`, () => {});
  });
}
