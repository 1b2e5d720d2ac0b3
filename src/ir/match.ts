// Pattern predicates the fusion passes share, over a GraphIndex: the other operand of a binary node, float types,
// equal shapes, ReduceMean axes, and the residual Add (an exact-shape, non-broadcasting sum).

import type { Node, TensorInfo } from './graph.js';
import type { GraphIndex } from './graph-index.js';

/** The other input of a binary node, given one of them; undefined if `known` is not an input of it. */
export function otherInput(n: Node, known: string): string | undefined {
  if (n.inputs.length !== 2) return undefined;
  if (n.inputs[0] === known) return n.inputs[1];
  if (n.inputs[1] === known) return n.inputs[0];
  return undefined;
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
