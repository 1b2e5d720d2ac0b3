// fuse-layernorm: the decomposed LayerNorm torch exports below opset 17 —
//   m = ReduceMean(x, [-1]); d = Sub(x, m); v = ReduceMean(Pow(d, 2), [-1]); y = d / Sqrt(v + eps) [· gamma] [+ beta]
// (axes as attribute before opset 18, as input from 18) — and ONNX LayerNormalization whose statistics outputs
// nobody reads, both become one local:LayerNorm(x, gamma?, beta?) over the last axis. Shaped pass.

import { sizeOf } from '../ir/dtype.js';
import type { Node } from '../ir/graph.js';
import { intAttr, isScalar, scalarOf } from '../ir/attrs.js';
import { GraphIndex } from '../ir/graph-index.js';
import { isFloatInfo, otherInput, reduceAxes, sameShape } from '../ir/match.js';
import type { Pass } from './types.js';

export const fuseLayerNorm: Pass = {
  name: 'fuse-layernorm',
  run(g, ctx) {
    const idx = new GraphIndex(g, ctx.infos);
    let count = 0;
    for (const n of g.nodes) {
      if (!idx.has(n)) continue;
      const m = n.opType === 'Div' && n.domain === '' ? matchDecomposed(idx, n) : n.opType === 'LayerNormalization' && n.domain === '' ? matchOnnx(idx, n) : undefined;
      if (!m) continue;
      idx.replace(m.nodes, {
        name: `${m.nodes.at(-1)!.name}/LayerNorm`, opType: 'LayerNorm', domain: 'local',
        inputs: m.inputs, outputs: [m.output],
        attrs: { axis: { type: 'int', value: -1 }, epsilon: { type: 'float', value: m.epsilon } },
      });
      count++;
    }
    idx.commit();
    return count;
  },
};

interface Match { nodes: Node[]; inputs: string[]; output: string; epsilon: number }

/** True when a ReduceMean reduces exactly the last axis of a rank-`rank` tensor, keeping dims. */
function meanOverLast(idx: GraphIndex, n: Node | undefined, rank: number): n is Node {
  if (!n || intAttr(n, 'keepdims', 1) !== 1) return false;
  const axes = reduceAxes(idx, n);
  return !!axes && axes.length === 1 && (axes[0] === -1 || axes[0] === rank - 1);
}

function matchDecomposed(idx: GraphIndex, div: Node): Match | undefined {
  const [dName, sName] = div.inputs as [string, string];
  const sub = idx.producer(dName, 'Sub');
  const sqrt = idx.producer(sName, 'Sqrt');
  const addEps = idx.producer(sqrt?.inputs[0], 'Add');
  if (!sub || !sqrt || !addEps) return undefined;
  const x = sub.inputs[0]!;
  const xi = idx.info(x);
  if (!isFloatInfo(xi) || xi.shape.length < 1) return undefined;
  const rank = xi.shape.length;
  const mean = idx.producer(sub.inputs[1], 'ReduceMean');
  if (!meanOverLast(idx, mean, rank) || mean.inputs[0] !== x) return undefined;
  const varName = addEps.inputs.find(i => idx.producer(i, 'ReduceMean'));
  const variance = idx.producer(varName, 'ReduceMean');
  const eps = scalarOf(idx.constant(otherInput(addEps, varName ?? '')));
  if (!meanOverLast(idx, variance, rank) || eps === undefined || !(eps >= 0)) return undefined;
  const sq = idx.producer(variance.inputs[0], 'Pow') ?? idx.producer(variance.inputs[0], 'Mul');
  if (!sq) return undefined;
  const squares = sq.opType === 'Pow' ? sq.inputs[0] === dName && isScalar(idx.constant(sq.inputs[1]), 2) : sq.inputs[0] === dName && sq.inputs[1] === dName;
  if (!squares) return undefined;
  const nodes = [mean, sub, sq, variance, addEps, sqrt, div];
  const inputs = [x];
  let out = div.outputs[0]!;
  // Optional affine part: · gamma, then + beta (constants broadcasting over the last axis only).
  for (const op of ['Mul', 'Add'] as const) {
    const next = idx.onlyReader(out, op);
    const p = next && otherInput(next, out);
    if (!next || !p || !affineParam(idx, p, xi.shape) || !sameShape(idx.shape(next.outputs[0]), xi.shape)) {
      inputs.push('');
      continue;
    }
    nodes.push(next);
    inputs.push(p);
    out = next.outputs[0]!;
  }
  while (inputs.at(-1) === '') inputs.pop();
  const internal = nodes.slice(0, -1).every(n => n.outputs.every(o => idx.internal(o, nodes)));
  if (!internal || !sameShape(idx.shape(out), xi.shape)) return undefined;
  return { nodes, inputs, output: out, epsilon: eps };
}

/** A float constant of shape [C], [1..., C] or one element, where C is the last dim of x. */
function affineParam(idx: GraphIndex, name: string, xShape: readonly number[]): boolean {
  const c = idx.constant(name);
  if (!c || (c.dtype !== 'float32')) return false;
  const last = xShape.at(-1)!;
  if (sizeOf(c.dims) === 1) return c.dims.length <= xShape.length;
  return c.dims.length <= xShape.length && c.dims.at(-1) === last && sizeOf(c.dims) === last;
}

function matchOnnx(idx: GraphIndex, n: Node): Match | undefined {
  const xi = idx.info(n.inputs[0]);
  if (!isFloatInfo(xi) || n.outputs.slice(1).some(o => o && !idx.internal(o, []))) return undefined;
  const axis = intAttr(n, 'axis', -1);
  if (axis !== -1 && axis !== xi.shape.length - 1) return undefined;
  if (n.inputs.slice(1).some(i => i && !affineParam(idx, i, xi.shape))) return undefined;
  const eps = n.attrs['epsilon'];
  return {
    nodes: [n], inputs: n.inputs.slice(0, 3), output: n.outputs[0]!,
    epsilon: eps?.type === 'float' ? eps.value : 1e-5,
  };
}
