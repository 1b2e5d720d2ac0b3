// Pattern-matching helpers shared by the fusion passes: who produces and who reads a value, constant lookups,
// scalar tests, and the final rewrite (drop the matched nodes, insert the fused one where the last one was).

import { sizeOf } from '../ir/dtype.js';
import { producers } from '../ir/edit.js';
import type { ConstTensor, Graph, Node, TensorInfo } from '../ir/graph.js';

/** Producer/consumer index over a graph, built once per pass run; `replace` keeps it current. */
export class GraphIndex {
  private readonly prod: Map<string, Node>;
  private readonly users = new Map<string, Node[]>();
  private readonly outputs: Set<string>;

  constructor(readonly g: Graph, readonly infos?: ReadonlyMap<string, TensorInfo>) {
    this.prod = producers(g);
    for (const n of g.nodes) for (const i of n.inputs) if (i) this.users.set(i, [...(this.users.get(i) ?? []), n]);
    this.outputs = new Set(g.outputs.map(o => o.name));
  }

  /** The node writing `value` when it is a node of this op type (domain '' unless given). */
  producer(value: string | undefined, opType?: string, domain = ''): Node | undefined {
    const n = value ? this.prod.get(value) : undefined;
    if (!n || (opType && (n.opType !== opType || n.domain !== domain))) return undefined;
    return n;
  }

  /** Every node reading `value` (each once, even when it reads it twice). */
  readers(value: string): Node[] {
    return [...new Set(this.users.get(value) ?? [])];
  }

  /** The single node reading `value`, when `value` has no other reader and is not a graph output. */
  onlyReader(value: string, opType?: string): Node | undefined {
    const r = this.readers(value);
    if (r.length !== 1 || this.outputs.has(value)) return undefined;
    return !opType || (r[0]!.opType === opType && r[0]!.domain === '') ? r[0] : undefined;
  }

  /** True when every reader of `value` is one of `nodes` and it is not a graph output (safe to delete its producer). */
  internal(value: string, nodes: readonly Node[]): boolean {
    return !this.outputs.has(value) && this.readers(value).every(r => nodes.includes(r));
  }

  constant(value: string | undefined): ConstTensor | undefined {
    return value ? this.g.initializers.get(value) : undefined;
  }

  info(value: string | undefined): TensorInfo | undefined {
    return value ? this.infos?.get(value) : undefined;
  }

  shape(value: string | undefined): number[] | undefined {
    return this.info(value)?.shape;
  }

  /** Removes `matched` and puts `fused` at the position of the last of them (its inputs are all ready there). */
  replace(matched: readonly Node[], fused: Node): void {
    const drop = new Set(matched);
    const at = Math.max(...matched.map(n => this.g.nodes.indexOf(n)));
    const nodes: Node[] = [];
    this.g.nodes.forEach((n, i) => {
      if (i === at) nodes.push(fused);
      if (!drop.has(n)) nodes.push(n);
    });
    this.g.nodes = nodes;
    for (const n of matched) for (const o of n.outputs) this.prod.delete(o);
    for (const o of fused.outputs) if (o) this.prod.set(o, fused);
    for (const [v, list] of this.users) this.users.set(v, list.filter(n => !drop.has(n)));
    for (const i of fused.inputs) if (i) this.users.set(i, [...(this.users.get(i) ?? []), fused]);
  }
}

/** The other input of a binary node, given one of them; undefined if `known` is not an input of it. */
export function otherInput(n: Node, known: string): string | undefined {
  if (n.inputs.length !== 2) return undefined;
  if (n.inputs[0] === known) return n.inputs[1];
  if (n.inputs[1] === known) return n.inputs[0];
  return undefined;
}

/** The value of a constant holding exactly one float/int element (any rank), else undefined. */
export function scalarOf(c: ConstTensor | undefined): number | undefined {
  if (!c || sizeOf(c.dims) !== 1 || Array.isArray(c.data)) return undefined;   // size first: a large weight's data may live on the device only
  return Number(c.data[0]);
}

/** True when `c` is a one-element constant within `rel` relative error of `want`. */
export function isScalar(c: ConstTensor | undefined, want: number, rel = 1e-6): boolean {
  const v = scalarOf(c);
  return v !== undefined && Math.abs(v - want) <= rel * Math.abs(want);
}

export function isFloatInfo(i: TensorInfo | undefined): i is TensorInfo {
  return !!i && i.dtype === 'float32';
}

export function sameShape(a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  return !!a && !!b && a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Reads the reduction axes of a ReduceMean (attribute before opset 18, input 1 from 18). */
export function reduceAxes(idx: GraphIndex, n: Node): number[] | undefined {
  const attr = n.attrs['axes'];
  if (attr?.type === 'ints') return attr.value;
  if (n.inputs[1]) {
    const c = idx.constant(n.inputs[1]);
    return c && !Array.isArray(c.data) ? Array.from(c.data as ArrayLike<number | bigint>, Number) : undefined;
  }
  return undefined;
}

export function intAttr(n: Node, name: string, dflt: number): number {
  const a = n.attrs[name];
  return a?.type === 'int' ? a.value : dflt;
}

export function intsAttr(n: Node, name: string): number[] | undefined {
  const a = n.attrs[name];
  return a?.type === 'ints' ? a.value : undefined;
}

export function samePerm(n: Node, perm: readonly number[]): boolean {
  const p = intsAttr(n, 'perm');
  return !!p && p.length === perm.length && p.every((v, i) => v === perm[i]);
}

/** The Add that is `value`'s only reader, when its other operand has exactly value's type and shape (a residual
 *  connection, not a broadcast): the Add and that operand. */
export function residualAdd(idx: GraphIndex, value: string): { add: Node; z: string } | undefined {
  const vi = idx.info(value);
  const add = idx.onlyReader(value, 'Add');
  const z = add && otherInput(add, value);
  if (!add || !z || z === value || !isFloatInfo(vi)) return undefined;
  const zi = idx.info(z);
  if (zi?.dtype !== vi.dtype || !sameShape(zi.shape, vi.shape) || !sameShape(idx.shape(add.outputs[0]), vi.shape)) return undefined;
  return { add, z };
}
