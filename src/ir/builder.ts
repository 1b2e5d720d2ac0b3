// Builds IR graphs in code: for tests (tiny graphs per pass), weights-tools (converted and generated models).

import type { DType } from './dtype.js';
import { emptyGraph, type AttrValue, type ConstTensor, type Graph, type Model, type Node } from './graph.js';

export type AttrInput = number | string | number[] | string[] | ConstTensor | AttrValue;

/** Plain JS values become typed attributes: integers → int(s), other numbers → float(s). Force with {type, value}. */
export function toAttr(v: AttrInput): AttrValue {
  if (typeof v === 'number') return Number.isInteger(v) ? { type: 'int', value: v } : { type: 'float', value: v };
  if (typeof v === 'string') return { type: 'string', value: v };
  if (Array.isArray(v)) {
    if (v.length && typeof v[0] === 'string') return { type: 'strings', value: v as string[] };
    const nums = v as number[];
    return nums.every(Number.isInteger) ? { type: 'ints', value: nums } : { type: 'floats', value: nums };
  }
  if ('type' in v && 'value' in v) return v as AttrValue;
  return { type: 'tensor', value: v as ConstTensor };
}

export class GraphBuilder {
  readonly graph: Graph;
  private counter = 0;

  constructor(name = 'main') {
    this.graph = emptyGraph(name);
  }

  input(name: string, dtype: DType, shape?: (number | string | null)[]): string {
    this.graph.inputs.push({ name, dtype, shape });
    return name;
  }

  output(name: string, dtype: DType = 'float32', shape?: (number | string | null)[]): string {
    this.graph.outputs.push({ name, dtype, shape });
    return name;
  }

  init(name: string, t: ConstTensor): string {
    this.graph.initializers.set(name, t);
    return name;
  }

  /** Adds a node; returns its output names (default: one output named `<name>_output_0`). */
  node(opType: string, inputs: string[], attrs: Record<string, AttrInput> = {},
    opts: { name?: string; outputs?: string[] | number; domain?: string } = {}): string[] {
    const name = opts.name ?? `${opType}_${this.counter++}`;
    const outs = Array.isArray(opts.outputs)
      ? opts.outputs
      : Array.from({ length: opts.outputs ?? 1 }, (_, i) => `${name}_output_${i}`);
    const node: Node = {
      name, opType, domain: opts.domain ?? '', inputs, outputs: outs,
      attrs: Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, toAttr(v)])),
    };
    this.graph.nodes.push(node);
    return outs;
  }

  /** Single-output shorthand. */
  op(opType: string, inputs: string[], attrs: Record<string, AttrInput> = {}, name?: string): string {
    return this.node(opType, inputs, attrs, { name })[0]!;
  }

  model(opset = 17, extra: Partial<Omit<Model, 'graph'>> = {}): Model {
    return {
      irVersion: 8, opsets: new Map([['', opset]]), producerName: 'ocellus', producerVersion: '0.1.0',
      docString: '', metadata: {}, ...extra, graph: this.graph,
    };
  }
}
