// Scatter family: ScatterND (11; reduction add/mul from 16, max/min from 18), ScatterElements (11, same reductions)
// and the deprecated Scatter (9–10, ScatterElements without reduction). Exact typed-array loops on the host: these
// ops build masks and tables (Swin's shifted-window mask), usually from constants, so they fold at load.
// Indices may be negative (counted from the end); an index out of range is an error naming the index and the axis.

import * as tf from '@tensorflow/tfjs-core';
import type { ConstTensor } from '../src/ir/graph.js';
import { typed, type Kind } from './check.js';
import { op, type InferView, type NodeView, type OpDef } from './types.js';
import { dims, normAxis, numel, tfDtype } from './util.js';

type Reduction = 'none' | 'add' | 'mul' | 'max' | 'min';
type Data = Float32Array | Int32Array | Uint8Array;

const ANY: readonly Kind[] = ['float', 'int', 'bool'];
const INDEX: readonly Kind[] = ['int'];

/** `reduction` as the node's opset allows it: none before 16, add/mul from 16, max/min from 18. */
function parseReduction(n: NodeView): Reduction {
  const r = n.attrs.string('reduction', 'none');
  const allowed = n.opset >= 18 ? ['none', 'add', 'mul', 'max', 'min'] : n.opset >= 16 ? ['none', 'add', 'mul'] : ['none'];
  if (!allowed.includes(r)) n.fail(`reduction '${r}' is not one of ${allowed.map(a => `'${a}'`).join(', ')} at opset ${n.opset}`);
  return r as Reduction;
}

/** out[at] ⊕= v for the reduction. */
function combine(out: Data, at: number, v: number, r: Reduction): void {
  switch (r) {
    case 'none': out[at] = v; break;
    case 'add': out[at] = out[at]! + v; break;
    case 'mul': out[at] = out[at]! * v; break;
    case 'max': out[at] = Math.max(out[at]!, v); break;
    case 'min': out[at] = Math.min(out[at]!, v); break;
  }
}

/** An index along an axis of size `dim` made non-negative, or an error naming it. */
function wrap(v: number, dim: number, where: string): number {
  if (v < -dim || v >= dim) throw new RangeError(`index ${v} is out of range for ${where} of size ${dim} (expected ${-dim} to ${dim - 1})`);
  return v < 0 ? v + dim : v;
}

/** Copies of the data (the output to write into), the indices and the updates, read from the tensors. */
function hostArrays(data: tf.Tensor, indices: tf.Tensor, updates: tf.Tensor): [Data, Int32Array, Data] {
  const d = (data.dataSync() as Data).slice();
  return [d, indices.dataSync() as Int32Array, updates.dataSync() as Data];
}

/** Fails at planning when constant indices fall out of range (run re-checks whatever was not constant). */
function checkConstIndices(n: InferView, k: ConstTensor | undefined, dimOf: (i: number) => number, where: (i: number) => string): void {
  if (!k) return;
  const v = Array.from(k.data as ArrayLike<number | bigint>, Number);
  try { v.forEach((x, i) => wrap(x, dimOf(i), where(i))); } catch (e) { n.fail((e as Error).message); }
}

// ---- ScatterND -------------------------------------------------------------------------------------------------

function scatterND(data: tf.Tensor, indices: tf.Tensor, updates: tf.Tensor, r: Reduction): tf.Tensor {
  const ds = data.shape, k = indices.shape.at(-1)!;
  const [out, idx, upd] = hostArrays(data, indices, updates);
  const slice = numel(ds.slice(k)), count = idx.length / k;
  const strides = ds.slice(0, k).map((_, j) => numel(ds.slice(j + 1)));
  for (let u = 0; u < count; u++) {
    let at = 0;
    for (let j = 0; j < k; j++) at += wrap(idx[u * k + j]!, ds[j]!, `data axis ${j}`) * strides[j]!;
    for (let e = 0; e < slice; e++) combine(out, at + e, upd[u * slice + e]!, r);
  }
  return tf.tensor(out, ds, data.dtype);
}

const scatterNd = op({
  opType: 'ScatterND', since: 11,
  parse: (n: NodeView) => ({ reduction: parseReduction(n) }),
  infer: (n: InferView, [data, indices, updates]) => {
    const d = typed(n, data, 0, ANY), i = typed(n, indices, 1, INDEX), u = typed(n, updates, 2, ANY);
    const k = i.shape.at(-1);
    n.check(k !== undefined && k <= d.shape.length, () => `indices ${dims(i.shape)} must have rank ≥ 1 and a last dim ≤ the data's rank ${d.shape.length}`);
    const want = [...i.shape.slice(0, -1), ...d.shape.slice(k)];
    n.check(want.join() === u.shape.join(), () => `updates have shape ${dims(u.shape)}, expected ${dims(want)} (indices ${dims(i.shape)}, data ${dims(d.shape)})`);
    n.check(tfDtype(u.dtype) === tfDtype(d.dtype), () => `updates are ${u.dtype} but data is ${d.dtype}`);
    checkConstIndices(n, n.constant(1), j => d.shape[j % k]!, j => `data axis ${j % k}`);
    return [d];
  },
  run: ([data, indices, updates], { reduction }) => [scatterND(data!, indices!, updates!, reduction)],
});

// ---- ScatterElements, Scatter ----------------------------------------------------------------------------------

function scatterElements(data: tf.Tensor, indices: tf.Tensor, updates: tf.Tensor, axis: number, r: Reduction): tf.Tensor {
  const ds = data.shape, is = indices.shape, rank = ds.length;
  const [out, idx, upd] = hostArrays(data, indices, updates);
  const dStrides = ds.map((_, j) => numel(ds.slice(j + 1)));
  const pos = new Array<number>(rank).fill(0);   // the position in indices, counted in row-major order
  for (let e = 0; e < idx.length; e++) {
    let at = 0;
    for (let j = 0; j < rank; j++) at += (j === axis ? wrap(idx[e]!, ds[axis]!, `data axis ${axis}`) : pos[j]!) * dStrides[j]!;
    combine(out, at, upd[e]!, r);
    for (let j = rank - 1; j >= 0 && ++pos[j]! === is[j]; j--) pos[j] = 0;
  }
  return tf.tensor(out, ds, data.dtype);
}

function scatterElementsOp(opType: 'ScatterElements' | 'Scatter', since: number) {
  return op({
    opType, since,
    parse: (n: NodeView) => ({ axis: n.attrs.int('axis', 0), reduction: opType === 'Scatter' ? 'none' as Reduction : parseReduction(n) }),
    infer: (n: InferView, [data, indices, updates], a) => {
      const d = typed(n, data, 0, ANY), i = typed(n, indices, 1, INDEX), u = typed(n, updates, 2, ANY);
      const axis = normAxis(n, a.axis, d.shape.length);
      n.check(i.shape.length === d.shape.length && i.shape.every((s, j) => j === axis || s <= d.shape[j]!),
        () => `indices ${dims(i.shape)} must have the rank of data ${dims(d.shape)} and no larger dims off axis ${axis}`);
      n.check(u.shape.join() === i.shape.join(), () => `updates have shape ${dims(u.shape)}, expected the indices' ${dims(i.shape)}`);
      n.check(tfDtype(u.dtype) === tfDtype(d.dtype), () => `updates are ${u.dtype} but data is ${d.dtype}`);
      checkConstIndices(n, n.constant(1), () => d.shape[axis]!, () => `data axis ${axis}`);
      return [d];
    },
    run: ([data, indices, updates], a) => {
      const axis = a.axis < 0 ? a.axis + data!.rank : a.axis;
      return [scatterElements(data!, indices!, updates!, axis, a.reduction)];
    },
  });
}

export const SCATTER_OPS: OpDef<any>[] = [scatterNd, scatterElementsOp('ScatterElements', 11), scatterElementsOp('Scatter', 9)];
