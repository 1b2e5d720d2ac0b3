// GraphIndex: queries (producer, readers, onlyReader, internal) stay right through every edit, the node order
// commit() writes is the one the edits describe, and the work an edit costs does not grow with the graph.

import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import type { Graph, Node } from '../../src/ir/graph.js';
import { GraphIndex, irStats } from '../../src/ir/graph-index.js';

const node = (name: string, opType: string, inputs: string[], outputs: string[]): Node =>
  ({ name, opType, domain: '', inputs, outputs, attrs: {} });

/** x → a = Relu(x) → b = Mul(a, a) → c = Add(b, x) → y = Identity(c); w is an unread initializer. */
function diamond(): Graph {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [2]);
  b.init('w', { dtype: 'float32', dims: [1], data: Float32Array.of(2) });
  b.node('Relu', [x], {}, { name: 'relu', outputs: ['a'] });
  b.node('Mul', ['a', 'a'], {}, { name: 'mul', outputs: ['b'] });
  b.node('Add', ['b', x], {}, { name: 'add', outputs: ['c'] });
  b.node('Identity', ['c'], {}, { name: 'id', outputs: ['y'] });
  b.output('y');
  return b.graph;
}

const names = (nodes: readonly Node[]) => nodes.map(n => n.name);

describe('GraphIndex queries', () => {
  it('answers producers, readers (each once), only readers and internal values', () => {
    const g = diamond();
    const idx = new GraphIndex(g);
    const [relu, mul, add, id] = g.nodes as [Node, Node, Node, Node];
    expect(idx.producer('a')).toBe(relu);
    expect(idx.producer('a', 'Relu')).toBe(relu);
    expect(idx.producer('a', 'Mul')).toBeUndefined();
    expect(idx.producer('x')).toBeUndefined();
    expect(names(idx.inOrder(idx.readers('x')))).toEqual(['relu', 'add']);
    expect(names(idx.readers('a'))).toEqual(['mul']);   // Mul reads it twice, listed once
    expect(idx.readerCount('a')).toBe(1);
    expect(idx.onlyReader('a', 'Mul')).toBe(mul);
    expect(idx.onlyReader('a', 'Add')).toBeUndefined();
    expect(idx.onlyReader('x')).toBeUndefined();         // two readers
    expect(idx.onlyReader('y')).toBeUndefined();         // a graph output
    expect(idx.internal('b', [add])).toBe(true);
    expect(idx.internal('x', [add])).toBe(false);
    expect(idx.internal('y', [])).toBe(false);
    expect(idx.isOutput('y') && idx.isInput('x') && !idx.isOutput('c')).toBe(true);
    expect(idx.before(relu, id) && !idx.before(id, relu)).toBe(true);
  });
});

describe('GraphIndex edits', () => {
  it('setInputs and setOutputs move readers and producers', () => {
    const g = diamond();
    const idx = new GraphIndex(g);
    const [relu, mul] = g.nodes as [Node, Node];
    idx.setInputs(mul, ['a', 'x']);
    expect(names(idx.readers('a'))).toEqual(['mul']);
    expect(names(idx.inOrder(idx.readers('x')))).toEqual(['relu', 'mul', 'add']);
    idx.setInputs(mul, ['x', 'x']);
    expect(idx.readerCount('a')).toBe(0);
    idx.setOutputs(relu, ['a2']);
    expect(idx.producer('a')).toBeUndefined();
    expect(idx.producer('a2')).toBe(relu);
  });

  it('bypass rewires readers, lets a producer take a graph output name, and refuses when it cannot', () => {
    const g = diamond();
    const idx = new GraphIndex(g);
    const [relu, , add, id] = g.nodes as [Node, Node, Node, Node];
    // Inner value: readers of c would read b (none besides the Identity here, which writes the output).
    expect(idx.bypass('y', 'c')).toBe(true);            // Add now writes y
    idx.remove(id);
    expect(add.outputs).toEqual(['y']);
    expect(idx.producer('y')).toBe(add);
    expect(idx.readerCount('c')).toBe(0);
    // A graph input cannot take an output's name.
    const g2 = new GraphBuilder();
    const x = g2.input('x', 'float32', [2]);
    g2.node('Identity', [x], {}, { outputs: ['y'] });
    g2.output('y');
    expect(new GraphIndex(g2.graph).bypass('y', 'x')).toBe(false);
    // Not an output: plain rewiring.
    const g3 = diamond();
    const idx3 = new GraphIndex(g3);
    expect(idx3.bypass('a', 'x')).toBe(true);
    expect(g3.nodes[1]!.inputs).toEqual(['x', 'x']);
    expect(idx3.readerCount('a')).toBe(0);
    expect(relu.name).toBe('relu');
  });

  it('insert, splice, replace and remove write the described order at commit, and only then', () => {
    const g = diamond();
    const idx = new GraphIndex(g);
    const [relu, mul, add, id] = g.nodes as [Node, Node, Node, Node];
    const t1 = node('t1', 'Neg', ['a'], ['t1']), t2 = node('t2', 'Neg', ['t1'], ['t2']), t0 = node('t0', 'Abs', ['x'], ['t0']);
    idx.insertAfter(relu, [t1, t2]);
    idx.insertBefore(relu, [t0]);
    expect(names(g.nodes)).toEqual(['relu', 'mul', 'add', 'id']);   // not written yet
    expect(idx.producer('t2')).toBe(t2);
    expect(names(idx.readers('t1'))).toEqual(['t2']);
    const s1 = node('s1', 'Sqrt', ['b'], ['s']), s2 = node('s2', 'Add', ['s', 'x'], ['c']);
    idx.splice(add, [s1, s2]);
    expect(idx.has(add)).toBe(false);
    expect(idx.producer('c')).toBe(s2);
    const fused = node('fused', 'Fused', ['t2'], ['b']);
    idx.replace([mul, t1], fused);
    expect(idx.before(t2, fused) && idx.before(fused, s1)).toBe(true);
    idx.remove(t0);
    idx.commit();
    expect(names(g.nodes)).toEqual(['relu', 't2', 'fused', 's1', 's2', 'id']);
    expect(idx.producer('b')).toBe(fused);
    expect(idx.readers('a')).toEqual([]);
    expect(() => idx.remove(mul)).toThrow(/Mul 'mul' is not in the graph/);
    expect(id.inputs).toEqual(['c']);
  });

  it('removeDead drops unread chains and initializers; "orphans" looks only where readers went', () => {
    const g = diamond();
    g.nodes.push(node('dead1', 'Neg', ['x'], ['d1']), node('dead2', 'Neg', ['d1'], ['d2']));
    const idx = new GraphIndex(g);
    expect(idx.removeDead()).toBe(2);
    expect(g.initializers.has('w')).toBe(false);
    // Cut the Identity's input: add, mul and relu die in turn; x is a graph input and stays.
    const id = g.nodes.find(n => n.name === 'id')!;
    idx.setInputs(id, ['x']);
    expect(idx.removeDead('orphans')).toBe(3);
    idx.commit();
    expect(names(g.nodes)).toEqual(['id']);
  });

  it('fresh never repeats a name, nor one in use when names were reserved', () => {
    const g = diamond();
    const idx = new GraphIndex(g).reserveNames();
    idx.remove(g.nodes[3]!);                 // 'id' and its value names stay reserved
    expect(idx.fresh('id')).toBe('id_1');
    expect(idx.fresh('id')).toBe('id_2');
    expect(idx.fresh('a')).toBe('a_1');
    expect(idx.fresh('new')).toBe('new');
    expect(idx.fresh('new')).toBe('new_1');
  });

  it('onTouch reports every value whose producer or readers change', () => {
    const g = diamond();
    const idx = new GraphIndex(g);
    const seen = new Set<string>();
    idx.onTouch = v => seen.add(v);
    idx.setInputs(g.nodes[2]!, ['b', 'a']);
    expect([...seen].sort()).toEqual(['a', 'b', 'x']);
    seen.clear();
    idx.setOutputs(g.nodes[0]!, ['a', 'extra']);
    expect([...seen].sort()).toEqual(['a', 'extra']);
  });

  it('an edit in a large graph costs the same as in a small one', () => {
    const cost = (n: number) => {
      const b = new GraphBuilder();
      let v = b.input('x', 'float32', [1]);
      for (let i = 0; i < n; i++) v = b.op('Relu', [v]);
      b.output(v);
      const idx = new GraphIndex(b.graph);
      const mid = b.graph.nodes[n >> 1]!;
      const before = irStats.visits;
      // Drop the middle Relu: its reader reads its input.
      idx.rewire(mid.outputs[0]!, mid.inputs[0]!);
      idx.remove(mid);
      idx.insertAfter(b.graph.nodes[0]!, [node('n', 'Neg', ['x'], ['neg'])]);
      return irStats.visits - before;
    };
    expect(cost(100_000)).toBe(cost(100));
  });
});
