// Multiply-accumulate counts per node, from the node and its planned input/output types (batch as planned). The
// formulas are the op definitions' `macs` traits (kernels/types.ts), reached through the runtime. Convention (the one
// behind the usual "ResNet-50 = 3.86 G, ViT-B/16 = 17.56 G" figures, i.e. fvcore's):
//   Conv            out_elems × (Cin/group) × kH × kW        (bias adds not counted; local:NhwcConv alike)
//   ConvTranspose   in_elems × (Cout/group) × kH × kW
//   MatMul, Gemm    M × N × K per batch (= out_elems × K); attention's Q·Kᵀ and A·V MatMuls count like any other
//   local:Attention B × Nq × Nk × (C_qk + C_v)               (the two products it fuses)
//   everything else 0: elementwise, normalisation, pooling, softmax and data movement are not MACs.

import type { Node, TensorInfo } from '../ir/graph.js';
import { HIGHEST_OPSET } from '../runtime/session.js';
import { macOps, nodeMacs } from '../runtime/op-facts.js';

type Infos = readonly (TensorInfo | undefined)[];

const LATEST: ReadonlyMap<string, number> = new Map([['', HIGHEST_OPSET]]);

/** MACs of one node given its planned input and output types; 0 for ops outside the convention above. `opsets`:
 *  the model's (default: the newest ai.onnx opset ocellus has). */
export function macsOf(n: Node, ins: Infos, outs: Infos, opsets: ReadonlyMap<string, number> = LATEST): number {
  return nodeMacs(opsets)(n, ins, outs);
}

/** Op types that count MACs (for documentation and tests), as 'domain:opType' (':Conv', 'local:NhwcConv'). */
export const MAC_OPS = macOps();
