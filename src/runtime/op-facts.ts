// The passes' window on the op definitions' traits (kernels/types.ts OpDef: elementwise, activation, gate): passes
// see only the IR, so the runtime answers from the registry. A node resolves as when planning (its domain's opset);
// a node without a definition has no facts. Attributes are parsed (once per node, through the Resolver) only for the
// traits that depend on them, so a malformed node fails here with the same error planning would give.

import type { OpDef } from '../../kernels/types.js';
import { ALL_OPS, opsetFor, resolveOp } from '../../kernels/registry.js';
import type { ConstTensor, Node, TensorInfo } from '../ir/graph.js';
import type { DisplayFamily, FusedActivation, OpFacts } from '../ir/op-traits.js';
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

type Infos = readonly (TensorInfo | undefined)[];

/** Multiply-accumulates of node `n` from its planned types, by its definition's `macs` trait (0 without one, or
 *  without a definition); for inspect, which sees no kernels. */
export function nodeMacs(opsets: ReadonlyMap<string, number>): (n: Node, ins: Infos, outs: Infos) => number {
  const resolver = new Resolver(opsets);
  return (n, ins, outs) => {
    const def = resolveOp(n.domain, n.opType, opsetFor(opsets, n.domain) ?? 0);
    return def?.macs ? def.macs(resolver.parsed(n, resolver.view(n)).attrs, ins, outs) : 0;
  };
}

/** The report family of node `n` (its definition's `family` trait), undefined without one. */
export function nodeFamily(n: Node, opsets: ReadonlyMap<string, number>): DisplayFamily | undefined {
  return resolveOp(n.domain, n.opType, opsetFor(opsets, n.domain) ?? 0)?.family;
}

/** 'domain:opType' of every definition with a `macs` trait. */
export function macOps(): string[] {
  return [...new Set(ALL_OPS.filter(d => d.macs).map(d => `${d.domain ?? ''}:${d.opType}`))];
}
