// ONNX-aware mutations on the schema-less protobuf tree (protobuf.ts): varints set to interesting values,
// initializer dims made huge, zero or negative and their data dropped, cut or moved to external data, data types
// swapped, nodes' op types, inputs and attributes changed, graph input shapes changed, fields duplicated, dropped
// or given another wire type. Field numbers are onnx.proto's (ModelProto.graph = 7, GraphProto.initializer = 5, …).

import { type Field, parseMessage, pb, walk, writeMessage } from './protobuf.js';
import type { Rng } from './rng.js';

export const INTERESTING_VARINTS: readonly bigint[] = [
  0n, 1n, 2n, 3n, 255n, 256n, 65535n, 65536n, 2n ** 28n, 2n ** 31n - 1n, 2n ** 31n, 2n ** 32n, 2n ** 32n + 1n,
  2n ** 53n, 2n ** 53n + 1n, 2n ** 62n, 2n ** 63n - 1n, -1n, -2n, -(2n ** 31n), -(2n ** 63n),
];

const OP_TYPES = ['Conv', 'Reshape', 'Gemm', 'MatMul', 'Add', 'Resize', 'Expand', 'Tile', 'ConstantOfShape', 'Range',
  'Slice', 'Concat', 'Gather', 'Transpose', 'Softmax', 'Pad', 'Split', 'Squeeze', 'Unsqueeze', 'Identity', 'Frobnicate'];

const M = { graph: 7, opset: 8, irVersion: 1 } as const;                              // ModelProto
const G = { node: 1, initializer: 5, input: 11, output: 12, valueInfo: 13 } as const;  // GraphProto
const T = { dims: 1, dataType: 2, floatData: 4, int64Data: 7, name: 8, rawData: 9, externalData: 13, location: 14 } as const;

const sub = (fields: Field[], no: number): Field[][] =>
  fields.filter(f => f.no === no && f.wire === 2 && f.msg).map(f => (f as { msg: Field[] }).msg);

function graphOf(model: Field[]): Field[] | null {
  return sub(model, M.graph)[0] ?? null;
}

/** Initializers and Constant-node tensors (NodeProto.attribute(5).t(5)). */
function tensorsOf(graph: Field[]): Field[][] {
  const out = sub(graph, G.initializer);
  for (const node of sub(graph, G.node)) for (const attr of sub(node, 5)) out.push(...sub(attr, 5));
  return out;
}

function hugeVarint(rng: Rng): bigint {
  return rng.pick([2n ** 28n, 2n ** 31n, 2n ** 32n, 2n ** 40n, 2n ** 62n, 65536n, 100000n, -1n, 0n, 2n ** 63n - 1n]);
}

function setDims(rng: Rng, t: Field[]): string {
  const dims = t.filter(f => f.no === T.dims && f.wire === 0) as Extract<Field, { wire: 0 }>[];
  const what = rng.int(4);
  if (what === 0 && dims.length) { rng.pick(dims).value = BigInt.asUintN(64, hugeVarint(rng)); return 'dim-huge'; }
  if (what === 1) {
    for (let k = rng.pick([1, 2, 4]); k > 0; k--) t.unshift(pb.int(T.dims, hugeVarint(rng)));
    return 'dims-added';
  }
  if (what === 2 && dims.length) { t.splice(t.indexOf(rng.pick(dims)), 1); return 'dim-removed'; }
  for (const d of dims) d.value = BigInt.asUintN(64, rng.pick([0n, 1n, 2n ** 16n, 2n ** 31n]));
  return 'dims-all';
}

function setData(rng: Rng, t: Field[]): string {
  const raw = t.findIndex(f => f.no === T.rawData && f.wire === 2);
  const what = rng.int(5);
  if (what === 0 && raw >= 0) { t.splice(raw, 1); return 'data-dropped'; }
  if (what === 1 && raw >= 0) {
    const f = t[raw] as Extract<Field, { wire: 2 }>;
    t[raw] = { no: T.rawData, wire: 2, bytes: f.bytes.slice(0, rng.int(f.bytes.length + 1)) };
    return 'data-cut';
  }
  if (what === 2) {
    const dt = t.find(f => f.no === T.dataType && f.wire === 0) as Extract<Field, { wire: 0 }> | undefined;
    const v = BigInt(rng.pick([0, 1, 2, 3, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 21, 22, 99]));
    if (dt) dt.value = v; else t.push(pb.int(T.dataType, v));
    return `dtype-${v}`;
  }
  if (what === 3) {
    if (raw >= 0) t.splice(raw, 1);
    for (let k = rng.pick([0, 1, 3]); k > 0; k--) t.push(rng.chance(0.5) ? pb.f32(T.floatData, 1.5) : pb.int(T.int64Data, 7));
    return 'typed-data';
  }
  t.push(pb.int(T.location, rng.pick([1, 1, 2, 99])));
  t.push(pb.sub(T.externalData, [pb.str(1, 'location'), pb.str(2, rng.pick(['w.bin', 'model.onnx.data', '/dev/zero', '../../../etc/hostname', '.', '', 'link.bin']))]));
  if (rng.chance(0.5)) t.push(pb.sub(T.externalData, [pb.str(1, rng.pick(['offset', 'length'])), pb.str(2, rng.pick(['0', '-1', '4096', '1e9', '99999999999999999999', 'x']))]));
  return 'external';
}

function mutateNode(rng: Rng, graph: Field[]): string {
  const nodes = sub(graph, G.node);
  if (!nodes.length) return 'no nodes';
  const node = rng.pick(nodes);
  const what = rng.int(4);
  if (what === 0) {
    const i = node.findIndex(f => f.no === 4);
    const op = pb.str(4, rng.pick(OP_TYPES));
    if (i >= 0) node[i] = op; else node.push(op);
    return 'op-type';
  }
  if (what === 1) {                                      // an input renamed to another value, or to nothing
    const names = nodes.flatMap(n => n.filter(f => (f.no === 1 || f.no === 2) && f.wire === 2));
    const ins = node.filter(f => f.no === 1 && f.wire === 2);
    if (!ins.length) return 'no inputs';
    const target = rng.pick(ins);
    node[node.indexOf(target)] = { no: 1, wire: 2, bytes: rng.chance(0.2) ? new Uint8Array(0) : (rng.pick(names) as Extract<Field, { wire: 2 }>).bytes };
    return 'input-rewired';
  }
  if (what === 2) {                                      // AttributeProto: i = 3, ints = 8, type = 20
    const attrs = sub(node, 5);
    if (!attrs.length) return 'no attributes';
    const varints = rng.pick(attrs).filter(f => f.wire === 0) as Extract<Field, { wire: 0 }>[];
    if (varints.length) rng.pick(varints).value = BigInt.asUintN(64, rng.pick(INTERESTING_VARINTS));
    return 'attribute';
  }
  const i = graph.indexOf(graph.find(f => f.no === G.node && f.wire === 2 && f.msg === node)!);
  graph.splice(rng.int(graph.length + 1), 0, graph[i]!);
  return 'node-duplicate';
}

function mutateShape(rng: Rng, graph: Field[]): string {
  // ValueInfoProto.type(2).tensor_type(1).shape(2).dim(1).{dim_value(1) | dim_param(2)}; elem_type(1) in tensor_type
  const vis = [...sub(graph, G.input), ...sub(graph, G.output), ...sub(graph, G.valueInfo)];
  if (!vis.length) return 'no value infos';
  const tt = sub(sub(rng.pick(vis), 2)[0] ?? [], 1)[0];
  if (!tt) return 'no tensor type';
  if (rng.chance(0.2)) {
    const et = tt.find(f => f.no === 1 && f.wire === 0) as Extract<Field, { wire: 0 }> | undefined;
    if (et) et.value = BigInt(rng.pick([0, 2, 7, 8, 9, 11, 16, 99]));
    return 'elem-type';
  }
  const shape = sub(tt, 2)[0];
  if (!shape) return 'no shape';
  const dims = sub(shape, 1);
  if (rng.chance(0.3) || !dims.length) {
    shape.push(pb.sub(1, [pb.int(1, hugeVarint(rng))]));
    return 'shape-dim-added';
  }
  const d = rng.pick(dims);
  d.length = 0;
  d.push(rng.chance(0.8) ? pb.int(1, hugeVarint(rng)) : pb.str(2, 'N'));
  return 'shape-dim';
}

function mutateAnyVarint(rng: Rng, model: Field[]): string {
  const varints: Extract<Field, { wire: 0 }>[] = [];
  walk(model, f => { if (f.wire === 0) varints.push(f); });
  if (!varints.length) return 'no varints';
  const f = rng.pick(varints);
  f.value = rng.chance(0.7) ? BigInt.asUintN(64, rng.pick(INTERESTING_VARINTS)) : BigInt.asUintN(64, f.value + BigInt(rng.range(-2, 2)));
  return `varint #${f.no}`;
}

function mutateStructure(rng: Rng, model: Field[]): string {
  const messages: Field[][] = [model];
  walk(model, f => { if (f.wire === 2 && f.msg) messages.push(f.msg); });
  const m = rng.pick(messages);
  if (!m.length) return 'empty message';
  const i = rng.int(m.length);
  const what = rng.int(4);
  if (what === 0) { m.splice(i, 1); return 'field-delete'; }
  if (what === 1) { m.splice(rng.int(m.length + 1), 0, ...Array.from({ length: rng.pick([1, 1, 2, 64]) }, () => m[i]!)); return 'field-duplicate'; }
  if (what === 2) {
    const f = m[i]!;
    m[i] = f.wire === 0 ? { no: f.no, wire: 2, bytes: new Uint8Array(rng.int(8)) } : { no: f.no, wire: 0, value: BigInt(rng.int(300)), width: 1 };
    return 'wire-type';
  }
  const f = m[i]!;
  if (f.wire === 2) {
    const bytes = f.msg ? writeMessage(f.msg) : f.bytes;
    m[i] = { no: f.no, wire: 2, bytes: rng.chance(0.5) ? bytes.slice(0, rng.int(bytes.length + 1)) : rng.bytes(rng.int(32)) };
    return 'payload';
  }
  m[i] = { ...f, no: rng.range(1, 25) } as Field;
  return 'field-number';
}

/** One or more ONNX-aware mutations of a model's bytes; null when the bytes are not a protobuf message. */
export function mutateOnnx(rng: Rng, bytes: Uint8Array): { name: string; bytes: Uint8Array } | null {
  const model = parseMessage(bytes);
  if (!model) return null;
  const graph = graphOf(model);
  const names: string[] = [];
  for (let k = rng.pick([1, 1, 1, 2, 3]); k > 0; k--) {
    const w = rng.weighted([3, 2, 2, 2, 1, 2, 1, 1]);
    const tensors = graph ? tensorsOf(graph) : [];
    if ((w === 0 || w === 1) && tensors.length) {
      names.push(w === 0 ? setDims(rng, rng.pick(tensors)) : setData(rng, rng.pick(tensors)));
    } else if (w === 2 && graph) names.push(mutateNode(rng, graph));
    else if (w === 3 && graph) names.push(mutateShape(rng, graph));
    else if (w === 4) {
      const op = sub(model, M.opset)[0];
      const v = op?.find(f => f.no === 2 && f.wire === 0) as Extract<Field, { wire: 0 }> | undefined;
      if (v) v.value = BigInt(rng.pick([0, 1, 6, 7, 11, 13, 17, 18, 21, 99, 1000]));
      names.push('opset');
    } else if (w === 5) names.push(mutateAnyVarint(rng, model));
    else names.push(mutateStructure(rng, model));
  }
  return { name: names.join('+'), bytes: writeMessage(model) };
}

export { M as MODEL_FIELDS, G as GRAPH_FIELDS, T as TENSOR_FIELDS };
