// cancel-transposes: merges Transpose chains (inverse pairs vanish) and sinks a Transpose below layout-agnostic
// elementwise ops — those whose definition says `elementwise` (kernels/types.ts; asked through ctx.facts): unary ones
// (Relu, Clip, Sigmoid, …) and binary ones (Add/Sub/Mul/… when the other input carries the same Transpose or is a
// constant, which is permuted once here, or comes from a unary reader of the same Transpose, as in x·σ(x)) — so
// that, after to-nhwc, a CNN keeps NHWC from its first conv to its head.
// A Transpose sinks only when every reader can take it, so no transposes are duplicated onto side branches.

import { intsAttr } from '../ir/attrs.js';
import { sizeOf } from '../ir/dtype.js';
import type { ConstTensor, Graph, Node } from '../ir/graph.js';
import type { OpFacts } from '../ir/op-traits.js';
import { GraphIndex } from '../ir/graph-index.js';
import { invertPerm, isIdentityPerm, transposeConst, transposeNode } from '../ir/transpose.js';
import type { Pass } from './types.js';

/** One pass run: the graph, its index and the op facts. */
interface Run { g: Graph; idx: GraphIndex; facts: OpFacts }

const isUnary = (run: Run, n: Node) => run.facts.elementwise(n) === 'unary';

function permOf(n: Node): number[] | undefined {
  return n.opType === 'Transpose' && n.domain === '' ? intsAttr(n, 'perm') : undefined;
}

/** One element (decided from the dims: a large weight's data may live on the device only). */
const isOneValue = (c: ConstTensor | undefined) => !!c && sizeOf(c.dims) === 1;

/** True when reader `r` of t = Transpose(·, perm) can take the un-transposed value instead. */
function canSink(run: Run, r: Node, t: string, perm: number[]): boolean {
  const { g, idx } = run;
  const kind = run.facts.elementwise(r);
  if (kind === 'unary') {
    return r.inputs[0] === t && r.inputs.slice(1).every(i => !i || (i !== t && isOneValue(g.initializers.get(i))));
  }
  if (kind !== 'binary' || r.inputs.length !== 2) return false;
  return r.inputs.every(i => {
    if (i === t) return true;
    const p = idx.producer(i);
    const pp = p && permOf(p);
    if (pp) return pp.join() === perm.join();
    // x·σ(x) (SiLU): the other input comes from a unary reader of t, sunk in the same step before r (graph order)
    if (p && p.inputs[0] === t && isUnary(run, p) && canSink(run, p, t, perm)) return true;
    const c = g.initializers.get(i);
    return !!c && c.dims.length <= perm.length && !Array.isArray(c.data);
  });
}

/** Sinks t = Transpose(y, perm) below reader r: r reads y (and the other side un-transposed) and a new Transpose
 *  after r writes r's old output. */
function sinkInto(run: Run, r: Node, t: string, y: string, perm: number[]): void {
  const { g, idx } = run;
  const unary = isUnary(run, r);
  const inputs = r.inputs.map((i, k) => {
    if (k > 0 && unary) return i;
    if (i === t) return y;
    const p = idx.producer(i);
    const pp = p && permOf(p);
    if (pp && pp.join() === perm.join()) return p.inputs[0]!;
    const c = g.initializers.get(i)!;
    if (isOneValue(c)) return i;
    const padded = { ...c, dims: [...new Array<number>(perm.length - c.dims.length).fill(1), ...c.dims] };
    const name = idx.fresh(`${i}_perm${invertPerm(perm).join('')}`);
    g.initializers.set(name, transposeConst(padded, invertPerm(perm)));
    return name;
  });
  const out = r.outputs[0]!, inner = idx.fresh(`${out}_pre`);
  idx.setInputs(r, inputs);
  idx.setOutputs(r, [inner, ...r.outputs.slice(1)]);
  idx.insertAfter(r, [transposeNode(idx.fresh(`${r.name || r.opType}_transpose`), inner, out, perm)]);
}

/** Composes Transpose reader r (of Transpose(y, perm)) onto y; true when the result is the identity. */
function compose(idx: GraphIndex, r: Node, y: string, perm: number[]): boolean {
  const composed = permOf(r)!.map(i => perm[i]!);
  idx.setInputs(r, [y]);
  r.attrs = { ...r.attrs, perm: { type: 'ints', value: composed } };
  return isIdentityPerm(composed);
}

/** Removes identity Transpose r, its readers reading its input (a graph output keeps its name when it can; when
 *  it cannot, r stays, a copy). */
function dropIdentity(idx: GraphIndex, r: Node): void {
  if (idx.bypass(r.outputs[0]!, r.inputs[0]!)) idx.remove(r);
}

function step(run: Run, t: Node): number {
  const { idx } = run;
  const perm = permOf(t);
  const y = t.inputs[0], out = t.outputs[0];
  if (!perm || !y || !out || !idx.has(t)) return 0;
  let changes = 0;
  const identities: Node[] = [];
  for (const r of idx.inOrder(idx.readers(out))) {
    if (!permOf(r) || r.inputs[0] !== out) continue;
    if (compose(idx, r, y, perm)) identities.push(r);
    changes++;
  }
  const rest = idx.inOrder(idx.readers(out));
  if (rest.length === 0 && !idx.isOutput(out)) idx.remove(t);
  for (const r of identities) dropIdentity(idx, r);
  if (rest.length === 0 || idx.isOutput(out)) return changes;
  if (!rest.every(r => canSink(run, r, out, perm))) return changes;
  for (const r of rest) sinkInto(run, r, out, y, perm);
  return changes + rest.length;
}

/**
 * Rounds until nothing changes, as far as 1000. A round steps the Transposes whose surroundings the previous round
 * touched (the first round: all), in graph order: a Transpose whose readers, their inputs and those inputs'
 * producers are as they were when it last stepped would change nothing again.
 */
export const cancelTransposes: Pass = {
  name: 'cancel-transposes',
  run(g, ctx) {
    const idx = new GraphIndex(g).reserveNames();
    const run: Run = { g, idx, facts: ctx.facts };
    const touched = new Set<string>();
    idx.onTouch = v => touched.add(v);
    let total = 0;
    let todo = g.nodes.filter(n => permOf(n));
    for (let round = 0; round < 1000 && todo.length; round++) {
      let changes = 0;
      for (const t of todo) changes += step(run, t);
      if (changes) idx.removeDead(round === 0 ? 'all' : 'orphans');
      total += changes;
      if (!changes) break;
      todo = idx.inOrder([...affected(idx, touched)]);
      touched.clear();
    }
    idx.commit();
    return total;
  },
};

/** The Transposes an edit of these values may let do something new: their producers, and the producers of every
 *  input of their readers. */
function affected(idx: GraphIndex, values: ReadonlySet<string>): Set<Node> {
  const found = new Set<Node>();
  const add = (v: string) => {
    const p = idx.producer(v);
    if (p && permOf(p)) found.add(p);
  };
  for (const v of values) {
    add(v);
    for (const r of idx.readers(v)) {
      if (permOf(r)) found.add(r);
      for (const i of r.inputs) if (i) add(i);
    }
  }
  return found;
}
