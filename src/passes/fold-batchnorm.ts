// fold-batchnorm: Conv (constant W, optional constant B) → BatchNormalization (constant parameters) becomes one Conv
// with W' = W·k and B' = (B − mean)·k + beta, k = scale / sqrt(var + eps), computed in float64 and stored as float32
// in new initializers (W may be shared). Only when the BatchNorm is the conv output's single reader; a lone
// BatchNormalization stays for its kernel.

import { floatAttr, floatConst, intAttr } from '../ir/attrs.js';
import type { ConstTensor, Graph, Node } from '../ir/graph.js';
import { GraphIndex } from '../ir/graph-index.js';
import type { Pass } from './types.js';

interface Match { conv: Node; bn: Node; w: ConstTensor; b?: ConstTensor; params: ConstTensor[] }

function match(g: Graph, bn: Node, idx: GraphIndex): Match | undefined {
  if (bn.opType !== 'BatchNormalization' || bn.domain !== '' || bn.outputs.slice(1).some(o => o)) return undefined;
  if (intAttr(bn, 'spatial', 1) !== 1 || intAttr(bn, 'training_mode', 0) !== 0) return undefined;
  const x = bn.inputs[0]!;
  const conv = idx.producer(x, 'Conv');
  if (!conv || !idx.onlyReader(x)) return undefined;
  const w = floatConst(g, conv.inputs[1]);
  const b = conv.inputs[2] ? floatConst(g, conv.inputs[2]) : undefined;
  if (!w || w.dims.length < 3 || (conv.inputs[2] && !b)) return undefined;
  const m = w.dims[0]!;
  const params = bn.inputs.slice(1, 5).map(p => floatConst(g, p));
  if (params.length !== 4 || params.some(p => !p || p.data.length !== m) || (b && b.data.length !== m)) return undefined;
  return { conv, bn, w, b, params: params as ConstTensor[] };
}

function fold({ bn, w, b, params }: Match): { w: ConstTensor; b: ConstTensor } {
  const [scale, beta, mean, variance] = params.map(p => p.data as Float32Array) as [Float32Array, Float32Array, Float32Array, Float32Array];
  const eps = floatAttr(bn, 'epsilon', 1e-5);
  const m = w.dims[0]!, per = w.data.length / m;
  const src = w.data as Float32Array, wOut = new Float32Array(src.length), bOut = new Float32Array(m);
  for (let o = 0; o < m; o++) {
    const k = scale[o]! / Math.sqrt(variance[o]! + eps);   // float64
    for (let i = o * per; i < (o + 1) * per; i++) wOut[i] = src[i]! * k;
    bOut[o] = ((b ? (b.data as Float32Array)[o]! : 0) - mean[o]!) * k + beta[o]!;
  }
  return { w: { dtype: 'float32', dims: [...w.dims], data: wOut }, b: { dtype: 'float32', dims: [m], data: bOut } };
}

export const foldBatchNorm: Pass = {
  name: 'fold-batchnorm',
  run(g) {
    let changes = 0;
    const idx = new GraphIndex(g);
    for (const bn of g.nodes) {
      const found = match(g, bn, idx);
      if (!found) continue;
      const { conv } = found, folded = fold(found);
      const wName = idx.fresh(`${conv.inputs[1]}_bn`), bName = idx.fresh(`${conv.inputs[2] || conv.name + '_bias'}_bn`);
      g.initializers.set(wName, folded.w);
      g.initializers.set(bName, folded.b);
      idx.remove(bn);
      idx.setInputs(conv, [conv.inputs[0]!, wName, bName]);
      idx.setOutputs(conv, [bn.outputs[0]!]);
      changes++;
    }
    idx.commit();
    return changes;
  },
};
