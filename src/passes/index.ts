// The ordered pass lists. Load passes see no shapes and run once per session; shaped passes run on each
// shape-specialised plan after inference and folding. The session repeats a list until nothing changes.

import type { Graph, TensorInfo } from '../ir/graph.js';
import { cancelTransposes } from './cancel-transposes.js';
import { eliminateIdentity } from './eliminate-identity.js';
import { foldBatchNorm } from './fold-batchnorm.js';
import { fuseConvActivation } from './fuse-conv-activation.js';
import { toNhwc } from './to-nhwc.js';
import type { Pass, PassReport } from './types.js';

export type { Pass, PassContext, PassReport } from './types.js';

// CNN: BatchNorm into conv weights, then NHWC layout (to-nhwc inserts transposes, cancel-transposes removes them),
// then the conv's activation into its kernel.
export const LOAD_PASSES: Pass[] = [eliminateIdentity, foldBatchNorm, toNhwc, cancelTransposes, fuseConvActivation];

export const SHAPED_PASSES: { name: string; run(g: Graph, infos: ReadonlyMap<string, TensorInfo>, opsets: ReadonlyMap<string, number>): number }[] = [];

/** Runs the passes in order until a full round changes nothing; returns per-pass totals. */
export function runLoadPasses(g: Graph, opsets: ReadonlyMap<string, number>, passes: readonly Pass[]): PassReport[] {
  const totals = new Map<string, PassReport>();
  for (let round = 0; round < 10; round++) {
    let changed = 0;
    for (const p of passes) {
      const before = g.nodes.length;
      const n = p.run(g, { opsets });
      changed += n;
      const r = totals.get(p.name) ?? { pass: p.name, changes: 0, nodesBefore: before, nodesAfter: before };
      r.changes += n;
      r.nodesAfter = g.nodes.length;
      totals.set(p.name, r);
    }
    if (changed === 0) break;
  }
  return [...totals.values()];
}
