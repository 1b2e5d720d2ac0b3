// Small IR helpers the CNN passes share (eliminate-identity, fold-batchnorm, to-nhwc, cancel-transposes,
// fuse-conv-activation): typed attribute reads on raw nodes, float32 constant checks, host-side transposes of
// constants, and node-list splicing that keeps the topological order.

import type { ConstTensor, Graph, Node } from '../ir/graph.js';

export function intAttrOf(n: Node, name: string, dflt: number): number {
  const a = n.attrs[name];
  return a?.type === 'int' ? a.value : dflt;
}

export function floatAttrOf(n: Node, name: string, dflt: number): number {
  const a = n.attrs[name];
  return a?.type === 'float' || a?.type === 'int' ? a.value : dflt;
}

export function intsAttrOf(n: Node, name: string): number[] | undefined {
  const a = n.attrs[name];
  return a?.type === 'ints' ? a.value : a?.type === 'int' ? [a.value] : undefined;
}

/** The initializer named `value` when it is float32 (the only type the folds rewrite), else undefined. */
export function floatConst(g: Graph, value: string | undefined): ConstTensor | undefined {
  const c = value ? g.initializers.get(value) : undefined;
  return c && c.dtype === 'float32' && c.data instanceof Float32Array ? c : undefined;
}

/** The single value of a one-element numeric initializer. */
export function scalarConst(g: Graph, value: string | undefined): number | undefined {
  const c = value ? g.initializers.get(value) : undefined;
  if (!c || c.data.length !== 1 || Array.isArray(c.data)) return undefined;
  return Number(c.data[0]);
}

/** numpy.transpose of a constant on the host (same dtype; perm of the constant's rank). */
export function transposeConst(c: ConstTensor, perm: readonly number[]): ConstTensor {
  const dims = perm.map(p => c.dims[p]!);
  const rank = dims.length;
  const inStrides = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) inStrides[i] = inStrides[i + 1]! * c.dims[i + 1]!;
  const src = c.data as unknown as ArrayLike<number> & { constructor: new (n: number) => { [i: number]: number } };
  const out = new src.constructor(src.length);
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < src.length; o++) {
    let s = 0;
    for (let i = 0; i < rank; i++) s += idx[i]! * inStrides[perm[i]!]!;
    out[o] = src[s]!;
    for (let i = rank - 1; i >= 0; i--) {   // next output index, row-major
      if (++idx[i]! < dims[i]!) break;
      idx[i] = 0;
    }
  }
  return { dtype: c.dtype, dims, data: out as unknown as ConstTensor['data'] };
}

export function isIdentityPerm(perm: readonly number[]): boolean {
  return perm.every((p, i) => p === i);
}

export function invertPerm(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => { inv[p] = i; });
  return inv;
}

/** Replaces `old` in the node list by `nodes` (in order), keeping every other node where it was. */
export function spliceNode(g: Graph, old: Node, nodes: Node[]): void {
  const at = g.nodes.indexOf(old);
  if (at < 0) throw new Error(`spliceNode: ${old.opType} '${old.name}' is not in the graph`);
  g.nodes.splice(at, 1, ...nodes);
}

export function transposeNode(name: string, input: string, output: string, perm: readonly number[]): Node {
  return { name, opType: 'Transpose', domain: '', inputs: [input], outputs: [output], attrs: { perm: { type: 'ints', value: [...perm] } } };
}

/** Fresh value/node names for one pass run: collects the graph's names once, then never repeats one. */
export function nameMaker(g: Graph): (base: string) => string {
  const used = new Set<string>([...g.initializers.keys(), ...g.inputs.map(i => i.name), ...g.outputs.map(o => o.name)]);
  for (const n of g.nodes) { for (const o of n.outputs) used.add(o); for (const i of n.inputs) used.add(i); used.add(n.name); }
  return base => {
    let name = base;
    for (let k = 1; used.has(name); k++) name = `${base}_${k}`;
    used.add(name);
    return name;
  };
}
