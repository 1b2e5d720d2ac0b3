// Runs one definition on host constants (for constant folding): upload, run, read back, dispose.

import * as tf from '@tensorflow/tfjs-core';
import type { ConstTensor } from '../src/ir/graph.js';
import type { NodeView, OpDef, ValueInfo } from './types.js';
import { constToTensor, tensorToConst } from './util.js';

export function evaluateOp(def: OpDef<any>, attrs: unknown, consts: readonly (ConstTensor | undefined)[],
  ins: readonly (ValueInfo | undefined)[], outs: readonly ValueInfo[], n: NodeView): ConstTensor[] | undefined {
  if (outs.some(o => o.dtype === 'string' || o.dtype === 'uint64') || ins.some(i => i && (i.dtype === 'string' || i.dtype === 'uint64'))) return undefined;
  const tensors = consts.map(c => (c ? constToTensor(c) : undefined));
  try {
    const results = tf.tidy(() => def.run(tensors, attrs, { inputs: ins, outputs: outs, consts }));
    try {
      return results.map((r, i) => tensorToConst(r, outs[i]?.dtype ?? 'float32'));
    } finally {
      results.forEach(r => r.dispose());
    }
  } catch (e) {
    n.fail(`failed while folding constants: ${(e as Error).message}`);
  } finally {
    tensors.forEach(t => t?.dispose());
  }
}
