// Runs one definition on host constants (for constant folding): upload, plan, run, read back, dispose — what the
// plan derived included.

import * as tf from '@tensorflow/tfjs-core';
import type { ConstTensor } from '../src/ir/graph.js';
import { DerivedStore } from './derived.js';
import type { NodeView, OpDef, RunCtx, ValueInfo } from './types.js';
import { constToTensor, tensorToConst } from './util.js';

export function evaluateOp(def: OpDef<any>, attrs: unknown, consts: readonly (ConstTensor | undefined)[],
  ins: readonly (ValueInfo | undefined)[], outs: readonly ValueInfo[], n: NodeView): ConstTensor[] | undefined {
  if (outs.some(o => o.dtype === 'string' || o.dtype === 'uint64') || ins.some(i => i && (i.dtype === 'string' || i.dtype === 'uint64'))) return undefined;
  const tensors = consts.map(c => (c ? constToTensor(c) : undefined));
  const store = new DerivedStore();
  try {
    const ctx: RunCtx = { inputs: ins, outputs: outs, consts };
    const results = tf.tidy(() => {
      const state = def.plan?.(n, tensors, attrs, { ...ctx, derive: (s, k, make) => store.get(s, k, make) });
      return def.run(tensors, attrs, ctx, state);
    });
    try {
      return results.map((r, i) => tensorToConst(r, outs[i]?.dtype ?? 'float32'));
    } finally {
      results.forEach(r => r.dispose());
    }
  } catch (e) {
    n.fail(`failed while folding constants: ${(e as Error).message}`);
  } finally {
    store.clear();
    tensors.forEach(t => t?.dispose());
  }
}
