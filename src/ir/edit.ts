// Graph queries and edits shared by the passes and the planner: producers, consumers, renaming,
// dead-node removal and topological order. All functions work on the plain IR in place.

import type { Graph, Node } from './graph.js';

export function producers(g: Graph): Map<string, Node> {
  const m = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) if (o) m.set(o, n);
  return m;
}

export function consumers(g: Graph): Map<string, Node[]> {
  const m = new Map<string, Node[]>();
  for (const n of g.nodes) {
    for (const i of n.inputs) {
      if (!i) continue;
      const list = m.get(i);
      if (list) { if (!list.includes(n)) list.push(n); } else m.set(i, [n]);
    }
  }
  return m;
}

export function isGraphOutput(g: Graph, value: string): boolean {
  return g.outputs.some(o => o.name === value);
}

/** Points every use of `from` (node inputs and graph outputs) at `to`. */
export function replaceUses(g: Graph, from: string, to: string): void {
  for (const n of g.nodes) n.inputs = n.inputs.map(i => (i === from ? to : i));
  for (const o of g.outputs) if (o.name === from) o.name = to;
}

/** Replaces uses of `from` by `to` in node inputs only; when `from` is a graph output, renames `to`'s producer instead. */
export function bypass(g: Graph, from: string, to: string): void {
  if (isGraphOutput(g, from)) {
    // Keep the output's public name: make the producer of `to` write `from` directly, if `to` has no other role.
    const prod = producers(g).get(to);
    const used = consumers(g).get(to) ?? [];
    if (prod && !isGraphOutput(g, to) && !g.inputs.some(i => i.name === to) && used.every(n => n.outputs.includes(from))) {
      prod.outputs = prod.outputs.map(o => (o === to ? from : o));
      for (const n of g.nodes) n.inputs = n.inputs.map(i => (i === to ? from : i));
      return;
    }
    // Otherwise keep `from` alive: the caller must not remove its producer. Signal by throwing.
    throw new Error(`bypass: '${from}' is a graph output and '${to}' cannot take its name`);
  }
  for (const n of g.nodes) n.inputs = n.inputs.map(i => (i === from ? to : i));
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
  return before - g.nodes.length;
}

/**
 * Orders nodes so every input is produced before use (Kahn's algorithm, stable w.r.t. the file's order).
 * Throws naming a node on a cycle or on an input nothing defines.
 */
export function topoSort(g: Graph): void {
  const available = new Set<string>(['']);
  for (const i of g.inputs) available.add(i.name);
  for (const k of g.initializers.keys()) available.add(k);
  const prod = producers(g);
  const pending = new Map<Node, number>();
  const waiting = new Map<string, Node[]>();
  const ready: Node[] = [];
  for (const n of g.nodes) {
    const missing = new Set(n.inputs.filter(i => !available.has(i)));
    for (const m of missing) {
      if (!prod.has(m)) {
        throw new Error(`${n.opType} '${n.name}': input '${m}' is not a graph input, an initializer, or any node's output`);
      }
      const w = waiting.get(m);
      if (w) w.push(n); else waiting.set(m, [n]);
    }
    pending.set(n, missing.size);
    if (missing.size === 0) ready.push(n);
  }
  const order: Node[] = [];
  const index = new Map(g.nodes.map((n, i) => [n, i]));
  while (ready.length) {
    ready.sort((a, b) => index.get(a)! - index.get(b)!);
    const n = ready.shift()!;
    order.push(n);
    for (const o of n.outputs) {
      if (!o || available.has(o)) continue;
      available.add(o);
      for (const w of waiting.get(o) ?? []) {
        const left = pending.get(w)! - 1;
        pending.set(w, left);
        if (left === 0) ready.push(w);
      }
    }
  }
  if (order.length !== g.nodes.length) {
    const stuck = g.nodes.find(n => !order.includes(n))!;
    throw new Error(`${stuck.opType} '${stuck.name}': the graph has a cycle through this node`);
  }
  g.nodes = order;
}

/** A value name not yet used in the graph, derived from `base`. */
export function uniqueName(g: Graph, base: string): string {
  const used = new Set<string>([...g.initializers.keys(), ...g.inputs.map(i => i.name)]);
  for (const n of g.nodes) { for (const o of n.outputs) used.add(o); used.add(n.name); }
  if (!used.has(base)) return base;
  for (let k = 1; ; k++) if (!used.has(`${base}_${k}`)) return `${base}_${k}`;
}
