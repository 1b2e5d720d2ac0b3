// GraphIndex: producers and readers by value name and node positions, for passes that query and edit a graph.
// Built once per pass run (O(nodes)); every edit keeps it current in time proportional to what it touches, never
// to the graph's size, and commit() writes the node list back in one go. `irStats.visits` counts the work done
// (nodes and reader entries touched), so tests can assert that a pass run is linear in the graph's size.

import type { ConstTensor, Graph, Node, TensorInfo } from './graph.js';

/** Work counter: incremented per node or reader entry an index (or a whole-graph helper) touches. */
export const irStats = { visits: 0 };

export class GraphIndex {
  private readonly prod = new Map<string, Node>();
  private readonly users = new Map<string, Set<Node>>();
  /** Node order: slot i starts as [g.nodes[i]]; nodes inserted next to a node join its slot. */
  private readonly slots: Node[][] = [];
  private readonly slotOf = new Map<Node, number>();
  private readonly outputs: Set<string>;
  private readonly inputNames: Set<string>;
  private names?: Set<string>;
  private edited = false;
  /** Values that lost their last reader since the last removeDead('orphans'). */
  private orphans = new Set<string>();
  /** Called with every value whose producer or readers an edit changes (for passes that track what to revisit). */
  onTouch?: (value: string) => void;

  constructor(readonly g: Graph, readonly infos?: ReadonlyMap<string, TensorInfo>) {
    g.nodes.forEach((n, i) => {
      this.slots.push([n]);
      this.slotOf.set(n, i);
      this.link(n);
    });
    irStats.visits += g.nodes.length;
    this.outputs = new Set(g.outputs.map(o => o.name));
    this.inputNames = new Set(g.inputs.map(i => i.name));
  }

  // ---- queries

  /** The node writing `value`, when it is a node of this op type (domain '' unless given) or no type is asked. */
  producer(value: string | undefined, opType?: string, domain = ''): Node | undefined {
    const n = value ? this.prod.get(value) : undefined;
    if (!n || (opType && (n.opType !== opType || n.domain !== domain))) return undefined;
    return n;
  }

  /** Every node reading `value` (each once, even when it reads it twice), in no particular order (see inOrder). */
  readers(value: string): Node[] {
    const s = this.users.get(value);
    irStats.visits += s?.size ?? 0;
    return s ? [...s] : [];
  }

  readerCount(value: string): number {
    return this.users.get(value)?.size ?? 0;
  }

  /** The single node reading `value` (of that op type, domain ''), when `value` has no other reader and is not a
   *  graph output. */
  onlyReader(value: string, opType?: string): Node | undefined {
    const s = this.users.get(value);
    if (!s || s.size !== 1 || this.outputs.has(value)) return undefined;
    const r = s.values().next().value!;
    return !opType || (r.opType === opType && r.domain === '') ? r : undefined;
  }

  /** True when every reader of `value` is one of `nodes` and it is not a graph output (safe to delete its producer). */
  internal(value: string, nodes: readonly Node[]): boolean {
    if (this.outputs.has(value)) return false;
    for (const r of this.users.get(value) ?? []) {
      irStats.visits++;
      if (!nodes.includes(r)) return false;
    }
    return true;
  }

  isOutput(value: string): boolean {
    return this.outputs.has(value);
  }

  isInput(value: string): boolean {
    return this.inputNames.has(value);
  }

  has(n: Node): boolean {
    return this.slotOf.has(n);
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

  /** True when `a` comes before `b` in the node order. */
  before(a: Node, b: Node): boolean {
    const sa = this.slotOf.get(a)!, sb = this.slotOf.get(b)!;
    if (sa !== sb) return sa < sb;
    const slot = this.slots[sa]!;
    irStats.visits += slot.length;
    return slot.indexOf(a) < slot.indexOf(b);
  }

  /** `nodes` sorted into the graph's order. */
  inOrder(nodes: readonly Node[]): Node[] {
    return [...nodes].sort((a, b) => (a === b ? 0 : this.before(a, b) ? -1 : 1));
  }

  /** The current node list, in order (O(nodes)). */
  nodes(): Node[] {
    const out: Node[] = [];
    for (const slot of this.slots) for (const n of slot) out.push(n);
    irStats.visits += out.length;
    return out;
  }

  /** A value or node name not used in the graph yet, derived from `base` (`base`, `base_1`, …); never repeated.
   *  The names in use are collected at the first call (or at reserveNames()). */
  fresh(base: string): string {
    this.reserveNames();
    let name = base;
    for (let k = 1; this.names!.has(name); k++) name = `${base}_${k}`;
    this.names!.add(name);
    return name;
  }

  /** Collects the names in use now, so that fresh() never returns them even after their nodes are removed. */
  reserveNames(): this {
    if (!this.names) {
      const g = this.g;
      this.names = new Set<string>([...g.initializers.keys(), ...this.inputNames, ...this.outputs]);
      for (const slot of this.slots) {
        for (const n of slot) {
          for (const o of n.outputs) this.names.add(o);
          for (const i of n.inputs) this.names.add(i);
          this.names.add(n.name);
        }
      }
      irStats.visits += this.slotOf.size;
    }
    return this;
  }

  // ---- edits (each keeps producers, readers and order current)

  /** Sets `n`'s inputs, updating who reads what. */
  setInputs(n: Node, inputs: string[]): void {
    if (this.has(n)) this.unlinkInputs(n);
    n.inputs = inputs;
    if (this.has(n)) this.linkInputs(n);
  }

  /** Sets `n`'s outputs, updating who produces what. */
  setOutputs(n: Node, outputs: string[]): void {
    if (this.has(n)) this.unlinkOutputs(n);
    n.outputs = outputs;
    if (this.has(n)) this.linkOutputs(n);
  }

  /** Points every node reading `from` at `to` (graph outputs are not renamed). */
  rewire(from: string, to: string): void {
    if (from === to) return;
    for (const r of this.readers(from)) this.setInputs(r, r.inputs.map(i => (i === from ? to : i)));
  }

  /**
   * Readers of `from` read `to` instead, before the caller removes `from`'s producer. When `from` is a graph output,
   * the producer of `to` writes `from` in its place if `to` has no other role (not a graph input or output, read only
   * by nodes that write `from`); false when that is not possible (the caller must then keep `from`'s producer).
   */
  bypass(from: string, to: string): boolean {
    if (!this.outputs.has(from)) {
      this.rewire(from, to);
      return true;
    }
    const prod = this.prod.get(to);
    const others = this.readers(to).some(n => !n.outputs.includes(from));
    if (!prod || this.outputs.has(to) || this.inputNames.has(to) || others) return false;
    this.setOutputs(prod, prod.outputs.map(o => (o === to ? from : o)));
    this.rewire(to, from);
    return true;
  }

  /** Removes `n` from the graph. */
  remove(n: Node): void {
    const s = this.slotOf.get(n);
    if (s === undefined) throw new Error(`GraphIndex.remove: ${n.opType} '${n.name}' is not in the graph`);
    const slot = this.slots[s]!;
    irStats.visits += slot.length;
    slot.splice(slot.indexOf(n), 1);
    this.unlink(n);
    this.slotOf.delete(n);
    this.edited = true;
  }

  /** Inserts `nodes` (in order) right after `anchor`. */
  insertAfter(anchor: Node, nodes: readonly Node[]): void {
    this.insertAt(anchor, 1, nodes);
  }

  /** Inserts `nodes` (in order) right before `anchor`. */
  insertBefore(anchor: Node, nodes: readonly Node[]): void {
    this.insertAt(anchor, 0, nodes);
  }

  /** Replaces `old` by `nodes` (in order) where it was. */
  splice(old: Node, nodes: readonly Node[]): void {
    this.insertAt(old, 0, nodes);
    this.remove(old);
  }

  /** Removes `matched` and puts `fused` at the position of the last of them (its inputs are all ready there). */
  replace(matched: readonly Node[], fused: Node): void {
    let last = matched[0]!;
    for (const n of matched) if (this.before(last, n)) last = n;
    this.insertAfter(last, [fused]);
    for (const n of matched) this.remove(n);
  }

  /**
   * Removes nodes whose outputs nobody reads (repeatedly), then initializers nobody reads. Returns nodes removed.
   * 'orphans': only where values lost their last reader since the previous call (the graph had no dead nodes then).
   */
  removeDead(scope: 'all' | 'orphans' = 'all'): number {
    let removed = 0;
    const dead = (n: Node) => this.has(n) && n.outputs.every(o => !o || (!this.outputs.has(o) && !this.users.get(o)?.size));
    const orphans = [...this.orphans];
    this.orphans.clear();
    const work = scope === 'all' ? this.nodes().filter(dead) : orphans.map(v => this.prod.get(v)).filter((n): n is Node => !!n && dead(n));
    while (work.length) {
      const n = work.pop()!;
      if (!dead(n)) continue;
      this.remove(n);
      removed++;
      for (const i of n.inputs) {
        const p = i ? this.prod.get(i) : undefined;
        if (p && dead(p)) work.push(p);
      }
    }
    const unread = (name: string) => !this.outputs.has(name) && !this.users.get(name)?.size;
    const inits = scope === 'all' ? [...this.g.initializers.keys()] : [...orphans, ...this.orphans];
    for (const name of inits) if (unread(name)) this.g.initializers.delete(name);
    irStats.visits += inits.length;
    this.orphans.clear();
    return removed;
  }

  /** Writes the node list back to the graph (once per pass run, after the edits). */
  commit(): void {
    if (this.edited) this.g.nodes = this.nodes();
    this.edited = false;
  }

  // ---- internals

  private insertAt(anchor: Node, offset: 0 | 1, nodes: readonly Node[]): void {
    const s = this.slotOf.get(anchor);
    if (s === undefined) throw new Error(`GraphIndex: ${anchor.opType} '${anchor.name}' is not in the graph`);
    const slot = this.slots[s]!;
    irStats.visits += slot.length + nodes.length;
    slot.splice(slot.indexOf(anchor) + offset, 0, ...nodes);
    for (const n of nodes) {
      this.slotOf.set(n, s);
      this.link(n);
      if (this.names) { this.names.add(n.name); for (const o of n.outputs) this.names.add(o); }
    }
    this.edited = true;
  }

  private link(n: Node): void {
    this.linkOutputs(n);
    this.linkInputs(n);
  }

  private unlink(n: Node): void {
    this.unlinkOutputs(n);
    this.unlinkInputs(n);
  }

  private linkOutputs(n: Node): void {
    for (const o of n.outputs) {
      if (!o) continue;
      this.prod.set(o, n);
      this.onTouch?.(o);
    }
  }

  private unlinkOutputs(n: Node): void {
    for (const o of n.outputs) {
      if (!o || this.prod.get(o) !== n) continue;
      this.prod.delete(o);
      this.onTouch?.(o);
    }
  }

  private linkInputs(n: Node): void {
    for (const i of n.inputs) {
      if (!i) continue;
      irStats.visits++;
      const s = this.users.get(i);
      if (s) s.add(n); else this.users.set(i, new Set([n]));
      this.onTouch?.(i);
    }
  }

  private unlinkInputs(n: Node): void {
    for (const i of n.inputs) {
      irStats.visits++;
      const s = i ? this.users.get(i) : undefined;
      if (!s?.delete(n)) continue;
      if (s.size === 0) this.orphans.add(i);
      this.onTouch?.(i);
    }
  }
}
