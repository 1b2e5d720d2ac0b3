// fuse-conv-activation: local:NhwcConv followed by its only reader Relu / Clip / LeakyRelu / Sigmoid / Elu(1) /
// HardSigmoid / HardSwish / Gelu (exact), or by SiLU as Sigmoid + Mul (x·σ(x): the conv's output read by exactly
// those two) or HardSwish as HardSigmoid(1/6, ½) + Mul (how torch exports it before opset 14), becomes the conv's
// `activation`, applied inside the same kernel (tfjs-wasm's for ReLU, ReLU6, sigmoid,
// leaky ReLU and ELU; ocellus's for the others, or after the tfjs conv where ocellus's kernels do not run). A
// residual Add between conv and Relu (ResNet's block end) is left alone: the conv's reader is then the Add.

import { floatAttr, scalarConst } from '../ir/attrs.js';
import type { AttrValue, Graph, Node } from '../ir/graph.js';
import { GraphIndex } from '../ir/graph-index.js';
import type { Pass } from './types.js';

/** The fused activation (and its attributes) equivalent to elementwise node `a`, if tfjs has one. */
function activationOf(g: Graph, a: Node): Record<string, AttrValue> | undefined {
  if (a.domain !== '') return undefined;
  const act = (name: string, floats: Record<string, number> = {}): Record<string, AttrValue> => ({
    activation: { type: 'string', value: name },
    ...Object.fromEntries(Object.entries(floats).map(([k, v]) => [k, { type: 'float', value: v } as AttrValue])),
  });
  switch (a.opType) {
    case 'Relu': return act('relu');
    case 'Sigmoid': return act('sigmoid');
    case 'LeakyRelu': return act('leakyrelu', { alpha: floatAttr(a, 'alpha', 0.01) });
    case 'HardSigmoid': return act('hardsigmoid', { alpha: floatAttr(a, 'alpha', 0.2), beta: floatAttr(a, 'beta', 0.5) });
    case 'HardSwish': return act('hardswish');
    case 'Gelu': return (a.attrs['approximate']?.value ?? 'none') === 'none' ? act('gelu') : undefined;
    case 'Elu': return floatAttr(a, 'alpha', 1) === 1 ? act('elu') : undefined;
    case 'Clip': {
      // Bounds are attributes before opset 11, optional constant inputs from 11.
      const bound = (attr: string, i: number, dflt: number) =>
        a.attrs[attr] ? floatAttr(a, attr, dflt) : a.inputs[i] ? scalarConst(g, a.inputs[i]) : dflt;
      const lo = bound('min', 1, -Infinity), hi = bound('max', 2, Infinity);
      if (lo === 0 && hi === 6) return act('relu6');
      if (lo === 0 && hi === Infinity) return act('relu');
      return lo === undefined || hi === undefined ? undefined : act('clip', { min: lo, max: hi });
    }
    default: return undefined;
  }
}

/** [gate, Mul, activation] when `y` is read by exactly a gate and a Mul of y and that gate (its only reader):
 *  y·σ(y) is SiLU, y·HardSigmoid(y; 1/6, ½) is HardSwish. */
function gatedOf(idx: GraphIndex, y: string): [Node, Node, 'silu' | 'hardswish'] | undefined {
  const readers = idx.readers(y);
  if (readers.length !== 2 || idx.isOutput(y)) return undefined;
  const near = (a: number, b: number) => Math.abs(a - b) <= 1e-7;
  const kindOf = (n: Node) => n.domain !== '' || n.inputs[0] !== y ? undefined
    : n.opType === 'Sigmoid' ? 'silu' as const
    : n.opType === 'HardSigmoid' && near(floatAttr(n, 'alpha', 0.2), 1 / 6) && near(floatAttr(n, 'beta', 0.5), 0.5) ? 'hardswish' as const : undefined;
  const gate = readers.find(kindOf);
  const mul = gate && idx.onlyReader(gate.outputs[0]!, 'Mul');
  if (!gate || !mul || !readers.includes(mul) || mul.inputs.length !== 2) return undefined;
  const [p, q] = mul.inputs;
  return (p === y && q === gate.outputs[0]) || (q === y && p === gate.outputs[0]) ? [gate, mul, kindOf(gate)!] : undefined;
}

export const fuseConvActivation: Pass = {
  name: 'fuse-conv-activation',
  run(g) {
    let changes = 0;
    const idx = new GraphIndex(g);
    for (const conv of g.nodes) {
      if (conv.opType !== 'NhwcConv' || conv.domain !== 'local' || !idx.has(conv)) continue;
      const current = conv.attrs['activation'];
      if (current && current.value !== '' && current.value !== 'linear') continue;
      const y = conv.outputs[0]!;
      const gated = gatedOf(idx, y);
      const reader = gated?.[1] ?? idx.onlyReader(y);
      if (!reader || (!gated && reader.inputs[0] !== y)) continue;
      const attrs = gated ? { activation: { type: 'string', value: gated[2] } as AttrValue } : activationOf(g, reader);
      if (!attrs) continue;
      conv.attrs = { ...conv.attrs, ...attrs };
      for (const n of gated ? gated.slice(0, 2) as Node[] : [reader]) idx.remove(n);
      idx.setOutputs(conv, [reader.outputs[0]!]);
      changes++;
    }
    idx.commit();
    return changes;
  },
};
