// The pass contract: a small function over the IR that returns how many rewrites it made (0 = no change). A pass
// queries and edits through one GraphIndex (src/ir/graph-index.ts) built when it starts and committed when it ends,
// so a run costs O(nodes) plus its rewrites; none rebuilds a producer/reader map or scans the node list per node.

import type { ConstTensor, Graph, Node, TensorInfo } from '../ir/graph.js';
import type { OpFacts } from '../ir/op-traits.js';

export interface Pass {
  name: string;
  run(g: Graph, ctx: PassContext): number;
}

export interface PassContext {
  opsets: ReadonlyMap<string, number>;
  /** What the op definitions say about a node (elementwise, fusable activation…): injected by the runtime
   *  (src/runtime/op-facts.ts) so that no pass keeps its own list of ops. */
  facts: OpFacts;
  /** Known value types (only for passes that run after shapes are known). */
  infos?: ReadonlyMap<string, TensorInfo>;
  /** Computes a node's outputs from constant inputs with its kernel (injected by the runtime: passes never import
   *  kernels); undefined when the node cannot be evaluated that way. */
  evaluate?(node: Node, inputs: readonly (ConstTensor | undefined)[]): ConstTensor[] | undefined;
}

export interface PassReport {
  pass: string;
  changes: number;
  nodesBefore: number;
  nodesAfter: number;
  /** Nodes the pass itself removed, summed over rounds (nodesBefore − nodesAfter also counts other passes' work). */
  removed: number;
}
