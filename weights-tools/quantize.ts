// Dynamic int8 quantization of a model folder, written as onnx/model_quantized.onnx (what the pipeline's dtype 'q8'
// loads), in the node patterns onnxruntime's quantize_dynamic writes:
//   MatMul (constant W):  DynamicQuantizeLinear(x) → MatMulInteger(x_q, W_q int8, x_zp, W_zp) → Cast → Mul(·, x_scale·W_scale)
//   Conv (constant W):    … ConvInteger(x_q, W_q uint8, x_zp, W_zp) → Cast → Mul(·, x_scale·W_scale) → Add(Reshape(B, [1,-1,1,1]))
// Gemm (constant B, no transA) first becomes MatMul + Add, and BatchNormalization is folded into the preceding Conv
// (onnxruntime's quant_pre_process does the same). One DynamicQuantizeLinear per activation, shared by its readers.
// Weights: MatMul int8 symmetric (zero point 0, range ±127), Conv uint8 asymmetric; per tensor, or with `perChannel`
// per MatMul column / per Conv output channel (Conv then symmetric around 128, so the zero point stays a scalar,
// which is all onnxruntime's ConvInteger accepts). Scales are computed in float32 as in the reference fixtures.

import fs from 'node:fs';
import path from 'node:path';
import { removeDeadNodes, topoSort } from '../src/ir/edit.js';
import type { ConstTensor, Graph, Model, Node } from '../src/ir/graph.js';
import { encodeModel } from '../src/onnx/encode.js';
import { loadModel } from '../src/onnx/load.js';
import { foldBatchNorm } from '../src/passes/fold-batchnorm.js';
import { opFacts } from '../src/runtime/op-facts.js';

export type QuantizableOp = 'MatMul' | 'Conv';

export interface QuantizeOptions {
  perChannel?: boolean;                      // default true: ResNet-50 top-1 = fp32 on 199/200 ImageNet dev photos (193 per tensor)
  opTypes?: QuantizableOp[];                 // default both
  exclude?: string[];                        // node names kept in float (a split Gemm answers to its own name)
  keepFirstAndLast?: boolean;                // keep the first and last quantizable nodes (stem, classifier) in float
  onProgress?: (e: QuantizeProgress) => void;
}

export interface QuantizeProgress { stage: 'load' | 'prepare' | 'quantize' | 'write' | 'done'; done: number; total: number; node?: string }

export interface QuantizeStats {
  matmuls: number;                            // MatMul nodes rewritten
  convs: number;                              // Conv nodes rewritten
  gemmsSplit: number;                         // Gemm → MatMul + Add
  batchNormsFolded: number;
  activations: number;                        // DynamicQuantizeLinear nodes
  weightElements: number;                     // float weights now stored as 8-bit
  kept: string[];                             // quantizable nodes left in float (exclude, keepFirstAndLast)
}

export interface QuantizeReport extends QuantizeStats {
  input: string;
  output: string;
  bytesIn: number;                            // model.onnx and its external data files
  bytesOut: number;
}

// ---- weight quantization ---------------------------------------------------------------------------------------------

const f32 = Math.fround;

/** numpy.round: nearest, ties to even. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export type WeightScheme = 'int8-symmetric' | 'uint8-asymmetric' | 'uint8-symmetric';

const SCHEME = {
  'int8-symmetric': { dtype: 'int8', qmin: -127, qmax: 127, symmetric: true },
  'uint8-asymmetric': { dtype: 'uint8', qmin: 0, qmax: 255, symmetric: false },
  'uint8-symmetric': { dtype: 'uint8', qmin: 0, qmax: 255, symmetric: true },
} as const;

/** Scale and zero point for values in [lo, hi] (onnxruntime's compute_scale_zp, in float32): the range is widened to
 *  hold 0 (symmetric: to ±max|·|); scale = range/(qmax − qmin); zp = round(qmin − lo/scale), or the middle of the
 *  integer range when symmetric; a zero range gets scale 1. */
export function scaleAndZeroPoint(lo: number, hi: number, scheme: WeightScheme): { scale: number; zp: number } {
  const { qmin, qmax, symmetric } = SCHEME[scheme];
  let rmin = Math.min(lo, 0), rmax = Math.max(hi, 0);
  if (symmetric) {
    const a = Math.max(-rmin, rmax);
    rmin = -a;
    rmax = a;
  }
  const mid = roundHalfEven((qmin + qmax) / 2);
  const scale = f32(f32(rmax - rmin) / (qmax - qmin));
  if (!(scale >= 1.1754943508222875e-38)) return { scale: 1, zp: symmetric ? mid : 0 };
  return { scale, zp: symmetric ? mid : roundHalfEven(f32(qmin - f32(rmin / scale))) };
}

/** Quantizes float weights per tensor, or per slice along `axis` (then scale/zp hold one value per slice). */
export function quantizeWeights(w: ConstTensor, scheme: WeightScheme, axis?: number): { q: ConstTensor; scale: Float32Array; zp: Int32Array } {
  const { dtype, qmin, qmax } = SCHEME[scheme];
  const data = w.data as Float32Array;
  const channels = axis === undefined ? 1 : w.dims[axis]!;
  const inner = axis === undefined ? data.length : w.dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channelOf = (i: number) => (axis === undefined ? 0 : Math.floor(i / inner) % channels);
  const lo = new Float32Array(channels), hi = new Float32Array(channels);
  for (let i = 0; i < data.length; i++) {
    const c = channelOf(i), v = data[i]!;
    if (v < lo[c]!) lo[c] = v;
    if (v > hi[c]!) hi[c] = v;
  }
  const scale = new Float32Array(channels), zp = new Int32Array(channels);
  for (let c = 0; c < channels; c++) ({ scale: scale[c], zp: zp[c] } = scaleAndZeroPoint(lo[c]!, hi[c]!, scheme));
  const q = dtype === 'int8' ? new Int8Array(data.length) : new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const c = channelOf(i);
    q[i] = Math.min(qmax, Math.max(qmin, roundHalfEven(f32(data[i]! / scale[c]!)) + zp[c]!));
  }
  return { q: { dtype, dims: [...w.dims], data: q }, scale, zp };
}

// ---- graph rewrite -----------------------------------------------------------------------------------------------------

const floatConst = (g: Graph, v: string | undefined) => {
  const c = v ? g.initializers.get(v) : undefined;
  return c && c.dtype === 'float32' && c.data instanceof Float32Array ? c : undefined;
};
const intAttr = (n: Node, name: string, dflt: number) => (n.attrs[name]?.type === 'int' ? (n.attrs[name]!.value as number) : dflt);
const floatAttr = (n: Node, name: string, dflt: number) => {
  const a = n.attrs[name];
  return a?.type === 'float' || a?.type === 'int' ? (a.value as number) : dflt;
};
const node = (name: string, opType: string, inputs: string[], outputs: string[], attrs: Node['attrs'] = {}): Node =>
  ({ name, opType, domain: '', inputs, outputs, attrs });

/** Gemm(A, B, C) with constant B and transA = 0 → MatMul(A, B') [+ Add(·, C')]: B' = alpha·B (transposed if transB),
 *  C' = beta·C, under the original names (B is replaced in place, as onnxruntime does). */
function splitGemms(g: Graph, origin: Map<string, string>): number {
  let count = 0;
  const nodes: Node[] = [];
  const readers = new Map<string, number>();
  for (const n of g.nodes) for (const i of new Set(n.inputs)) readers.set(i, (readers.get(i) ?? 0) + 1);
  /** Stores a rewritten constant: under its own name, or a new one when other nodes still read the original. */
  const store = (name: string, value: ConstTensor): string => {
    const target = (readers.get(name) ?? 0) > 1 ? `${name}_${count}` : name;
    g.initializers.set(target, value);
    return target;
  };
  for (const n of g.nodes) {
    const b = n.opType === 'Gemm' && n.domain === '' ? floatConst(g, n.inputs[1]) : undefined;
    if (!b || b.dims.length !== 2 || intAttr(n, 'transA', 0) !== 0 || (n.inputs[2] && !floatConst(g, n.inputs[2]))) {
      nodes.push(n);
      continue;
    }
    const alpha = floatAttr(n, 'alpha', 1), beta = floatAttr(n, 'beta', 1);
    let w = b;
    if (intAttr(n, 'transB', 0)) {
      const [r, c] = b.dims as [number, number], src = b.data as Float32Array, t = new Float32Array(src.length);
      for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) t[j * r + i] = src[i * c + j]!;
      w = { dtype: 'float32', dims: [c, r], data: t };
    }
    if (alpha !== 1) w = { ...w, data: (w.data as Float32Array).map(v => f32(v * alpha)) };
    const wName = w === b ? n.inputs[1]! : store(n.inputs[1]!, w);
    const name = n.name || n.outputs[0]!, y = n.outputs[0]!;
    origin.set(`${name}_MatMul`, name);
    if (!n.inputs[2]) {
      nodes.push(node(`${name}_MatMul`, 'MatMul', [n.inputs[0]!, wName], [y]));
    } else {
      const c = floatConst(g, n.inputs[2])!;
      const cName = beta === 1 ? n.inputs[2] : store(n.inputs[2], { ...c, data: (c.data as Float32Array).map(v => f32(v * beta)) });
      nodes.push(node(`${name}_MatMul`, 'MatMul', [n.inputs[0]!, wName], [`${y}_MatMul`]));
      nodes.push(node(`${name}_Add`, 'Add', [`${y}_MatMul`, cName], [y]));
    }
    count++;
  }
  g.nodes = nodes;
  return count;
}

interface Rewriter {
  g: Graph;
  perChannel: boolean;
  dql: Map<string, [string, string, string]>;          // activation → [quantized, scale, zero point]
  weights: Map<string, [string, string, string]>;      // float weight → [quantized, scale, zero point]
  stats: QuantizeStats;
}

/** The DynamicQuantizeLinear outputs for activation x, emitting the node (into `out`) the first time. */
function activation(r: Rewriter, x: string, out: Node[]): [string, string, string] {
  let names = r.dql.get(x);
  if (!names) {
    names = [`${x}_quantized`, `${x}_scale`, `${x}_zero_point`];
    out.push(node(`${x}_QuantizeLinear`, 'DynamicQuantizeLinear', [x], [...names]));
    r.dql.set(x, names);
    r.stats.activations++;
  }
  return names;
}

/** Quantized weight initializers for float weight `name` (once per weight, even when shared). */
function weight(r: Rewriter, name: string, kind: 'matmul' | 'conv'): [string, string, string] {
  const known = r.weights.get(name);
  if (known) return known;
  const w = floatConst(r.g, name)!;
  const scheme: WeightScheme = kind === 'matmul' ? 'int8-symmetric' : r.perChannel ? 'uint8-symmetric' : 'uint8-asymmetric';
  const axis = !r.perChannel ? undefined : kind === 'matmul' ? 1 : 0;
  const { q, scale, zp } = quantizeWeights(w, scheme, axis);
  const names: [string, string, string] = [`${name}_quantized`, `${name}_scale`, `${name}_zero_point`];
  const dt = q.dtype;
  const zpData = dt === 'int8' ? Int8Array.from(zp) : Uint8Array.from(zp);
  // Per channel: MatMul scale/zp [N] broadcast over columns; Conv scale [M, 1, …] over NCHW channels, zp one scalar.
  const perConv = axis === 0;
  r.g.initializers.set(names[0], q);
  r.g.initializers.set(names[1], { dtype: 'float32', dims: axis === undefined ? [] : perConv ? [scale.length, ...new Array<number>(w.dims.length - 2).fill(1)] : [scale.length], data: scale });
  r.g.initializers.set(names[2], { dtype: dt, dims: axis === undefined || perConv ? [] : [zp.length], data: perConv ? zpData.slice(0, 1) : zpData });
  r.weights.set(name, names);
  r.stats.weightElements += w.data.length;
  return names;
}

/** The nodes replacing MatMul/Conv `n` (with DynamicQuantizeLinear first when x is new). */
function rewriteNode(r: Rewriter, n: Node, kind: 'matmul' | 'conv', out: Node[]): void {
  const [x, w, bias] = n.inputs as [string, string, string?];
  const [xq, xs, xz] = activation(r, x, out);
  const [wq, ws, wz] = weight(r, w, kind);
  const name = n.name || n.outputs[0]!, y = n.outputs[0]!;
  const acc = `${y}_output_quantized`, accF = `${acc}_cast_output`, scales = `${name}_quant_scales_mul:0`;
  out.push(node(`${name}_quant_scales_mul`, 'Mul', [xs, ws], [scales]));
  const attrs = kind === 'conv' ? n.attrs : {};
  out.push(node(`${name}_quant`, kind === 'matmul' ? 'MatMulInteger' : 'ConvInteger', [xq, wq, xz, wz], [acc], attrs));
  out.push(node(`${acc}_cast`, 'Cast', [acc], [accF], { to: { type: 'int', value: 1 } }));
  if (!bias) {
    out.push(node(`${name}_quant_output_scale_mul`, 'Mul', [accF, scales], [y]));
    return;
  }
  const rank = r.g.initializers.get(w)!.dims.length;
  const shape = `${y}_bias_reshape_shape`, reshaped = `${y}_bias_reshape_output`, scaled = `${y}quant_scaled_output`;
  r.g.initializers.set(shape, { dtype: 'int64', dims: [rank], data: BigInt64Array.from([1, -1, ...new Array<number>(rank - 2).fill(1)].map(BigInt)) });
  out.push(node(`${y}_bias_reshape`, 'Reshape', [bias, shape], [reshaped]));
  out.push(node(`${name}_quant_output_scale_mul`, 'Mul', [accF, scales], [scaled]));
  out.push(node(`${y}_bias_add`, 'Add', [scaled, reshaped], [y]));
}

function quantizable(g: Graph, n: Node, ops: readonly QuantizableOp[]): 'matmul' | 'conv' | undefined {
  if (n.domain !== '' || !n.inputs[0] || g.initializers.has(n.inputs[0])) return undefined;
  const w = floatConst(g, n.inputs[1]);
  if (n.opType === 'MatMul' && ops.includes('MatMul') && w?.dims.length === 2) return 'matmul';
  const bias = n.inputs[2];
  if (n.opType === 'Conv' && ops.includes('Conv') && w && (w.dims.length === 3 || w.dims.length === 4) && (!bias || floatConst(g, bias))) return 'conv';
  return undefined;
}

/** The quantizable nodes to leave in float: those named in `exclude` (by their name, or a split Gemm's), and with
 *  `keepFirstAndLast` the first and last in topological order — for a CNN the stem conv reading raw pixels and the
 *  classifier, the two layers whose int8 error moves the top-1 most. Unknown names in `exclude` are an error. */
function keptNodes(g: Graph, ops: readonly QuantizableOp[], origin: Map<string, string>, opts: QuantizeOptions): Set<Node> {
  const candidates = g.nodes.filter(n => quantizable(g, n, ops));
  const keep = new Set<Node>();
  const wanted = new Set(opts.exclude ?? []);
  for (const n of candidates) {
    for (const name of [n.name, origin.get(n.name)]) if (name !== undefined && wanted.has(name)) { keep.add(n); wanted.delete(name); }
  }
  if (wanted.size) {
    const known = g.nodes.map(n => n.name).concat([...origin.values()]);
    const bad = [...wanted].map(w => `'${w}'${known.includes(w) ? ' (not a quantizable ' + ops.join('/') + ' with a constant weight)' : ' (no such node)'}`);
    throw new Error(`exclude: ${bad.join(', ')}; quantizable nodes: ${candidates.slice(0, 5).map(n => n.name).join(', ')}${candidates.length > 5 ? ', …' : ''}`);
  }
  if (opts.keepFirstAndLast ?? KEEP_FIRST_AND_LAST_DEFAULT) {
    if (candidates[0]) keep.add(candidates[0]);
    if (candidates.length) keep.add(candidates.at(-1)!);
  }
  return keep;
}

/** Whether `keepFirstAndLast` is on when not given. */
export const KEEP_FIRST_AND_LAST_DEFAULT = false;

/** Rewrites `model` in place; returns what it did. */
export function quantizeModel(model: Model, opts: QuantizeOptions = {}): QuantizeStats {
  const ops = opts.opTypes ?? ['MatMul', 'Conv'];
  const opset = model.opsets.get('') ?? 0;
  if (opset < 11) throw new Error(`the model imports ai.onnx opset ${opset}; dynamic quantization needs ≥ 11 (DynamicQuantizeLinear)`);
  const g = model.graph;
  const stats: QuantizeStats = { matmuls: 0, convs: 0, gemmsSplit: 0, batchNormsFolded: 0, activations: 0, weightElements: 0, kept: [] };
  const origin = new Map<string, string>();   // MatMul from a split Gemm → the Gemm's name
  stats.gemmsSplit = splitGemms(g, origin);
  if (ops.includes('Conv')) stats.batchNormsFolded = foldBatchNorm.run(g, { opsets: model.opsets, facts: opFacts(model.opsets) });
  topoSort(g);   // so "first" and "last" follow the data flow
  const keep = keptNodes(g, ops, origin, opts);
  const r: Rewriter = { g, perChannel: opts.perChannel ?? true, dql: new Map(), weights: new Map(), stats };
  const todo = g.nodes.filter(n => quantizable(g, n, ops) && !keep.has(n)).length;
  const out: Node[] = [];
  for (const n of g.nodes) {
    const kind = quantizable(g, n, ops);
    if (kind && keep.has(n)) stats.kept.push(n.name);
    if (!kind || keep.has(n)) { out.push(n); continue; }
    rewriteNode(r, n, kind, out);
    stats[kind === 'matmul' ? 'matmuls' : 'convs']++;
    opts.onProgress?.({ stage: 'quantize', done: stats.matmuls + stats.convs, total: todo, node: n.name });
  }
  g.nodes = out;
  removeDeadNodes(g);   // the float weights nothing reads any more
  topoSort(g);
  return stats;
}

// ---- folders -------------------------------------------------------------------------------------------------------------

/** Writes bytes to `file` through a temp file in the same folder, renamed into place once complete. */
function writeAtomic(file: string, bytes: Uint8Array): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.partial-${process.pid}-${Date.now()}`);
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      for (let off = 0; off < bytes.byteLength;) off += fs.writeSync(fd, bytes, off, Math.min(8 << 20, bytes.byteLength - off));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** Quantizes `<dir>/onnx/model.onnx` into `<dir>/onnx/model_quantized.onnx` (replacing it atomically). */
export async function quantizeModelFolder(dir: string, opts: QuantizeOptions = {}): Promise<QuantizeReport> {
  const input = path.join(dir, 'onnx', 'model.onnx');
  if (!fs.existsSync(input)) throw new Error(`${dir}: no onnx/model.onnx to quantize`);
  return quantizeModelFile(input, path.join(dir, 'onnx', 'model_quantized.onnx'), opts);
}

/** Quantizes the ONNX file `input` into `output` (written atomically; external data is read, the output is one file). */
export async function quantizeModelFile(input: string, output: string, opts: QuantizeOptions = {}): Promise<QuantizeReport> {
  opts.onProgress?.({ stage: 'load', done: 0, total: 1 });
  const model = await loadModel(input);
  opts.onProgress?.({ stage: 'prepare', done: 0, total: 1 });
  const stats = quantizeModel(model, opts);
  if (stats.matmuls + stats.convs === 0) throw new Error(`${input}: nothing to quantize (no ${(opts.opTypes ?? ['MatMul', 'Conv']).join('/')} with a constant weight)`);
  model.producerName = 'ocellus quantize';
  const bytes = encodeModel(model);
  opts.onProgress?.({ stage: 'write', done: 0, total: bytes.byteLength });
  writeAtomic(output, bytes);
  opts.onProgress?.({ stage: 'done', done: bytes.byteLength, total: bytes.byteLength });
  // The float side counts its external-data files too (model.onnx_data, model.onnx.data: the usual names).
  const onnxDir = path.dirname(input), base = path.basename(input);
  const bytesIn = fs.readdirSync(onnxDir).filter(f => f === base || (f.startsWith(base) && /^[._]/.test(f.slice(base.length))))
    .reduce((sum, f) => sum + fs.statSync(path.join(onnxDir, f)).size, 0);
  return { ...stats, input, output, bytesIn, bytesOut: bytes.byteLength };
}
