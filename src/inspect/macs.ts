// Multiply-accumulate counts per node, from the node and its planned input/output types (batch as planned).
// Convention (the one behind the usual "ResNet-50 = 3.86 G, ViT-B/16 = 17.56 G" figures, i.e. fvcore's):
//   Conv            out_elems × (Cin/group) × kH × kW        (bias adds not counted)
//   ConvTranspose   in_elems × (Cout/group) × kH × kW
//   MatMul, Gemm    M × N × K per batch (= out_elems × K); attention's Q·Kᵀ and A·V MatMuls count like any other
//   local:Attention B × Nq × Nk × (C_qk + C_v)               (the two products it fuses)
//   everything else 0: elementwise, normalisation, pooling, softmax and data movement are not MACs.

import type { Node, TensorInfo } from '../ir/graph.js';

type Infos = readonly (TensorInfo | undefined)[];

const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

function intAttr(n: Node, name: string, dflt: number): number {
  const a = n.attrs[name];
  return a?.type === 'int' ? a.value : dflt;
}

function strAttr(n: Node, name: string, dflt: string): string {
  const a = n.attrs[name];
  return a?.type === 'string' ? a.value : dflt;
}

type Counter = (n: Node, ins: Infos, outs: Infos) => number;

/** ONNX Conv: W [M, C/group, k…]; every output element takes prod(W.shape[1:]) MACs. */
const conv: Counter = (_n, [, w], [y]) => (w && y ? numel(y.shape) * numel(w.shape.slice(1)) : 0);

/** local:NhwcConv: X [N, H, W, C], W [kh, kw, ·, ·]; each output element reads C/group channels of a kh×kw window. */
const nhwcConv: Counter = (n, [x, w], [y]) => {
  if (!x || !w || !y) return 0;
  const group = intAttr(n, 'group', 1);
  return numel(y.shape) * w.shape[0]! * w.shape[1]! * (x.shape[3]! / group);
};

/** ONNX ConvTranspose: W [C, M/group, k…]; every input element scatters into prod(W.shape[1:]) outputs. */
const convTranspose: Counter = (_n, [x, w]) => (x && w ? numel(x.shape) * numel(w.shape.slice(1)) : 0);

/** MatMul (numpy semantics) and the fused local:FusedMatMul: out_elems × K, K = A's last dim. */
const matMul: Counter = (_n, [a], [y]) => (a && y ? numel(y.shape) * a.shape.at(-1)! : 0);

const gemm: Counter = (n, [a], [y]) => {
  if (!a || !y) return 0;
  const k = intAttr(n, 'transA', 0) ? a.shape[0]! : a.shape[1]!;
  return numel(y.shape) * k;
};

/** local:Attention(q, k, v): per batch and head, Q·Kᵀ is Nq×Nk×D and A·V is Nq×Nk×Dv; summed over heads: C and Cv. */
const attention: Counter = (n, [q, k, v]) => {
  if (!q || !k || !v) return 0;
  const seqFirst = strAttr(n, 'layout', 'bnc') === 'nbc';
  const [b, nq] = seqFirst ? [q.shape[1]!, q.shape[0]!] : [q.shape[0]!, q.shape[1]!];
  const nk = seqFirst ? k.shape[0]! : k.shape[1]!;
  return b * nq * nk * (q.shape[2]! + v.shape[2]!);
};

const COUNTERS: Record<string, Counter> = {
  ':Conv': conv, ':ConvTranspose': convTranspose, ':MatMul': matMul, ':Gemm': gemm,
  'local:NhwcConv': nhwcConv, 'local:FusedMatMul': matMul, 'local:Attention': attention,
};

/** MACs of one node given its planned input and output types; 0 for ops outside the convention above. */
export function macsOf(n: Node, ins: Infos, outs: Infos): number {
  return COUNTERS[`${n.domain}:${n.opType}`]?.(n, ins, outs) ?? 0;
}

/** Op types that count MACs (for documentation and tests). */
export const MAC_OPS = Object.keys(COUNTERS);
