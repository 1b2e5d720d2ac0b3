// eliminate-identity: drops Identity nodes and inference-time Dropout (no training_mode, or a constant false one;
// its mask output unused). Readers are pointed at the input; a graph output keeps its name by having the input's
// producer write it instead (skipped when that producer's value has other roles).

import type { Graph, Node } from '../ir/graph.js';
import { GraphIndex } from '../ir/graph-index.js';
import { scalarConst } from '../ir/attrs.js';
import type { Pass } from './types.js';

function removable(g: Graph, n: Node, idx: GraphIndex): boolean {
  if (n.domain !== '' || !n.inputs[0] || !n.outputs[0]) return false;
  if (n.opType === 'Identity') return true;
  if (n.opType !== 'Dropout') return false;
  const mask = n.outputs[1];
  if (mask && (idx.readerCount(mask) > 0 || idx.isOutput(mask))) return false;
  return !n.inputs[2] || scalarConst(g, n.inputs[2]) === 0;   // training_mode (opset 12+)
}

export const eliminateIdentity: Pass = {
  name: 'eliminate-identity',
  run(g) {
    const idx = new GraphIndex(g);
    let changes = 0;
    for (const n of g.nodes) {
      if (!removable(g, n, idx)) continue;
      // A graph output whose name cannot move to the input's producer keeps this node.
      if (!idx.bypass(n.outputs[0]!, n.inputs[0]!)) continue;
      idx.remove(n);
      changes++;
    }
    idx.commit();
    return changes;
  },
};
