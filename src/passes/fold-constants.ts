// fold-constants: nodes whose inputs are all constants (Constant nodes themselves included) are evaluated once, at
// load, through the kernel evaluator the runtime puts in the context; their outputs become initializers. Results
// much larger than their inputs (ConstantOfShape, Expand, Tile of small constants) stay nodes: folding them would
// only trade a cheap op for memory. Runs without shapes; nodes the evaluator cannot handle are left alone.

import { sizeOf } from '../ir/dtype.js';
import type { ConstTensor, Graph, Node } from '../ir/graph.js';
import { irStats } from '../ir/graph-index.js';
import type { Pass, PassContext } from './types.js';

/** A folded output may exceed its inputs by this many elements at most. */
const MAX_GROWTH = 1 << 16;

export const foldConstants: Pass = {
  name: 'fold-constants',
  run(g, ctx) {
    if (!ctx.evaluate) return 0;
    let count = 0;
    const kept: Node[] = [];
    const outputs = new Set(g.outputs.map(o => o.name));
    for (const node of g.nodes) {
      const values = foldable(g, node, outputs) ? tryEvaluate(ctx, node, node.inputs.map(i => (i ? g.initializers.get(i) : undefined))) : undefined;
      if (!values) {
        kept.push(node);
        continue;
      }
      node.outputs.forEach((o, i) => { if (o) g.initializers.set(o, values[i]!); });
      count++;
    }
    irStats.visits += g.nodes.length;
    g.nodes = kept;
    return count;
  },
};

function foldable(g: Graph, node: Node, graphOutputs: ReadonlySet<string>): boolean {
  // A graph output that became a constant would still be fine, but keeping its producer keeps the output's
  // dtype/shape declared by a node; constant outputs are rare enough not to matter.
  return node.inputs.every(i => !i || g.initializers.has(i)) && !node.outputs.some(o => graphOutputs.has(o));
}

function tryEvaluate(ctx: PassContext, node: Node, inputs: (ConstTensor | undefined)[]): ConstTensor[] | undefined {
  let values: ConstTensor[] | undefined;
  try {
    values = ctx.evaluate!(node, inputs);
  } catch {
    return undefined;   // planning will evaluate (or reject) the node again and report it with its context
  }
  if (!values || values.length < node.outputs.filter(o => o).length) return undefined;
  if (node.opType === 'Constant' && node.domain === '') return values;   // its data is in the file already
  const given = inputs.reduce((s, c) => s + (c ? sizeOf(c.dims) : 0), 0);
  return values.every(v => sizeOf(v.dims) <= given + MAX_GROWTH) ? values : undefined;
}
