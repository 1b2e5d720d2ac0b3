// Whole-graph helpers: topoSort against a direct reference (repeatedly take the first node in file order whose
// inputs are all defined) on shuffled random DAGs, its errors, consumers' order and de-duplication, dead-node removal,
// and the constant transposes the passes use against index arithmetic.

import { describe, expect, it } from 'vitest';
import { consumers, producers, removeDeadNodes, topoSort } from '../../src/ir/edit.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import type { Graph, Node } from '../../src/ir/graph.js';
import { intsAttr, scalarOf } from '../../src/ir/attrs.js';
import { invertPerm, isIdentityPerm, transposeConst } from '../../src/ir/transpose.js';
import { rng } from '../helpers/cnn-reference.js';

const node = (name: string, inputs: string[], outputs: string[]): Node =>
  ({ name, opType: 'Op', domain: '', inputs, outputs, attrs: {} });

/** A random DAG over `n` nodes (node i reads 0–3 earlier values or the input), in shuffled file order. */
function randomDag(n: number, seed: number): Graph {
  const r = rng(seed);
  const b = new GraphBuilder();
  b.input('x', 'float32', [1]);
  b.init('c', { dtype: 'float32', dims: [1], data: Float32Array.of(1) });
  const nodes: Node[] = [];
  for (let i = 0; i < n; i++) {
    const k = Math.floor(r() * 4);
    const inputs = Array.from({ length: k }, () => (i === 0 || r() < 0.1 ? (r() < 0.5 ? 'x' : 'c') : `v${Math.floor(r() * i)}`));
    nodes.push(node(`n${i}`, inputs, [`v${i}`]));
  }
  for (let i = nodes.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [nodes[i], nodes[j]] = [nodes[j]!, nodes[i]!];
  }
  b.graph.nodes = nodes;
  b.output(`v${n - 1}`);
  return b.graph;
}

/** The definition of the order topoSort promises, computed the slow, obvious way. */
function referenceOrder(g: Graph): string[] {
  const defined = new Set(['', ...g.inputs.map(i => i.name), ...g.initializers.keys()]);
  const left = [...g.nodes], order: string[] = [];
  while (left.length) {
    const k = left.findIndex(n => n.inputs.every(i => defined.has(i)));
    const [n] = left.splice(k, 1);
    order.push(n!.name);
    n!.outputs.forEach(o => defined.add(o));
  }
  return order;
}

describe('topoSort', () => {
  it('orders random DAGs as the reference does (first ready node in file order first)', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const g = randomDag(300, seed);
      const want = referenceOrder(g);
      topoSort(g);
      expect(g.nodes.map(n => n.name)).toEqual(want);
    }
  });

  it('keeps a 50,000-wide graph (every node ready at once) in file order', () => {
    // The old sort re-sorted its ready list per node taken: 1.7 s at 5,000 wide, minutes at 50,000 (the test
    // timeout is the watchdog); a heap takes well under a second.
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1]);
    const outs = Array.from({ length: 50_000 }, () => b.op('Relu', [x]));
    b.node('Concat', outs, { axis: 0 }, { outputs: ['y'] });
    b.output('y');
    const order = b.graph.nodes.map(n => n.name);
    b.graph.nodes.reverse();   // the Concat first: it must wait for all 50,000
    topoSort(b.graph);
    expect(b.graph.nodes.map(n => n.name)).toEqual([...order.slice(0, -1).reverse(), order.at(-1)]);
  });

  it('names the node on a cycle and on an input nothing defines', () => {
    const b = new GraphBuilder();
    b.input('x', 'float32', [1]);
    b.graph.nodes = [node('p', ['x', 'q'], ['p']), node('q', ['p'], ['q'])];
    expect(() => topoSort(b.graph)).toThrow(/Op 'p': the graph has a cycle through this node/);
    b.graph.nodes = [node('p', ['x', 'nowhere'], ['p'])];
    expect(() => topoSort(b.graph)).toThrow(/Op 'p': input 'nowhere' is not a graph input, an initializer, or any node's output/);
  });
});

describe('producers, consumers, removeDeadNodes', () => {
  it('lists each reader once, in graph order', () => {
    const g = randomDag(50, 9);
    topoSort(g);
    g.nodes.push(node('twice', ['v3', 'v3', 'x'], ['t']));
    const readers = consumers(g);
    for (const [value, list] of readers) {
      const want = g.nodes.filter(n => n.inputs.includes(value));
      expect(list, value).toEqual(want);
    }
    expect(producers(g).get('v7')!.name).toBe('n7');
  });

  it('removes chains nobody reads and unread initializers', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1]);
    b.init('unused', { dtype: 'float32', dims: [1], data: Float32Array.of(1) });
    b.init('used', { dtype: 'float32', dims: [1], data: Float32Array.of(1) });
    const d = b.op('Neg', [x], {}, 'dead1');
    b.op('Neg', [d], {}, 'dead2');
    b.node('Add', [x, 'used'], {}, { name: 'live', outputs: ['y'] });
    b.output('y');
    expect(removeDeadNodes(b.graph)).toBe(2);
    expect(b.graph.nodes.map(n => n.name)).toEqual(['live']);
    expect([...b.graph.initializers.keys()]).toEqual(['used']);
  });
});

describe('constant transposes and attribute reads', () => {
  it('transposeConst moves element (i, j, k) to its permuted place', () => {
    const dims = [2, 3, 4], perm = [2, 0, 1];
    const data = Float32Array.from({ length: 24 }, (_, i) => i);
    const t = transposeConst({ dtype: 'float32', dims, data }, perm);
    expect(t.dims).toEqual([4, 2, 3]);
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) {
      expect((t.data as Float32Array)[k * 6 + i * 3 + j]).toBe(data[i * 12 + j * 4 + k]);
    }
    expect(invertPerm(perm)).toEqual([1, 2, 0]);
    expect(isIdentityPerm(perm.map(p => invertPerm(perm)[p]!))).toBe(true);
  });

  it('reads ints attributes (a single int as one element) and one-element constants', () => {
    const n: Node = { ...node('n', [], []), attrs: { perm: { type: 'ints', value: [1, 0] }, axis: { type: 'int', value: 2 } } };
    expect(intsAttr(n, 'perm')).toEqual([1, 0]);
    expect(intsAttr(n, 'axis')).toEqual([2]);
    expect(intsAttr(n, 'missing')).toBeUndefined();
    expect(scalarOf({ dtype: 'int64', dims: [1, 1], data: BigInt64Array.of(5n) })).toBe(5);
    expect(scalarOf({ dtype: 'float32', dims: [2], data: Float32Array.of(1, 2) })).toBeUndefined();
  });
});
