// The pass contract: a small function over the IR that returns how many rewrites it made (0 = no change).

import type { Graph, TensorInfo } from '../ir/graph.js';

export interface Pass {
  name: string;
  run(g: Graph, ctx: PassContext): number;
}

export interface PassContext {
  opsets: ReadonlyMap<string, number>;
  /** Known value types (only for passes that run after shapes are known). */
  infos?: ReadonlyMap<string, TensorInfo>;
}

export interface PassReport {
  pass: string;
  changes: number;
  nodesBefore: number;
  nodesAfter: number;
}
