// Whole-graph helpers for the loader, the planner and the tools, each one pass over the graph: producers and
// readers of every value, dead-node removal and topological order. Passes query and edit through GraphIndex
// (graph-index.ts), which keeps these maps current across edits instead of rebuilding them.

import type { Graph, Node } from './graph.js';
import { irStats } from './graph-index.js';

export function producers(g: Graph): Map<string, Node> {
  const m = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) if (o) m.set(o, n);
  irStats.visits += g.nodes.length;
  return m;
}

/** Every value's readers in graph order, each node once (even when it reads the value twice). */
export function consumers(g: Graph): Map<string, Node[]> {
  const m = new Map<string, Node[]>();
  for (const n of g.nodes) {
    for (const i of n.inputs) {
      if (!i) continue;
      const list = m.get(i);
      if (!list) m.set(i, [n]);
      else if (list[list.length - 1] !== n) list.push(n);   // a node's repeats of one value come together
    }
  }
  irStats.visits += g.nodes.length;
  return m;
}

/** Removes nodes whose outputs nobody reads (repeatedly), and initializers nobody reads. Returns nodes removed. */
export function removeDeadNodes(g: Graph): number {
  const before = g.nodes.length;
  const live = new Set(g.outputs.map(o => o.name));
  const kept: Node[] = [];
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i]!;
    if (n.outputs.some(o => live.has(o))) {
      kept.push(n);
      for (const inp of n.inputs) if (inp) live.add(inp);
    }
  }
  g.nodes = kept.reverse();
  for (const name of [...g.initializers.keys()]) if (!live.has(name)) g.initializers.delete(name);
  irStats.visits += before;
  return before - g.nodes.length;
}

/**
 * Orders nodes so every input is produced before use (Kahn's algorithm; among the nodes ready at a time, the one
 * first in the file's order goes first). Throws naming a node on a cycle or on an input nothing defines.
 */
export function topoSort(g: Graph): void {
  const available = new Set<string>(['']);
  for (const i of g.inputs) available.add(i.name);
  for (const k of g.initializers.keys()) available.add(k);
  const prod = producers(g);
  const pending: number[] = [];
  const waiting = new Map<string, number[]>();
  const ready = new MinHeap();
  g.nodes.forEach((n, k) => {
    const missing = new Set(n.inputs.filter(i => !available.has(i)));
    for (const m of missing) {
      if (!prod.has(m)) {
        throw new Error(`${n.opType} '${n.name}': input '${m}' is not a graph input, an initializer, or any node's output`);
      }
      const w = waiting.get(m);
      if (w) w.push(k); else waiting.set(m, [k]);
    }
    pending.push(missing.size);
    if (missing.size === 0) ready.push(k);
  });
  const order: Node[] = [];
  while (ready.size) {
    const n = g.nodes[ready.pop()]!;
    order.push(n);
    for (const o of n.outputs) {
      if (!o || available.has(o)) continue;
      available.add(o);
      for (const w of waiting.get(o) ?? []) if (--pending[w]! === 0) ready.push(w);
    }
  }
  irStats.visits += g.nodes.length;
  if (order.length !== g.nodes.length) {
    const placed = new Set(order);
    const stuck = g.nodes.find(n => !placed.has(n))!;
    throw new Error(`${stuck.opType} '${stuck.name}': the graph has a cycle through this node`);
  }
  g.nodes = order;
}

/** A binary min-heap of node positions. */
class MinHeap {
  private readonly a: number[] = [];

  get size(): number {
    return this.a.length;
  }

  push(v: number): void {
    const a = this.a;
    let i = a.push(v) - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]! <= v) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = v;
  }

  pop(): number {
    const a = this.a, top = a[0]!, last = a.pop()!;
    if (a.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i, mv = last;
      if (l < a.length && a[l]! < mv) { m = l; mv = a[l]!; }
      if (r < a.length && a[r]! < mv) { m = r; mv = a[r]!; }
      if (m === i) break;
      a[i] = mv;
      i = m;
    }
    a[i] = last;
    return top;
  }
}
