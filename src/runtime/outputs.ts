// What the runtime can say about a model's outputs from its graph, for the layers above that must not walk the IR.

import { producers } from '../ir/edit.js';
import type { Model } from '../ir/graph.js';

/** Whether `output` is already a probability distribution: the file's graph ends in Softmax (through Identities). */
export function outputIsProbability(model: Model, output = model.graph.outputs[0]?.name): boolean {
  if (output === undefined) return false;
  const prod = producers(model.graph);
  let node = prod.get(output);
  const seen = new Set<string>();
  while (node && node.opType === 'Identity' && !seen.has(node.name)) {
    seen.add(node.name);
    node = prod.get(node.inputs[0]!);
  }
  return node?.opType === 'Softmax';
}
