// The plan cache's body (plan-cache.ts): an IR Model as JSON (nodes, attributes, value declarations; every constant
// replaced by {$t: index}) followed by each constant's bytes, 8-aligned. Written as a list of buffers (no copy into
// one message, unlike protobuf encoding); read back as views of the file's bytes where they are aligned (no copy).
//
// Body: u32 LE JSON length, JSON (UTF-8, space-padded so the blobs start 8-aligned), then the blobs.

import type { AttrValue, ConstTensor, Graph, Model, Node, ValueDecl } from '../ir/graph.js';

type TypedCtor = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => ArrayBufferView & { length: number; slice(): ArrayBufferView };
const CTORS: Record<string, TypedCtor> = {
  Float32Array, Float64Array, Int8Array, Uint8Array, Int16Array, Uint16Array, Int32Array, Uint32Array, BigInt64Array, BigUint64Array,
} as unknown as Record<string, TypedCtor>;

interface TensorRef { dtype: ConstTensor['dtype']; dims: number[]; ctor?: string; at?: number; count?: number; strings?: string[] }
type Json = unknown;

const pad8 = (n: number) => (8 - (n % 8)) % 8;

/** JSON keeps every finite number exactly but not NaN, ±Infinity or −0: such a model is not cached. */
function exactNumbers(_key: string, v: unknown): unknown {
  if (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0))) throw new Error(`an attribute holds ${v}, which the cache's JSON cannot keep`);
  return v;
}

/** The body as parts to write in order, and their total length. */
export function encodePlanBody(m: Model): { parts: Uint8Array[]; length: number } {
  const tensors: TensorRef[] = [];
  const blobs: Uint8Array[] = [];
  let at = 0;
  const tensor = (c: ConstTensor): Json => {
    const ref: TensorRef = { dtype: c.dtype, dims: [...c.dims] };
    if (Array.isArray(c.data)) ref.strings = [...c.data];
    else {
      const d = c.data as ArrayBufferView & { length: number };
      const name = d.constructor.name;
      if (!CTORS[name]) throw new Error(`plan cache: constant data of type ${name} is not supported`);
      ref.ctor = name;
      ref.at = at;
      ref.count = d.length;
      const bytes = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
      blobs.push(bytes);
      at += bytes.byteLength;
      const p = pad8(bytes.byteLength);
      if (p) { blobs.push(new Uint8Array(p)); at += p; }
    }
    tensors.push(ref);
    return { $t: tensors.length - 1 };
  };
  const attr = (a: AttrValue): Json => {
    switch (a.type) {
      case 'tensor': return { type: a.type, value: tensor(a.value) };
      case 'tensors': return { type: a.type, value: a.value.map(tensor) };
      case 'graph': return { type: a.type, value: graph(a.value) };
      case 'graphs': return { type: a.type, value: a.value.map(graph) };
      default: return a;
    }
  };
  const node = (n: Node): Json => ({ ...n, attrs: Object.fromEntries(Object.entries(n.attrs).map(([k, v]) => [k, attr(v)])) });
  function graph(g: Graph): Json {
    return {
      name: g.name, nodes: g.nodes.map(node), inputs: g.inputs, outputs: g.outputs,
      initializers: [...g.initializers].map(([k, c]) => [k, tensor(c)]), valueInfo: [...g.valueInfo.values()],
    };
  }
  const root = {
    irVersion: m.irVersion, opsets: [...m.opsets], producerName: m.producerName, producerVersion: m.producerVersion,
    docString: m.docString, metadata: m.metadata, graph: graph(m.graph),
  };
  let json = Buffer.from(JSON.stringify({ model: root, tensors }, exactNumbers), 'utf8');
  const p = pad8(4 + json.byteLength);
  if (p) json = Buffer.concat([json, Buffer.alloc(p, 0x20)]);
  const head = Buffer.alloc(4);
  head.writeUInt32LE(json.byteLength, 0);
  const parts = [head, json, ...blobs];
  return { parts, length: parts.reduce((a, b) => a + b.byteLength, 0) };
}

/** The Model of a body (constants are views of `body` where aligned, else copies). Throws on a malformed body. */
export function decodePlanBody(body: Uint8Array): Model {
  if (body.byteLength < 4) throw new Error('the body is too short');
  const jsonLength = new DataView(body.buffer, body.byteOffset, 4).getUint32(0, true);
  if (4 + jsonLength > body.byteLength) throw new Error('the body is shorter than its JSON');
  const { model, tensors } = JSON.parse(new TextDecoder().decode(body.subarray(4, 4 + jsonLength))) as { model: any; tensors: TensorRef[] };
  const blobAt = body.byteOffset + 4 + jsonLength, blobEnd = body.byteOffset + body.byteLength;
  const made = tensors.map((r): ConstTensor => {
    if (r.strings) return { dtype: r.dtype, dims: r.dims, data: r.strings };
    const Ctor = CTORS[r.ctor ?? ''];
    if (!Ctor) throw new Error(`unknown constant type ${r.ctor}`);
    const size = (Ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
    const start = blobAt + r.at!, end = start + r.count! * size;
    if (!(end <= blobEnd) || !(r.at! >= 0)) throw new Error('a constant lies outside the body');
    const data = start % size === 0 ? new Ctor(body.buffer, start, r.count!) : new Ctor(body.buffer.slice(start, end), 0, r.count!);
    return { dtype: r.dtype, dims: r.dims, data: data as unknown as ConstTensor['data'] };
  });
  const tensor = (j: { $t: number }): ConstTensor => {
    const t = made[j.$t];
    if (!t) throw new Error(`constant #${j.$t} is missing`);
    return t;
  };
  const attr = (a: any): AttrValue => {
    switch (a.type) {
      case 'tensor': return { type: 'tensor', value: tensor(a.value) };
      case 'tensors': return { type: 'tensors', value: a.value.map(tensor) };
      case 'graph': return { type: 'graph', value: graph(a.value) };
      case 'graphs': return { type: 'graphs', value: a.value.map(graph) };
      default: return a as AttrValue;
    }
  };
  function graph(g: any): Graph {
    return {
      name: g.name,
      nodes: g.nodes.map((n: any): Node => ({ ...n, attrs: Object.fromEntries(Object.entries(n.attrs).map(([k, v]) => [k, attr(v)])) })),
      inputs: g.inputs as ValueDecl[], outputs: g.outputs as ValueDecl[],
      initializers: new Map(g.initializers.map(([k, t]: [string, { $t: number }]) => [k, tensor(t)])),
      valueInfo: new Map((g.valueInfo as ValueDecl[]).map(v => [v.name, v])),
    };
  }
  return {
    irVersion: model.irVersion, opsets: new Map(model.opsets), producerName: model.producerName,
    producerVersion: model.producerVersion, docString: model.docString, metadata: model.metadata, graph: graph(model.graph),
  };
}
