// The passes' window on the op definitions' traits (kernels/types.ts OpDef: elementwise, activation, gate): passes
// see only the IR, so the runtime answers from the registry. A node resolves as when planning (its domain's opset);
// a node without a definition has no facts. Attributes are parsed (once per node, through the Resolver) only for the
// traits that depend on them, so a malformed node fails here with the same error planning would give.

import type { OpDef } from '../../kernels/types.js';
import { opsetFor, resolveOp } from '../../kernels/registry.js';
import type { ConstTensor, Node } from '../ir/graph.js';
import type { FusedActivation, OpFacts } from '../ir/op-traits.js';
import { Resolver } from './plan.js';

/** OpFacts for a model importing `opsets`; `resolver` shares its parses with the caller's (a session's load passes). */
export function opFacts(opsets: ReadonlyMap<string, number>, resolver = new Resolver(opsets)): OpFacts {
  const defOf = (n: Node): OpDef<any> | undefined => resolveOp(n.domain, n.opType, opsetFor(opsets, n.domain) ?? 0);
  const withAttrs = <T>(n: Node, constants: ReadonlyMap<string, ConstTensor> | undefined,
    f: (def: OpDef<any>, a: unknown, view: ReturnType<Resolver['view']>) => T): T => {
    const view = resolver.view(n, constants);
    const { def, attrs } = resolver.parsed(n, view);
    return f(def, attrs, view);
  };
  const fused = (n: Node, constants: ReadonlyMap<string, ConstTensor>, which: 'activation' | 'gate'): FusedActivation | undefined =>
    defOf(n)?.[which] ? withAttrs(n, constants, (def, a, view) => def[which]!(a, view)) : undefined;
  return {
    elementwise(n) {
      const def = defOf(n);
      if (!def?.elementwise) return undefined;
      return !def.elementwiseIf || withAttrs(n, undefined, (d, a) => d.elementwiseIf!(a)) ? def.elementwise : undefined;
    },
    activation: (n, constants) => fused(n, constants, 'activation'),
    gate: (n, constants) => fused(n, constants, 'gate'),
  };
}
