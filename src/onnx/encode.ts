// IR Model → ModelProto bytes (raw_data for every tensor). Used by weights-tools and by tests that build graphs.

import { CODE_BY_DTYPE } from '../ir/dtype.js';
import type { AttrValue, Graph, Model, ValueDecl } from '../ir/graph.js';
import { onnx } from './proto.js';
import { tensorToProto } from './tensor-proto.js';

const A = onnx.AttributeProto.AttributeType;
const enc = new TextEncoder();

function attrToProto(name: string, a: AttrValue): onnx.IAttributeProto {
  switch (a.type) {
    case 'float': return { name, type: A.FLOAT, f: a.value };
    case 'int': return { name, type: A.INT, i: a.value };
    case 'string': return { name, type: A.STRING, s: enc.encode(a.value) };
    case 'tensor': return { name, type: A.TENSOR, t: tensorToProto('', a.value) };
    case 'graph': return { name, type: A.GRAPH, g: graphToProto(a.value) };
    case 'floats': return { name, type: A.FLOATS, floats: a.value };
    case 'ints': return { name, type: A.INTS, ints: a.value };
    case 'strings': return { name, type: A.STRINGS, strings: a.value.map(s => enc.encode(s)) };
    case 'tensors': return { name, type: A.TENSORS, tensors: a.value.map(t => tensorToProto('', t)) };
    case 'graphs': return { name, type: A.GRAPHS, graphs: a.value.map(graphToProto) };
  }
}

function valueToProto(v: ValueDecl): onnx.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: CODE_BY_DTYPE[v.dtype],
        shape: v.shape ? { dim: v.shape.map(d => (typeof d === 'number' ? { dimValue: d } : d ? { dimParam: d } : {})) } : undefined,
      },
    },
  };
}

export function graphToProto(g: Graph): onnx.IGraphProto {
  return {
    name: g.name,
    node: g.nodes.map(n => ({
      name: n.name, opType: n.opType, domain: n.domain, input: n.inputs, output: n.outputs,
      attribute: Object.entries(n.attrs).map(([k, v]) => attrToProto(k, v)),
    })),
    initializer: [...g.initializers].map(([name, t]) => tensorToProto(name, t)),
    input: g.inputs.map(valueToProto),
    output: g.outputs.map(valueToProto),
    valueInfo: [...g.valueInfo.values()].map(valueToProto),
  };
}

export function encodeModel(m: Model): Uint8Array {
  return onnx.ModelProto.encode({
    irVersion: m.irVersion,
    opsetImport: [...m.opsets].map(([domain, version]) => ({ domain, version })),
    producerName: m.producerName,
    producerVersion: m.producerVersion,
    docString: m.docString,
    metadataProps: Object.entries(m.metadata).map(([key, value]) => ({ key, value })),
    graph: graphToProto(m.graph),
  }).finish();
}
