// to-nhwc: rewrites 2-D Conv (constant weight), MaxPool (no Indices), AveragePool and the global pools into the
// local NHWC ops that run as single tfjs-wasm kernels. Conv weights are transposed once, here, into tfjs's layout
// ([kh, kw, C/group, M]; [kh, kw, C, M/C] when depthwise). Each rewritten node gets Transpose([0,2,3,1]) before and
// Transpose([0,3,1,2]) after; cancel-transposes then removes the pairs so a CNN runs NHWC end to end.

import { floatConst, intsAttr } from '../ir/attrs.js';
import type { AttrValue, ConstTensor, Graph, Node, ValueDecl } from '../ir/graph.js';
import { GraphIndex } from '../ir/graph-index.js';
import { transposeConst, transposeNode } from '../ir/transpose.js';
import type { Pass } from './types.js';

export const TO_NHWC = [0, 2, 3, 1];
export const TO_NCHW = [0, 3, 1, 2];

const LOCAL_OP: Record<string, string> = {
  Conv: 'NhwcConv', MaxPool: 'NhwcMaxPool', AveragePool: 'NhwcAveragePool',
  GlobalAveragePool: 'NhwcGlobalAveragePool', GlobalMaxPool: 'NhwcGlobalMaxPool',
};
const WINDOW_ATTRS = ['kernel_shape', 'strides', 'pads', 'dilations', 'auto_pad', 'ceil_mode', 'count_include_pad', 'group'];

/** ONNX weight [M, C/group, kh, kw] → tfjs layout; depthwise ([M, 1, kh, kw], group > 1) is the same memory order. */
export function nhwcWeight(w: ConstTensor, group: number): ConstTensor {
  const t = transposeConst(w, [2, 3, 1, 0]);   // [kh, kw, C/group, M]
  const [kh, kw, cg, m] = t.dims as [number, number, number, number];
  return cg === 1 && group > 1 ? { ...t, dims: [kh, kw, group, m / group] } : t;
}

/** True when `value` is known to be 4-D at load time (no shapes yet): declared, or written by a 4-D op. */
function isRank4(g: Graph, value: string, idx: GraphIndex, inputs: ReadonlyMap<string, ValueDecl>): boolean {
  const decl = inputs.get(value) ?? g.valueInfo.get(value);
  if (decl?.shape) return decl.shape.length === 4;
  const p = idx.producer(value);
  if (!p) return false;
  if (p.opType === 'Transpose' && p.domain === '') return (intsAttr(p, 'perm')?.length ?? 0) === 4;
  if (p.opType === 'Conv' && p.domain === '') return floatConst(g, p.inputs[1])?.dims.length === 4;
  if ((p.opType === 'MaxPool' || p.opType === 'AveragePool') && p.domain === '') return intsAttr(p, 'kernel_shape')?.length === 2;
  return false;
}

/** The local op's attributes and inputs for `n`, or undefined when `n` must stay NCHW. */
function plan(g: Graph, n: Node, idx: GraphIndex, inputs: ReadonlyMap<string, ValueDecl>): { inputs: string[]; weight?: ConstTensor } | undefined {
  if (n.domain !== '' || !LOCAL_OP[n.opType] || !n.inputs[0]) return undefined;
  switch (n.opType) {
    case 'Conv': {
      const w = floatConst(g, n.inputs[1]);
      if (!w || w.dims.length !== 4) return undefined;
      const group = n.attrs['group']?.type === 'int' ? (n.attrs['group'].value as number) : 1;
      return { inputs: [...n.inputs], weight: nhwcWeight(w, group) };
    }
    case 'MaxPool':
    case 'AveragePool':
      // MaxPool's Indices are NCHW positions: only the NCHW kernel makes them.
      if (n.opType === 'MaxPool' && n.outputs[1]) return undefined;
      return intsAttr(n, 'kernel_shape')?.length === 2 ? { inputs: [n.inputs[0]] } : undefined;
    default:
      return isRank4(g, n.inputs[0], idx, inputs) ? { inputs: [n.inputs[0]] } : undefined;
  }
}

export const toNhwc: Pass = {
  name: 'to-nhwc',
  run(g) {
    let changes = 0;
    const idx = new GraphIndex(g);
    const fresh = (base: string) => idx.fresh(base);
    const graphInputs = new Map<string, ValueDecl>();
    for (const i of g.inputs) if (!graphInputs.has(i.name)) graphInputs.set(i.name, i);
    for (const n of g.nodes) {
      const p = plan(g, n, idx, graphInputs);
      if (!p) continue;
      const xIn = fresh(`${n.inputs[0]}_nhwc`), yOut = fresh(`${n.outputs[0]}_nhwc`);
      const inputs = [xIn, ...p.inputs.slice(1)];
      if (p.weight) {
        inputs[1] = fresh(`${n.inputs[1]}_hwio`);
        g.initializers.set(inputs[1], p.weight);
      }
      const attrs: Record<string, AttrValue> = Object.fromEntries(Object.entries(n.attrs).filter(([k]) => WINDOW_ATTRS.includes(k)));
      const local: Node = { name: fresh(`${n.name || n.opType}_nhwc`), opType: LOCAL_OP[n.opType]!, domain: 'local', inputs, outputs: [yOut], attrs };
      idx.splice(n, [
        transposeNode(fresh(`${n.name || n.opType}_to_nhwc`), n.inputs[0]!, xIn, TO_NHWC),
        local,
        transposeNode(fresh(`${n.name || n.opType}_to_nchw`), yOut, n.outputs[0]!, TO_NCHW),
      ]);
      changes++;
    }
    idx.commit();
    return changes;
  },
};
