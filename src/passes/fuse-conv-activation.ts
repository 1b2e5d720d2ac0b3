// fuse-conv-activation: local:NhwcConv followed by its only reader Relu / Clip(0, 6) / LeakyRelu / Sigmoid / Elu(1)
// becomes the conv's `activation`, applied inside the same tfjs-wasm kernel. A residual Add between conv and Relu
// (ResNet's block end) is left alone: the conv's reader is then the Add.

import { floatAttr, scalarConst } from '../ir/attrs.js';
import type { AttrValue, Graph, Node } from '../ir/graph.js';
import { GraphIndex } from '../ir/graph-index.js';
import type { Pass } from './types.js';

/** The fused activation (and its attributes) equivalent to elementwise node `a`, if tfjs has one. */
function activationOf(g: Graph, a: Node): Record<string, AttrValue> | undefined {
  if (a.domain !== '') return undefined;
  const act = (name: string, alpha?: number): Record<string, AttrValue> =>
    ({ activation: { type: 'string', value: name }, ...(alpha === undefined ? {} : { alpha: { type: 'float', value: alpha } }) });
  switch (a.opType) {
    case 'Relu': return act('relu');
    case 'Sigmoid': return act('sigmoid');
    case 'LeakyRelu': return act('leakyrelu', floatAttr(a, 'alpha', 0.01));
    case 'Elu': return floatAttr(a, 'alpha', 1) === 1 ? act('elu') : undefined;
    case 'Clip': {
      // Bounds are attributes before opset 11, optional constant inputs from 11.
      const bound = (attr: string, i: number, dflt: number) =>
        a.attrs[attr] ? floatAttr(a, attr, dflt) : a.inputs[i] ? scalarConst(g, a.inputs[i]) : dflt;
      const lo = bound('min', 1, -Infinity), hi = bound('max', 2, Infinity);
      if (lo === 0 && hi === 6) return act('relu6');
      if (lo === 0 && hi === Infinity) return act('relu');
      return undefined;
    }
    default: return undefined;
  }
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
      const reader = idx.onlyReader(y);
      if (!reader || reader.inputs[0] !== y) continue;
      const attrs = activationOf(g, reader);
      if (!attrs) continue;
      conv.attrs = { ...conv.attrs, ...attrs };
      idx.remove(reader);
      idx.setOutputs(conv, [reader.outputs[0]!]);
      changes++;
    }
    idx.commit();
    return changes;
  },
};
