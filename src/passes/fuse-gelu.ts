// fuse-gelu: exact (erf) GELU as torch exports it — Erf(x / √2) (or x · 1/√2), + 1, then · x and · 0.5 in either
// order and with either operand first — becomes one local:Gelu(x). tfjs's fused matMul has no GELU activation
// (linear, relu, relu6, elu, leakyrelu, prelu, sigmoid only), so the MatMul before it stays separate. Shaped pass.

import type { Node } from '../ir/graph.js';
import { isScalar } from '../ir/attrs.js';
import { GraphIndex } from '../ir/graph-index.js';
import { isFloatInfo, otherInput, sameShape } from '../ir/match.js';
import type { Pass } from './types.js';

export const fuseGelu: Pass = {
  name: 'fuse-gelu',
  run(g, ctx) {
    const idx = new GraphIndex(g, ctx.infos);
    let count = 0;
    for (const erf of g.nodes) {
      if (!idx.has(erf)) continue;
      if (erf.opType !== 'Erf' || erf.domain !== '') continue;
      const m = matchGelu(idx, erf);
      if (!m) continue;
      idx.replace(m.nodes, {
        name: `${erf.name}/Gelu`, opType: 'Gelu', domain: 'local', inputs: [m.x], outputs: [m.output], attrs: {},
      });
      count++;
    }
    idx.commit();
    return count;
  },
};

function matchGelu(idx: GraphIndex, erf: Node): { nodes: Node[]; x: string; output: string } | undefined {
  // x / √2  or  x · (1/√2)
  const scale = idx.producer(erf.inputs[0], 'Div') ?? idx.producer(erf.inputs[0], 'Mul');
  if (!scale) return undefined;
  let x: string | undefined;
  if (scale.opType === 'Div') {
    if (isScalar(idx.constant(scale.inputs[1]), Math.SQRT2)) x = scale.inputs[0];
  } else {
    x = scale.inputs.find(i => isScalar(idx.constant(otherInput(scale, i)), Math.SQRT1_2) && !idx.constant(i));
  }
  const xi = idx.info(x);
  if (!x || !isFloatInfo(xi)) return undefined;
  // 1 + erf(·)
  const plus = idx.onlyReader(erf.outputs[0]!, 'Add');
  if (!plus || !isScalar(idx.constant(otherInput(plus, erf.outputs[0]!)), 1)) return undefined;
  const plusOut = plus.outputs[0]!;
  const mul1 = idx.onlyReader(plusOut, 'Mul');
  if (!mul1) return undefined;
  const other = otherInput(mul1, plusOut);
  let nodes: Node[];
  let last: Node;
  if (other === x) {
    // (x · (1 + erf)) · 0.5
    const half = idx.onlyReader(mul1.outputs[0]!, 'Mul');
    if (!half || !isScalar(idx.constant(otherInput(half, mul1.outputs[0]!)), 0.5)) return undefined;
    nodes = [scale, erf, plus, mul1, half];
    last = half;
  } else {
    // (x · 0.5) · (1 + erf)
    const xHalf = idx.producer(other, 'Mul');
    if (!xHalf || !xHalf.inputs.includes(x) || !isScalar(idx.constant(otherInput(xHalf, x)), 0.5)) return undefined;
    nodes = [scale, xHalf, erf, plus, mul1];
    last = mul1;
  }
  const output = last.outputs[0]!;
  const internal = nodes.filter(n => n !== last).every(n => idx.internal(n.outputs[0]!, nodes));
  if (!internal || !sameShape(idx.shape(output), xi.shape)) return undefined;
  return { nodes, x, output };
}
