// ModelProto bytes → IR Model. Validates what the runtime relies on (ir_version, opsets, tensor data sizes,
// external data files, one definition per value name) and names the file and the field in every error.

import { DTYPE_NAME_BY_CODE, type DType } from '../ir/dtype.js';
import type { AttrValue, ConstTensor, Graph, Model, Node, ValueDecl } from '../ir/graph.js';
import { ModelLoadError } from './errors.js';
import { num, onnx } from './proto.js';
import { TensorDataError, dtypeOf, tensorFromProto, type ExternalRef, type RawBytesUse } from './tensor-proto.js';
import { MAX_PROTO_OBJECTS, countProtoObjects } from './wire-budget.js';

export const MIN_IR_VERSION = 3;
export const MAX_IR_VERSION = 10;

export interface DecodeOptions {
  /** Name used in errors (the path, or "model bytes"). */
  name?: string;
  /** Returns exactly `length` bytes at `offset` of an external data file (`location` as written in the model),
   *  or throws saying why not (outside the model's folder, not a regular file, too short). */
  readExternal?: (location: string, offset: number, length: number) => Uint8Array;
  /** `bytes` and what readExternal returns were read by the loader and nobody else sees them: large float32
   *  weights then stay in them as views (moved to 4-byte boundaries) instead of being copied. The bytes are no
   *  longer a valid model afterwards. */
  ownsBytes?: boolean;
}

const A = onnx.AttributeProto.AttributeType;
const textDecoder = new TextDecoder();

function valueDecl(v: onnx.IValueInfoProto, where: string): ValueDecl {
  const name = v.name ?? '';
  const tt = v.type?.tensorType;
  if (!tt) {
    const kind = v.type ? Object.keys(v.type).find(k => k.endsWith('Type')) ?? 'unknown' : 'missing';
    throw new TensorDataError(`${where} '${name}': only tensor values are supported (type is ${kind})`);
  }
  const dtype: DType = dtypeOf(tt.elemType ?? 0, `${where} '${name}'`);
  const shape = tt.shape ? (tt.shape.dim ?? []).map(d => (d.dimValue != null && d.dimParam == null ? num(d.dimValue) : d.dimParam || null)) : undefined;
  const bad = shape?.find(d => typeof d === 'number' && (!Number.isSafeInteger(d) || d < 0));
  if (bad !== undefined) throw new TensorDataError(`${where} '${name}': dim ${bad} in shape [${shape!.join(', ')}] is not a whole number ≥ 0`);
  return { name, dtype, shape };
}

function attribute(a: onnx.IAttributeProto, ctx: Ctx, where: string): AttrValue {
  const what = `${where} attribute '${a.name}'`;
  const type = a.type ?? inferAttrType(a);
  switch (type) {
    case A.FLOAT: return { type: 'float', value: a.f ?? 0 };
    case A.INT: return { type: 'int', value: num(a.i) };
    case A.STRING: return { type: 'string', value: textDecoder.decode(a.s ?? new Uint8Array()) };
    case A.TENSOR: return { type: 'tensor', value: ctx.tensor(a.t ?? {}, what) };
    case A.GRAPH: return { type: 'graph', value: ctx.graph(a.g ?? {}, what) };
    case A.FLOATS: return { type: 'floats', value: [...(a.floats ?? [])] };
    case A.INTS: return { type: 'ints', value: (a.ints ?? []).map(v => num(v)) };
    case A.STRINGS: return { type: 'strings', value: (a.strings ?? []).map(s => textDecoder.decode(s)) };
    case A.TENSORS: return { type: 'tensors', value: (a.tensors ?? []).map((t, i) => ctx.tensor(t, `${what}[${i}]`)) };
    case A.GRAPHS: return { type: 'graphs', value: (a.graphs ?? []).map((g, i) => ctx.graph(g, `${what}[${i}]`)) };
    default: throw new TensorDataError(`${what}: attribute type ${A[type as number] ?? type} is not supported`);
  }
}

/** ir_version < 2 files may omit AttributeProto.type; infer it from the field that is set. */
function inferAttrType(a: onnx.IAttributeProto): number {
  if (a.floats?.length) return A.FLOATS;
  if (a.ints?.length) return A.INTS;
  if (a.strings?.length) return A.STRINGS;
  if (a.tensors?.length) return A.TENSORS;
  if (a.graphs?.length) return A.GRAPHS;
  if (a.t) return A.TENSOR;
  if (a.g) return A.GRAPH;
  if (a.s?.length) return A.STRING;
  if (a.i != null && num(a.i) !== 0) return A.INT;
  if (a.f != null && a.f !== 0) return A.FLOAT;
  return A.UNDEFINED;
}

interface Ctx {
  tensor(t: onnx.ITensorProto, what: string): ConstTensor;
  graph(g: onnx.IGraphProto, what: string): Graph;
}

function graphFromProto(g: onnx.IGraphProto, ctx: Ctx, main = false): Graph {
  if (g.sparseInitializer?.length) throw new TensorDataError(`sparse initializers are not supported ('${g.sparseInitializer[0]!.values?.name ?? ''}')`);
  checkSingleAssignment(g, main);
  const initializers = new Map<string, ConstTensor>();
  for (const t of g.initializer ?? []) initializers.set(t.name ?? '', ctx.tensor(t, `initializer '${t.name}'`));
  const nodes: Node[] = (g.node ?? []).map((n, index) => {
    const name = n.name || `${n.opType}#${index}`;
    const where = `node ${n.opType} '${name}'`;
    const attrs: Record<string, AttrValue> = {};
    for (const a of n.attribute ?? []) {
      if (a.refAttrName) throw new TensorDataError(`${where}: attribute '${a.name}' refers to a function attribute, which only functions may do`);
      attrs[a.name ?? ''] = attribute(a, ctx, where);
    }
    return { name, opType: n.opType ?? '', domain: normaliseDomain(n.domain ?? ''), inputs: [...(n.input ?? [])], outputs: [...(n.output ?? [])], attrs };
  });
  const inputs = (g.input ?? []).filter(v => !initializers.has(v.name ?? '')).map(v => valueDecl(v, 'graph input'));
  const outputs = (g.output ?? []).map(v => valueDecl(v, 'graph output'));
  const valueInfo = new Map<string, ValueDecl>();
  for (const v of g.valueInfo ?? []) {
    try { valueInfo.set(v.name ?? '', valueDecl(v, 'value_info')); } catch { /* non-tensor value_info entries are hints only */ }
  }
  return { name: g.name ?? 'main', nodes, inputs, outputs, initializers, valueInfo };
}

/**
 * Every value is defined once (ONNX's SSA rule, as onnxruntime checks it: "Duplicate definition of name"): no graph
 * input twice, no node output naming a graph input, an initializer or another node's output. An initializer may
 * also be listed as a graph input (an input with a default), and onnxruntime keeps the last of duplicate initializers.
 * The main graph's outputs must be defined in it (a subgraph's may come from the scope around it).
 */
function checkSingleAssignment(g: onnx.IGraphProto, main: boolean): void {
  const defined = new Map<string, string>();
  for (const v of g.input ?? []) {
    const name = v.name ?? '';
    if (defined.has(name)) throw new TensorDataError(`graph input '${name}' is declared twice`);
    defined.set(name, 'a graph input');
  }
  for (const t of g.initializer ?? []) if (!defined.has(t.name ?? '')) defined.set(t.name ?? '', 'an initializer');
  (g.node ?? []).forEach((n, index) => {
    const where = `node ${n.opType} '${n.name || `${n.opType}#${index}`}'`;
    for (const o of n.output ?? []) {
      if (!o) continue;   // an omitted optional output
      const before = defined.get(o);
      if (before) throw new TensorDataError(`${where}: output '${o}' is already defined by ${before} (each value must have one definition)`);
      defined.set(o, where);
    }
  });
  for (const v of main ? g.output ?? [] : []) {
    if (!defined.has(v.name ?? '')) throw new TensorDataError(`graph output '${v.name ?? ''}' is not a graph input, an initializer or any node's output`);
  }
}

function normaliseDomain(d: string): string {
  return d === 'ai.onnx' ? '' : d;
}

/** Decodes and validates a model. Throws ModelLoadError naming `opts.name`. */
export function decodeModel(bytes: Uint8Array, opts: DecodeOptions = {}): Model {
  const file = opts.name ?? 'model bytes';
  if (bytes.byteLength === 0) throw new ModelLoadError(file, 'the file is empty');
  // protobufjs builds every message before we see any: count them first (wire-budget.ts).
  const objects = countProtoObjects(bytes);
  if (objects > MAX_PROTO_OBJECTS) {
    throw new ModelLoadError(file, `holds more than ${MAX_PROTO_OBJECTS} protobuf messages (nodes, attributes, tensors, value infos, …); decoding them would exhaust the heap`);
  }
  let proto: onnx.ModelProto;
  try {
    proto = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new ModelLoadError(file, `not a valid ONNX model: protobuf decoding failed (${(e as Error).message}); the file is truncated or corrupt`);
  }
  const irVersion = num(proto.irVersion);
  if (!proto.graph) throw new ModelLoadError(file, 'not a valid ONNX model: it has no graph');
  if (irVersion < MIN_IR_VERSION || irVersion > MAX_IR_VERSION) {
    throw new ModelLoadError(file, `ir_version ${irVersion} is not supported (expected ${MIN_IR_VERSION} to ${MAX_IR_VERSION})`);
  }
  const opsets = new Map<string, number>();
  for (const o of proto.opsetImport ?? []) opsets.set(normaliseDomain(o.domain ?? ''), num(o.version));
  if (!opsets.has('')) throw new ModelLoadError(file, 'opset_import has no entry for the default domain (ai.onnx)');

  const readExternal = (ref: Required<ExternalRef>, what: string): Uint8Array => {
    if (!opts.readExternal) throw new TensorDataError(`${what}: external data '${ref.location}' can only be read when the model is loaded from a path`);
    let data: Uint8Array;
    try {
      data = opts.readExternal(ref.location, ref.offset, ref.length);
    } catch (e) {
      throw new TensorDataError(`${what}: external data file '${ref.location}' cannot be read (${(e as Error).message})`);
    }
    if (data.byteLength !== ref.length) {
      throw new TensorDataError(`${what}: external data '${ref.location}' gave ${data.byteLength} bytes at offset ${ref.offset}, expected ${ref.length}`);
    }
    return data;
  };
  // raw_data decoded as a view of `bytes` (protobufjs slices without copying) may be moved in place.
  const use = opts.ownsBytes
    ? { rawData: (raw: Uint8Array): RawBytesUse => (raw.buffer === bytes.buffer ? 'align' : 'copy'), external: 'view' as const }
    : undefined;
  const ctx: Ctx = {
    tensor: (t, what) => tensorFromProto(t, what, ref => readExternal(ref, what), use),
    graph: g => graphFromProto(g, ctx),
  };
  try {
    const graph = graphFromProto(proto.graph, ctx, true);
    const metadata = Object.fromEntries((proto.metadataProps ?? []).map(e => [e.key ?? '', e.value ?? '']));
    return {
      irVersion, opsets, producerName: proto.producerName ?? '', producerVersion: proto.producerVersion ?? '',
      docString: proto.docString ?? '', metadata, graph,
    };
  } catch (e) {
    if (e instanceof TensorDataError) throw new ModelLoadError(file, e.message);
    // Anything else is a check this file is missing: still name the file, and say it was not expected.
    if (e instanceof TypeError || e instanceof RangeError) throw new ModelLoadError(file, `the model is malformed (${e.name}: ${e.message})`);
    throw e;
  }
}

export function dtypeName(code: number): string {
  return DTYPE_NAME_BY_CODE[code] ?? String(code);
}
