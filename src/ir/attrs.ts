// Reads on raw IR nodes and constants for the passes: typed attributes with their spec defaults, and float32 /
// one-element constant lookups. (Kernels read attributes through kernels/attrs.ts, which also validates.)

import { sizeOf } from './dtype.js';
import type { ConstTensor, Graph, Node } from './graph.js';

export function intAttr(n: Node, name: string, dflt: number): number {
  const a = n.attrs[name];
  return a?.type === 'int' ? a.value : dflt;
}

export function floatAttr(n: Node, name: string, dflt: number): number {
  const a = n.attrs[name];
  return a?.type === 'float' || a?.type === 'int' ? a.value : dflt;
}

/** An ints attribute (a single int reads as one element). */
export function intsAttr(n: Node, name: string): number[] | undefined {
  const a = n.attrs[name];
  return a?.type === 'ints' ? a.value : a?.type === 'int' ? [a.value] : undefined;
}

/** True when `n`'s perm attribute is exactly `perm`. */
export function samePerm(n: Node, perm: readonly number[]): boolean {
  const p = intsAttr(n, 'perm');
  return !!p && p.length === perm.length && p.every((v, i) => v === perm[i]);
}

/** The initializer named `value` when it is float32 (the only type the folds rewrite), else undefined. */
export function floatConst(g: Graph, value: string | undefined): ConstTensor | undefined {
  const c = value ? g.initializers.get(value) : undefined;
  return c && c.dtype === 'float32' && c.data instanceof Float32Array ? c : undefined;
}

/** The value of a constant holding exactly one float/int element (any rank), else undefined. */
export function scalarOf(c: ConstTensor | undefined): number | undefined {
  if (!c || sizeOf(c.dims) !== 1 || Array.isArray(c.data)) return undefined;   // size first: a large weight's data may live on the device only
  return Number(c.data[0]);
}

/** The single value of a one-element numeric initializer. */
export function scalarConst(g: Graph, value: string | undefined): number | undefined {
  return scalarOf(value ? g.initializers.get(value) : undefined);
}

/** True when `c` is a one-element constant within `rel` relative error of `want`. */
export function isScalar(c: ConstTensor | undefined, want: number, rel = 1e-6): boolean {
  const v = scalarOf(c);
  return v !== undefined && Math.abs(v - want) <= rel * Math.abs(want);
}
