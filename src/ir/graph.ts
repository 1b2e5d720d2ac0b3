// The in-memory model every layer above the loader works on: plain data, no protobuf, no tfjs.
// Values are named strings as in ONNX; an empty input name means "optional input omitted".

import type { DType, TensorData } from './dtype.js';

/** A constant tensor: an initializer, a Constant node's value, or a folded result. */
export interface ConstTensor {
  dtype: DType;
  dims: number[];
  data: TensorData;
}

export type AttrValue =
  | { type: 'float'; value: number }
  | { type: 'int'; value: number }
  | { type: 'string'; value: string }
  | { type: 'tensor'; value: ConstTensor }
  | { type: 'graph'; value: Graph }
  | { type: 'floats'; value: number[] }
  | { type: 'ints'; value: number[] }
  | { type: 'strings'; value: string[] }
  | { type: 'tensors'; value: ConstTensor[] }
  | { type: 'graphs'; value: Graph[] };

export type AttrType = AttrValue['type'];

export interface Node {
  name: string;
  opType: string;
  domain: string;       // '' = ai.onnx; 'local' = ocellus's own fused ops
  inputs: string[];     // '' = omitted optional input
  outputs: string[];
  attrs: Record<string, AttrValue>;
}

/** A graph input/output or value_info entry. Dims: number = fixed, string = symbolic (dim_param), null = unknown. */
export interface ValueDecl {
  name: string;
  dtype: DType;
  shape?: (number | string | null)[];
}

export interface Graph {
  name: string;
  nodes: Node[];
  inputs: ValueDecl[];          // runtime inputs only (initializers that are also inputs are in `initializers`)
  outputs: ValueDecl[];
  initializers: Map<string, ConstTensor>;
  valueInfo: Map<string, ValueDecl>;
}

export interface Model {
  irVersion: number;
  opsets: Map<string, number>;  // domain ('' = ai.onnx) → version
  producerName: string;
  producerVersion: string;
  docString: string;
  metadata: Record<string, string>;
  graph: Graph;
}

export function emptyGraph(name = 'main'): Graph {
  return { name, nodes: [], inputs: [], outputs: [], initializers: new Map(), valueInfo: new Map() };
}

/** A value's static type once shapes are known: element type and concrete dims. */
export interface TensorInfo {
  dtype: import('./dtype.js').DType;
  shape: number[];
}
