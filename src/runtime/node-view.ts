// Builds the NodeView / InferView a definition's parse and infer see: attribute reader, constant lookup,
// and failure helpers that raise ModelError naming the node.

import { AttrReader } from '../../kernels/attrs.js';
import type { InferView } from '../../kernels/types.js';
import type { ConstTensor, Node } from '../ir/graph.js';
import { toNumbers } from '../ir/tensor.js';
import { ModelError } from './errors.js';

export function nodeView(node: Node, opset: number, constants?: ReadonlyMap<string, ConstTensor>): InferView {
  const ref = { opType: node.opType, name: node.name, domain: node.domain, opset };
  const fail = (detail: string): never => { throw new ModelError(ref, detail); };
  const view: InferView = {
    name: node.name, opType: node.opType, domain: node.domain, opset,
    inputs: node.inputs, outputs: node.outputs,
    attrs: new AttrReader(node.attrs, fail),
    has: i => !!node.inputs[i],
    fail,
    check(cond, detail) { if (!cond) fail(detail()); },
    requireDefault(name, dflt) {
      const a = node.attrs[name];
      if (a && a.value !== dflt) fail(`attribute ${name}=${JSON.stringify(a.value)} is not supported (only ${JSON.stringify(dflt)})`);
    },
    constant: i => (node.inputs[i] ? constants?.get(node.inputs[i]!) : undefined),
    ints(i, what) {
      const c = view.constant(i);
      if (!c) fail(`input ${i} (${what}, '${node.inputs[i] ?? ''}') must be a constant or computable from shapes when planning`);
      return toNumbers(c!);
    },
  };
  return view;
}
