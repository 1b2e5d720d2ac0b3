// The ordered pass lists. Load passes see no shapes and run once per session; shaped passes run on each
// shape-specialised plan after inference and folding. The session repeats a list until nothing changes (at most
// 10 rounds at load, 22 when planning), each pass one O(nodes) run per round.

import type { Graph } from '../ir/graph.js';
import { cancelTransposes } from './cancel-transposes.js';
import { eliminateIdentity } from './eliminate-identity.js';
import { foldBatchNorm } from './fold-batchnorm.js';
import { foldConstants } from './fold-constants.js';
import { foldMatMulScale } from './fold-matmul-scale.js';
import { fuseChannelShuffle } from './fuse-channel-shuffle.js';
import { fuseAttention } from './fuse-attention.js';
import { fuseConvActivation } from './fuse-conv-activation.js';
import { fuseConvResidual } from './fuse-conv-residual.js';
import { fuseGelu } from './fuse-gelu.js';
import { fuseLayerNorm } from './fuse-layernorm.js';
import { fuseMatMulActivation } from './fuse-matmul-activation.js';
import { fuseMatMulAdd } from './fuse-matmul-add.js';
import { fuseMatMulResidual } from './fuse-matmul-residual.js';
import { fuseQuantizedChains } from './fuse-quantized-chains.js';
import { pretransposeGemm } from './pretranspose-gemm.js';
import { splitQkv } from './split-qkv.js';
import { toNhwc } from './to-nhwc.js';
import type { Pass, PassContext, PassReport } from './types.js';

export type { Pass, PassContext, PassReport } from './types.js';

// CNN: BatchNorm into conv weights, then NHWC layout (to-nhwc inserts transposes, cancel-transposes removes them),
// then the conv's activation into its kernel.
// Quantized models: onnxruntime's DynamicQuantizeLinear→MatMulInteger/ConvInteger→Cast→Mul chains into single ops
// (conv ones NHWC, so they run before to-nhwc/cancel-transposes).
export const LOAD_PASSES: Pass[] = [foldConstants, eliminateIdentity, foldBatchNorm, fuseQuantizedChains, toNhwc, cancelTransposes, fuseConvActivation, pretransposeGemm];

/** Shaped passes get `ctx.infos` (every value's dtype and concrete shape) and see folded reshape targets. */
export const SHAPED_PASSES: Pass[] = [fuseChannelShuffle, fuseConvResidual, fuseLayerNorm, fuseGelu, fuseMatMulAdd, fuseMatMulActivation, foldMatMulScale, fuseMatMulResidual, splitQkv, fuseAttention];

/** Runs each pass once, adding to `totals` (per pass: rewrites, and nodes it removed); returns the rewrites. */
export function runPassRound(g: Graph, ctx: PassContext, passes: readonly Pass[], totals: Map<string, PassReport>): number {
  let changed = 0;
  for (const p of passes) {
    const before = g.nodes.length;
    const n = p.run(g, ctx);
    changed += n;
    const r = totals.get(p.name) ?? { pass: p.name, changes: 0, nodesBefore: before, nodesAfter: before, removed: 0 };
    r.changes += n;
    r.nodesAfter = g.nodes.length;
    r.removed += before - g.nodes.length;
    totals.set(p.name, r);
  }
  return changed;
}

/** Runs the passes in order until a full round changes nothing; returns per-pass totals. */
export function runLoadPasses(g: Graph, ctx: PassContext, passes: readonly Pass[]): PassReport[] {
  const totals = new Map<string, PassReport>();
  for (let round = 0; round < 10; round++) {
    if (runPassRound(g, ctx, passes, totals) === 0) break;
  }
  return [...totals.values()];
}
