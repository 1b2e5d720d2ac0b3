// fuse-quantized-chains: onnxruntime's dynamic-quantization chains become one local op each:
//   DynamicQuantizeLinear(x) → MatMulInteger(x_q, W, x_zp, w_zp) → Cast(float) → Mul(·, Mul(x_scale, w_scale)) [→ Add(b)]
//     ⇒ local:DynQuantMatMul(x, W, w_zp, w_scale, b)
//   … ConvInteger (2-D) …  ⇒ Transpose → local:NhwcDynQuantConv(x, W, w_zp, w_scale, b) → Transpose (NHWC activations;
// the 8-bit W is used as it is, never copied), then a Relu that is the fused conv's only reader joins it. The
// fused ops quantize x themselves, exactly as the DynamicQuantizeLinear did; it is dropped once nothing reads it.
// Load pass (no shapes): W, w_zp, w_scale and b must be constants; anything else is left alone.

import type { ConstTensor, Graph, Node } from '../ir/graph.js';
import { GraphIndex } from '../ir/graph-index.js';
import { transposeNode } from '../ir/transpose.js';
import { TO_NCHW, TO_NHWC } from './to-nhwc.js';
import type { Pass } from './types.js';

interface Chain {
  kind: 'matmul' | 'conv';
  op: Node; cast: Node; mul: Node; add?: Node;   // the nodes the fused op replaces (the scales Mul and the
  x: string;                                      //  DynamicQuantizeLinear go when nothing else reads them)
  inputs: string[];                               // W, w_zp, w_scale, bias ('' when absent)
  output: string;
}

const is8bit = (c: ConstTensor | undefined) => !!c && (c.dtype === 'int8' || c.dtype === 'uint8');
const isFloat = (c: ConstTensor | undefined) => !!c && c.dtype === 'float32';

function other(n: Node, known: string): string | undefined {
  return n.inputs.length !== 2 ? undefined : n.inputs[0] === known ? n.inputs[1] : n.inputs[1] === known ? n.inputs[0] : undefined;
}

/** A float constant that is one value, or one per output channel as it broadcasts against the product: along the
 *  last axis for MatMul ([N], [1, N]), along axis 1 of NCHW for Conv ([M, 1, 1], [1, M, 1, 1]; a bare [M] would
 *  broadcast along the width). */
function perChannel(c: ConstTensor | undefined, m: number, kind: Chain['kind']): boolean {
  if (!isFloat(c)) return false;
  const d = c!.dims, n = c!.data.length;
  if (n === 1) return true;
  if (n !== m) return false;
  const at = kind === 'matmul' ? d.length - 1 : d.length - 3;
  return at >= 0 && d[at] === m;
}

function match(g: Graph, op: Node, idx: GraphIndex): Chain | undefined {
  const kind = op.opType === 'MatMulInteger' ? 'matmul' : op.opType === 'ConvInteger' ? 'conv' : undefined;
  if (!kind || op.domain !== '') return undefined;
  const [xq, wName, xzp, wzp] = op.inputs as [string, string, string?, string?];
  const dq = idx.producer(xq);
  if (!dq || dq.opType !== 'DynamicQuantizeLinear' || dq.domain !== '' || dq.outputs[0] !== xq || !xzp || dq.outputs[2] !== xzp) return undefined;
  const w = g.initializers.get(wName);
  if (!is8bit(w) || w!.dims.length !== (kind === 'matmul' ? 2 : 4) || (wzp && !is8bit(g.initializers.get(wzp)))) return undefined;
  const cast = idx.onlyReader(op.outputs[0]!, 'Cast');
  const to = cast?.attrs['to'];
  if (!cast || to?.type !== 'int' || to.value !== 1) return undefined;
  const mul = idx.onlyReader(cast.outputs[0]!, 'Mul');
  const scales = mul && idx.producer(other(mul, cast.outputs[0]!));
  if (!mul || !scales || scales.opType !== 'Mul' || scales.domain !== '') return undefined;
  const wScale = other(scales, dq.outputs[1]!);
  const m = kind === 'matmul' ? w!.dims[1]! : w!.dims[0]!;
  if (!wScale || !perChannel(g.initializers.get(wScale), m, kind)) return undefined;
  const add = idx.onlyReader(mul.outputs[0]!, 'Add');
  const bias = add && other(add, mul.outputs[0]!);
  const withBias = !!bias && perChannel(g.initializers.get(bias), m, kind);
  return {
    kind, op, cast, mul, add: withBias ? add : undefined, x: dq.inputs[0]!,
    inputs: [wName, wzp ?? '', wScale, withBias ? bias! : ''],
    output: (withBias ? add! : mul).outputs[0]!,
  };
}

/** A per-channel constant as the fused ops take it: 1-D (an NCHW [1, M, 1, 1] bias or [M, 1, 1] scale reshaped). */
function flat(g: Graph, value: string, fresh: (base: string) => string): string {
  const c = value ? g.initializers.get(value)! : undefined;
  if (!c || c.dims.length <= 1) return value;
  const name = fresh(`${value}_flat`);
  g.initializers.set(name, { ...c, dims: [c.data.length] });
  return name;
}

/** The fused node(s) for a chain: DynQuantMatMul, or NhwcDynQuantConv between NCHW⇄NHWC transposes. */
function rewrite(g: Graph, ch: Chain, fresh: (base: string) => string): Node[] {
  const [wName, wzp] = ch.inputs as [string, string];
  const [wScale, bias] = ch.inputs.slice(2).map(v => flat(g, v, fresh)) as [string, string];
  const name = ch.op.name || ch.op.outputs[0]!;
  if (ch.kind === 'matmul') {
    return [{ name: fresh(`${name}/DynQuantMatMul`), opType: 'DynQuantMatMul', domain: 'local', inputs: [ch.x, wName, wzp, wScale, bias], outputs: [ch.output], attrs: {} }];
  }
  const xN = fresh(`${ch.x}_nhwc`), yN = fresh(`${ch.output}_nhwc`);
  const attrs = Object.fromEntries(Object.entries(ch.op.attrs).filter(([k]) => ['kernel_shape', 'strides', 'pads', 'dilations', 'auto_pad', 'group'].includes(k)));
  return [
    transposeNode(fresh(`${name}_to_nhwc`), ch.x, xN, TO_NHWC),
    { name: fresh(`${name}/NhwcDynQuantConv`), opType: 'NhwcDynQuantConv', domain: 'local', inputs: [xN, wName, wzp, wScale, bias], outputs: [yN], attrs },
    transposeNode(fresh(`${name}_to_nchw`), yN, ch.output, TO_NCHW),
  ];
}

/** A Relu that is a fused conv's only reader becomes its activation. */
function absorbRelu(idx: GraphIndex): number {
  let changes = 0;
  for (const conv of idx.nodes()) {
    if (conv.opType !== 'NhwcDynQuantConv' || conv.domain !== 'local' || conv.attrs['activation']) continue;
    const relu = idx.onlyReader(conv.outputs[0]!, 'Relu');
    if (!relu) continue;
    conv.attrs = { ...conv.attrs, activation: { type: 'string', value: 'relu' } };
    idx.remove(relu);
    idx.setOutputs(conv, [relu.outputs[0]!]);
    changes++;
  }
  return changes;
}

export const fuseQuantizedChains: Pass = {
  name: 'fuse-quantized-chains',
  run(g) {
    const idx = new GraphIndex(g);
    const chains = g.nodes.map(n => match(g, n, idx)).filter((c): c is Chain => !!c);
    if (chains.length) idx.reserveNames();
    const fresh = (base: string) => idx.fresh(base);
    for (const ch of chains) {
      const replaced = [ch.op, ch.cast, ch.mul, ...(ch.add ? [ch.add] : [])];
      const last = replaced.reduce((a, n) => (idx.before(a, n) ? n : a));
      const fused = rewrite(g, ch, fresh);
      idx.insertAfter(last, fused);
      for (const n of replaced) idx.remove(n);
    }
    if (chains.length) idx.removeDead();   // the scales Muls, and each DynamicQuantizeLinear nobody reads now
    const changes = chains.length + absorbRelu(idx);
    idx.commit();
    return changes;
  },
};
