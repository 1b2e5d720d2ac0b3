// cancel-transposes: merges Transpose chains (inverse pairs vanish) and sinks a Transpose below layout-agnostic
// elementwise ops (Relu, Clip, Sigmoid, …; Add/Sub/Mul/Div/… when the other input carries the same Transpose or is
// a constant, which is permuted once here) so that, after to-nhwc, a CNN keeps NHWC from its first conv to its head.
// A Transpose sinks only when every reader can take it, so no transposes are duplicated onto side branches.

import { bypass, consumers, isGraphOutput, producers, removeDeadNodes } from '../ir/edit.js';
import { sizeOf } from '../ir/dtype.js';
import type { ConstTensor, Graph, Node } from '../ir/graph.js';
import { intsAttrOf, invertPerm, isIdentityPerm, nameMaker, transposeConst, transposeNode } from './cnn-util.js';
import type { Pass } from './types.js';

/** Ops that compute each output element from the same element of input 0 (other inputs, if any, are scalars). */
const UNARY = new Set([
  'Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Clip', 'Elu', 'Selu', 'Celu', 'HardSigmoid', 'HardSwish', 'Softplus', 'Softsign',
  'Neg', 'Abs', 'Exp', 'Log', 'Sqrt', 'Reciprocal', 'Erf', 'Floor', 'Ceil', 'Round', 'Sign', 'Cast', 'Not', 'IsNaN',
]);
/** Two-input numpy-broadcasting elementwise ops. */
const BINARY = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'PRelu', 'Max', 'Min', 'Equal', 'Greater', 'Less', 'And', 'Or']);

type Fresh = (base: string) => string;

function permOf(n: Node): number[] | undefined {
  return n.opType === 'Transpose' && n.domain === '' ? intsAttrOf(n, 'perm') : undefined;
}

/** One element (decided from the dims: a large weight's data may live on the device only). */
const isOneValue = (c: ConstTensor | undefined) => !!c && sizeOf(c.dims) === 1;

/** True when reader `r` of t = Transpose(·, perm) can take the un-transposed value instead. */
function canSink(g: Graph, r: Node, t: string, perm: number[], prod: Map<string, Node>): boolean {
  if (r.domain !== '') return false;
  if (UNARY.has(r.opType)) {
    return r.inputs[0] === t && r.inputs.slice(1).every(i => !i || (i !== t && isOneValue(g.initializers.get(i))));
  }
  if (!BINARY.has(r.opType) || r.inputs.length !== 2) return false;
  return r.inputs.every(i => {
    if (i === t) return true;
    const pp = prod.get(i) && permOf(prod.get(i)!);
    if (pp) return pp.join() === perm.join();
    const c = g.initializers.get(i);
    return !!c && c.dims.length <= perm.length && !Array.isArray(c.data);
  });
}

/** Sinks t = Transpose(y, perm) below reader r: r reads y (and the other side un-transposed) and a new Transpose
 *  after r writes r's old output. */
function sinkInto(g: Graph, r: Node, t: string, y: string, perm: number[], prod: Map<string, Node>, fresh: Fresh): void {
  const inputs = r.inputs.map((i, k) => {
    if (k > 0 && UNARY.has(r.opType)) return i;
    if (i === t) return y;
    const pp = prod.get(i) && permOf(prod.get(i)!);
    if (pp && pp.join() === perm.join()) return prod.get(i)!.inputs[0]!;
    const c = g.initializers.get(i)!;
    if (isOneValue(c)) return i;
    const padded = { ...c, dims: [...new Array<number>(perm.length - c.dims.length).fill(1), ...c.dims] };
    const name = fresh(`${i}_perm${invertPerm(perm).join('')}`);
    g.initializers.set(name, transposeConst(padded, invertPerm(perm)));
    return name;
  });
  const out = r.outputs[0]!, inner = fresh(`${out}_pre`);
  r.inputs = inputs;
  r.outputs = [inner, ...r.outputs.slice(1)];
  g.nodes.splice(g.nodes.indexOf(r) + 1, 0, transposeNode(fresh(`${r.name || r.opType}_transpose`), inner, out, perm));
}

/** Composes Transpose reader r (of Transpose(y, perm)) onto y; true when the result is the identity. */
function compose(r: Node, y: string, perm: number[]): boolean {
  const composed = permOf(r)!.map(i => perm[i]!);
  r.inputs = [y];
  r.attrs = { ...r.attrs, perm: { type: 'ints', value: composed } };
  return isIdentityPerm(composed);
}

/** Removes identity Transpose r, its readers reading its input (a graph output keeps its name when it can). */
function dropIdentity(g: Graph, r: Node): void {
  try {
    bypass(g, r.outputs[0]!, r.inputs[0]!);
    g.nodes = g.nodes.filter(n => n !== r);
  } catch {
    // r writes a graph output that its input's producer cannot take over: r stays, a copy.
  }
}

function step(g: Graph, t: Node, fresh: Fresh): number {
  const perm = permOf(t);
  const y = t.inputs[0], out = t.outputs[0];
  if (!perm || !y || !out || !g.nodes.includes(t)) return 0;
  let changes = 0;
  const identities: Node[] = [];
  for (const r of consumers(g).get(out) ?? []) {
    if (!permOf(r) || r.inputs[0] !== out) continue;
    if (compose(r, y, perm)) identities.push(r);
    changes++;
  }
  const rest = consumers(g).get(out) ?? [];
  if (rest.length === 0 && !isGraphOutput(g, out)) g.nodes = g.nodes.filter(n => n !== t);
  for (const r of identities) dropIdentity(g, r);
  if (rest.length === 0 || isGraphOutput(g, out)) return changes;
  const prod = producers(g);
  if (!rest.every(r => canSink(g, r, out, perm, prod))) return changes;
  for (const r of rest) sinkInto(g, r, out, y, perm, prod, fresh);
  return changes + rest.length;
}

export const cancelTransposes: Pass = {
  name: 'cancel-transposes',
  run(g) {
    let total = 0;
    const fresh = nameMaker(g);
    for (let round = 0; round < 1000; round++) {
      let changes = 0;
      for (const t of g.nodes.filter(n => permOf(n))) changes += step(g, t, fresh);
      if (changes) removeDeadNodes(g);
      total += changes;
      if (!changes) break;
    }
    return total;
  },
};
