// Einsum (opset 12): the equation is parsed once; each operand first takes its diagonals (a repeated label) and sums
// the labels no one else needs, then the operands are contracted left to right, each pair as ONE batched tf.matMul
// ([batch, M, K] × [batch, K, N]). The batched-matmul forms exporters write (`bhid,bhjd->bhij`, `bij,bjk->bik`,
// `bhwc,hkc->bhwk`) need no transpose before the product: matMul's transpose flags take K on either side.
// Ellipsis dims broadcast numpy-style; integer types compute in float32 (exact below 2^24) and convert back.

import * as tf from '@tensorflow/tfjs-core';
import { typed, type Kind } from './check.js';
import { op, type NodeView, type OpDef, type ValueInfo } from './types.js';
import { broadcastShapes, numel, tfDtype } from './util.js';

const NUM: readonly Kind[] = ['float', 'int'];
const ELLIPSIS = '.';   // a term's '...' becomes one '.' while parsing

/** A parsed equation: per input its labels ('.' marks the ellipsis), and the output's (undefined = implicit). */
interface Equation { inputs: string[]; output?: string }

function parseEquation(n: NodeView, eq: string): Equation {
  const text = eq.replace(/\s+/g, '');
  const [lhs, rhs, ...more] = text.split('->');
  const term = (t: string, what: string): string => {
    const s = t.replace(/\.\.\./g, ELLIPSIS);
    n.check(/^[A-Za-z.]*$/.test(s) && s.split(ELLIPSIS).length <= 2,
      () => `equation '${eq}': ${what} '${t}' must be letters with at most one '...'`);
    return s;
  };
  n.check(more.length === 0 && lhs !== undefined, () => `equation '${eq}' has more than one '->'`);
  const inputs = lhs!.split(',').map((t, i) => term(t, `input term ${i}`));
  const output = rhs === undefined ? undefined : term(rhs, 'output term');
  if (output) {
    const seen = new Set<string>();
    for (const l of output) {
      n.check(!seen.has(l), () => `equation '${eq}': output label '${l}' repeats`);
      n.check(l === ELLIPSIS || inputs.some(t => t.includes(l)), () => `equation '${eq}': output label '${l}' is in no input`);
      seen.add(l);
    }
  }
  return { inputs, output };
}

/** Labels per axis of each input, with the ellipsis expanded to '0', '1', … (right-aligned across inputs), the
 *  output's labels and every label's size. Throws with the reason when shapes do not fit the equation. */
interface Labelled { ins: string[][]; out: string[]; size: Map<string, number> }

function label(e: Equation, shapes: readonly (readonly number[])[], fail: (d: string) => never): Labelled {
  if (shapes.length !== e.inputs.length) fail(`the equation has ${e.inputs.length} input terms but the node has ${shapes.length} inputs`);
  const ellRank = Math.max(0, ...e.inputs.map((t, i) => (t.includes(ELLIPSIS) ? shapes[i]!.length - (t.length - 1) : 0)));
  const ell = Array.from({ length: ellRank }, (_, j) => String(j));
  const ellShapes: number[][] = [];
  const size = new Map<string, number>();
  const ins = e.inputs.map((t, i) => {
    const s = shapes[i]!, letters = t.length - (t.includes(ELLIPSIS) ? 1 : 0), k = s.length - letters;
    if (k < 0 || (k > 0 && !t.includes(ELLIPSIS))) fail(`input ${i} has rank ${s.length} but its term '${t.replace(ELLIPSIS, '...')}' names ${letters} axes`);
    const labels = [...t].flatMap(l => (l === ELLIPSIS ? ell.slice(ellRank - k) : [l]));
    if (t.includes(ELLIPSIS)) ellShapes.push(s.slice(t.indexOf(ELLIPSIS), t.indexOf(ELLIPSIS) + k));
    labels.forEach((l, a) => {
      if (l >= '0' && l <= '9') return;
      const d = size.get(l);
      if (d !== undefined && d !== s[a]) fail(`label '${l}' is ${d} in one place and ${s[a]} in input ${i}`);
      size.set(l, s[a]!);
    });
    return labels;
  });
  const ellShape = broadcastShapes(...ellShapes);
  if (!ellShape) fail(`the '...' dims ${ellShapes.map(s => `[${s.join(', ')}]`).join(' and ')} do not broadcast`);
  ell.forEach((l, j) => size.set(l, ellShape[j]!));
  let out: string[];
  if (e.output !== undefined) {
    out = [...e.output].flatMap(l => (l === ELLIPSIS ? ell : [l]));
  } else {
    const count = new Map<string, number>();
    for (const t of e.inputs) for (const l of t) if (l !== ELLIPSIS) count.set(l, (count.get(l) ?? 0) + 1);
    out = [...ell, ...[...count].filter(([, c]) => c === 1).map(([l]) => l).sort()];
  }
  return { ins, out, size };
}

/** An operand during evaluation: the tensor and the label of each of its axes. */
interface Operand { t: tf.Tensor; labels: string[] }

/** The diagonal of the two axes holding label `l`: they become one axis, last. */
function diagonal(x: Operand, l: string): Operand {
  const p = x.labels.indexOf(l), q = x.labels.indexOf(l, p + 1), d = x.t.shape[p]!;
  const rest = x.labels.map((_, i) => i).filter(i => i !== p && i !== q);
  const moved = tf.transpose(x.t, [...rest, p, q]);
  const flat = tf.reshape(moved, [...rest.map(i => x.t.shape[i]!), d * d]);
  const idx = tf.range(0, d * d, d + 1, 'int32');
  return { t: tf.gather(flat, idx, rest.length), labels: [...rest.map(i => x.labels[i]!), l] };
}

/** Sums the axes whose labels are not in `keep`. */
function sumOut(x: Operand, keep: ReadonlySet<string>): Operand {
  const axes = x.labels.map((l, i) => (keep.has(l) ? -1 : i)).filter(i => i >= 0);
  if (axes.length === 0) return x;
  return { t: tf.sum(x.t, axes), labels: x.labels.filter(l => keep.has(l)) };
}

const isPrefix = (order: readonly number[]) => order.every((v, i) => v === i);

/** a ⋅ b over their shared labels not in `keep`, as one batched matMul; shared labels in `keep` are batch axes. */
function contract(a: Operand, b: Operand, keep: ReadonlySet<string>, size: ReadonlyMap<string, number>): Operand {
  const inB = new Set(b.labels), inA = new Set(a.labels);
  const batch = a.labels.filter(l => inB.has(l) && keep.has(l));
  const sum = a.labels.filter(l => inB.has(l) && !keep.has(l));
  const aOnly = a.labels.filter(l => !inB.has(l)), bOnly = b.labels.filter(l => !inA.has(l));
  const at = (x: Operand, ls: string[]) => ls.map(l => x.labels.indexOf(l));
  // A as [batch, M, K] or [batch, K, M] (transposeA), B as [batch, K, N] or [batch, N, K] (transposeB): whichever
  // is its axis order already; else transposed to the first.
  const aRows = [...at(a, batch), ...at(a, aOnly), ...at(a, sum)], aCols = [...at(a, batch), ...at(a, sum), ...at(a, aOnly)];
  const bRows = [...at(b, batch), ...at(b, sum), ...at(b, bOnly)], bCols = [...at(b, batch), ...at(b, bOnly), ...at(b, sum)];
  const transA = !isPrefix(aRows) && isPrefix(aCols), transB = !isPrefix(bRows) && isPrefix(bCols);
  const dims = (ls: string[]) => ls.map(l => size.get(l)!);
  const bt = numel(dims(batch)), m = numel(dims(aOnly)), k = numel(dims(sum)), nn = numel(dims(bOnly));
  const side = (x: Operand, order: number[], shape: number[]) => {
    let t = isPrefix(order) ? x.t : tf.transpose(x.t, order);
    const want = order.map(i => size.get(x.labels[i]!)!);
    if (t.shape.join() !== want.join()) t = tf.broadcastTo(t, want);   // '...' dims of size 1 against n
    return tf.reshape(t, shape);
  };
  const a3 = side(a, transA ? aCols : aRows, transA ? [bt, k, m] : [bt, m, k]);
  const b3 = side(b, transB ? bCols : bRows, transB ? [bt, nn, k] : [bt, k, nn]);
  const y = tf.matMul(a3, b3, transA, transB);
  const labels = [...batch, ...aOnly, ...bOnly];
  return { t: tf.reshape(y, dims(labels)), labels };
}

function einsum(xs: readonly tf.Tensor[], e: Equation): tf.Tensor {
  const { ins, out, size } = label(e, xs.map(x => x.shape), d => { throw new Error(d); });
  const dtype = xs[0]!.dtype;
  let ops: Operand[] = xs.map((x, i) => ({ t: dtype === 'float32' ? x : tf.cast(x, 'float32'), labels: ins[i]! }));
  ops = ops.map(o => {
    for (let l = o.labels.find((v, i) => o.labels.indexOf(v) !== i); l !== undefined; l = o.labels.find((v, i) => o.labels.indexOf(v) !== i)) o = diagonal(o, l);
    return o;
  });
  const outSet = new Set(out);
  const neededAfter = (i: number) => new Set([...out, ...ops.slice(i + 1).flatMap(o => o.labels)]);
  const needed = (i: number) => new Set([...neededAfter(i), ...ops.slice(0, i).flatMap(o => o.labels)]);
  ops = ops.map((o, i) => sumOut(o, needed(i)));
  let acc = ops[0]!;
  for (let i = 1; i < ops.length; i++) {
    const keep = neededAfter(i);
    acc = contract(sumOut(acc, new Set([...keep, ...ops[i]!.labels])), sumOut(ops[i]!, new Set([...keep, ...acc.labels])), keep, size);
  }
  acc = sumOut(acc, outSet);
  const order = out.map(l => acc.labels.indexOf(l));
  let y = isPrefix(order) ? acc.t : tf.transpose(acc.t, order);
  const shape = out.map(l => size.get(l)!);
  if (y.shape.join() !== shape.join()) y = tf.broadcastTo(y, shape);
  return dtype === 'float32' ? y : tf.cast(y, dtype);
}

const einsumOp = op({
  opType: 'Einsum', since: 12,
  parse: (n: NodeView) => parseEquation(n, n.attrs.string('equation')),
  infer: (n, inputs, e) => {
    const infos = inputs.map((v, i) => typed(n, v, i, NUM));
    const dt = tfDtype(infos[0]!.dtype);
    infos.forEach((v, i) => n.check(tfDtype(v.dtype) === dt, () => `input ${i} is ${v.dtype} but input 0 is ${infos[0]!.dtype}`));
    const { out, size } = label(e, infos.map(v => v.shape), d => n.fail(`equation '${n.attrs.string('equation')}': ${d}`));
    return [{ dtype: infos[0]!.dtype, shape: out.map(l => size.get(l)!) } as ValueInfo];
  },
  run: (xs, e) => [einsum(xs as tf.Tensor[], e)],
});

export const EINSUM_OPS: OpDef<any>[] = [einsumOp];
