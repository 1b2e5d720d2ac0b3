// fuse-conv-activation: local:NhwcConv followed by its only reader, an op whose definition has an `activation` trait
// (Relu, Clip, LeakyRelu, Sigmoid, Elu(1), HardSigmoid, HardSwish…: kernels/types.ts, asked through ctx.facts), or by
// y·gate(y) for a gate whose definition has a `gate` trait (SiLU as Sigmoid + Mul: the conv's output read by exactly
// those two; HardSwish as HardSigmoid(1/6, ½) + Mul, how torch exports it before opset 14), takes that activation
// into its kernel (tfjs-wasm's for ReLU, ReLU6, sigmoid, leaky ReLU and ELU; ocellus's, from
// kernels/wasm/activations.ts, for the others, or after the tfjs conv where ocellus's kernels do not run). A residual
// Add between conv and Relu (ResNet's block end) is left alone: the conv's reader is then the Add.

import type { AttrValue, Graph, Node } from '../ir/graph.js';
import { GraphIndex } from '../ir/graph-index.js';
import type { FusedActivation, OpFacts } from '../ir/op-traits.js';
import type { Pass } from './types.js';

/** The conv attributes that apply `f`. */
function convAttrs(f: FusedActivation): Record<string, AttrValue> {
  const floats = { alpha: f.alpha, beta: f.beta, min: f.min, max: f.max };
  return {
    activation: { type: 'string', value: f.kind },
    ...Object.fromEntries(Object.entries(floats).filter(([, v]) => v !== undefined).map(([k, v]) => [k, { type: 'float', value: v! } as AttrValue])),
  };
}

/** [gate, Mul, activation] when `y` is read by exactly a gate and a Mul of y and that gate (its only reader):
 *  y·σ(y) is SiLU, y·HardSigmoid(y; 1/6, ½) is HardSwish. */
function gatedOf(g: Graph, idx: GraphIndex, facts: OpFacts, y: string): [Node, Node, FusedActivation] | undefined {
  const readers = idx.readers(y);
  if (readers.length !== 2 || idx.isOutput(y)) return undefined;
  const gate = readers.find(n => n.inputs[0] === y && n.opType !== 'Mul' && facts.gate(n, g.initializers));
  const mul = gate && idx.onlyReader(gate.outputs[0]!, 'Mul');
  if (!gate || !mul || !readers.includes(mul) || mul.inputs.length !== 2) return undefined;
  const [p, q] = mul.inputs;
  return (p === y && q === gate.outputs[0]) || (q === y && p === gate.outputs[0]) ? [gate, mul, facts.gate(gate, g.initializers)!] : undefined;
}

export const fuseConvActivation: Pass = {
  name: 'fuse-conv-activation',
  run(g, ctx) {
    let changes = 0;
    const idx = new GraphIndex(g);
    for (const conv of g.nodes) {
      if (conv.opType !== 'NhwcConv' || conv.domain !== 'local' || !idx.has(conv)) continue;
      const current = conv.attrs['activation'];
      if (current && current.value !== '' && current.value !== 'linear') continue;
      const y = conv.outputs[0]!;
      const gated = gatedOf(g, idx, ctx.facts, y);
      const reader = gated?.[1] ?? idx.onlyReader(y);
      if (!reader || (!gated && reader.inputs[0] !== y)) continue;
      const act = gated?.[2] ?? ctx.facts.activation(reader, g.initializers);
      if (!act) continue;
      conv.attrs = { ...conv.attrs, ...convAttrs(act) };
      for (const n of gated ? gated.slice(0, 2) as Node[] : [reader]) idx.remove(n);
      idx.setOutputs(conv, [reader.outputs[0]!]);
      changes++;
    }
    idx.commit();
    return changes;
  },
};
