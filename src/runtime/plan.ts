// Planning: specialise the graph to concrete input shapes, infer every value's type, fold what became constant
// (the Shape→Gather→Concat→Reshape chains of exported graphs), run the shape-aware passes, then lay out the steps
// the executor walks: which kernel, which value slots, and which slots die after each step. Each node is resolved
// and parsed once per plan (a Resolver); planStates() then builds each step's state (OpDef.plan) once.

import * as tf from '@tensorflow/tfjs-core';
import type { DerivedStore } from '../../kernels/derived.js';
import { evaluateOp } from '../../kernels/evaluate.js';
import { opsetFor, resolveOp } from '../../kernels/registry.js';
import type { OpDef, PlanCtx, RunCtx } from '../../kernels/types.js';
import { removeDeadNodes } from '../ir/edit.js';
import type { ConstTensor, Graph, Node, TensorInfo } from '../ir/graph.js';
import { describeDims } from '../ir/tensor.js';
import { ModelError } from './errors.js';
import { nodeView } from './node-view.js';
import { opFacts } from './op-facts.js';
import { runPassRound, type Pass, type PassReport } from '../passes/index.js';

export interface Step {
  node: Node;
  def: OpDef<any>;
  opset: number;
  attrs: unknown;
  /** What def.plan returned for this step (planStates); undefined before, or without a plan. */
  state: unknown;
  ins: number[];          // value slots, -1 = omitted
  outs: number[];
  free: number[];         // slots whose last reader is this step
  ctx: RunCtx;
}

export interface Plan {
  graph: Graph;                                  // the specialised graph (folded, shape-passes applied)
  slots: Map<string, number>;
  infos: Map<string, TensorInfo>;
  constSlots: { slot: number; value: ConstTensor }[];
  inputSlots: { name: string; slot: number }[];
  outputSlots: { name: string; slot: number; info: TensorInfo }[];
  steps: Step[];
  folded: number;                                // nodes folded into constants while specialising
  passReport: PassReport[];                      // what the shaped passes did to this plan
}

/** Shaped passes are ordinary passes that get `ctx.infos`. */
export type ShapedPass = Pass;

export function cloneGraph(g: Graph): Graph {
  return {
    ...g,
    nodes: g.nodes.map(n => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs], attrs: { ...n.attrs } })),
    inputs: g.inputs.map(i => ({ ...i })),
    outputs: g.outputs.map(o => ({ ...o })),
    initializers: new Map(g.initializers),
    valueInfo: new Map(g.valueInfo),
  };
}

export function defFor(node: Node, opsets: ReadonlyMap<string, number>): { def: OpDef<any>; opset: number } {
  const opset = opsetFor(opsets, node.domain) ?? 0;
  const def = resolveOp(node.domain, node.opType, opset);
  if (!def) throw new ModelError({ ...node, opset }, 'no kernel for this operator');
  return { def, opset };
}

interface Resolved { def: OpDef<any>; opset: number; attrs?: { value: unknown; of: Node['attrs']; inputs: Node['inputs']; outputs: Node['outputs'] } }

/** Resolves and parses each node once for one plan (or one pass run). A pass that edits a node gives it new
 *  attrs, inputs or outputs arrays (src/ir never mutates them in place): the node is parsed again then. */
export class Resolver {
  private readonly seen = new WeakMap<Node, Resolved>();
  constructor(readonly opsets: ReadonlyMap<string, number>) {}

  def(node: Node): Resolved {
    let r = this.seen.get(node);
    if (!r || r.def.opType !== node.opType || (r.def.domain ?? '') !== node.domain) this.seen.set(node, (r = defFor(node, this.opsets)));
    return r;
  }

  /** The definition and its parsed attributes; parse gets `view` (a view of `node`). */
  parsed(node: Node, view: ReturnType<typeof nodeView>): { def: OpDef<any>; attrs: unknown } {
    const r = this.def(node);
    const a = r.attrs;
    if (!a || a.of !== node.attrs || a.inputs !== node.inputs || a.outputs !== node.outputs) {
      r.attrs = { value: r.def.parse(view), of: node.attrs, inputs: node.inputs, outputs: node.outputs };
    }
    return { def: r.def, attrs: r.attrs!.value };
  }

  view(node: Node, constants?: ReadonlyMap<string, ConstTensor>) {
    return nodeView(node, this.def(node).opset, constants);
  }
}

function infoOfConst(c: ConstTensor): TensorInfo {
  return { dtype: c.dtype, shape: [...c.dims] };
}

/** Runs one node's kernel on constant inputs (the evaluator passes get as `ctx.evaluate`); undefined for
 *  definitions that must not fold. Throws ModelError when the node is invalid or its kernel fails. */
export function evaluateNode(node: Node, inputs: readonly (ConstTensor | undefined)[], opsets: ReadonlyMap<string, number>,
  resolver = new Resolver(opsets)): ConstTensor[] | undefined {
  if (resolver.def(node).def.noFold) return undefined;
  const consts = new Map<string, ConstTensor>();
  node.inputs.forEach((name, i) => { if (name && inputs[i]) consts.set(name, inputs[i]!); });
  const view = resolver.view(node, consts);
  const { def, attrs } = resolver.parsed(node, view);
  const ins = inputs.map(c => (c ? infoOfConst(c) : undefined));
  const outs = def.infer(view, ins, attrs);
  return def.fold?.(view, ins, attrs) ?? evaluateOp(def, attrs, inputs, ins, outs, view);
}

/**
 * Infers every value's type in topological order and folds nodes whose inputs are all constant (or whose
 * definition can fold from static types). Mutates `g`: folded nodes leave, their outputs become initializers.
 */
export function inferAndFold(g: Graph, inputs: ReadonlyMap<string, TensorInfo>, opsets: ReadonlyMap<string, number>,
  opts: { fold?: boolean; resolver?: Resolver } = {}): { infos: Map<string, TensorInfo>; folded: number } {
  const infos = new Map<string, TensorInfo>(inputs);
  for (const [name, c] of g.initializers) infos.set(name, infoOfConst(c));
  const resolver = opts.resolver ?? new Resolver(opsets);
  const kept: Node[] = [];
  let folded = 0;
  for (const node of g.nodes) {
    const view = resolver.view(node, g.initializers);
    const { def, attrs } = resolver.parsed(node, view);
    const ins = node.inputs.map((name, i) => {
      if (!name) return undefined;
      const info = infos.get(name);
      if (!info) view.fail(`input ${i} '${name}' has no known type (is it produced later, or missing?)`);
      return info;
    });
    const outs = def.infer(view, ins, attrs);
    node.outputs.forEach((o, i) => {
      if (o && !outs[i]) view.fail(`produces ${outs.length} output(s) but the node names ${node.outputs.length}`);
      if (o) infos.set(o, outs[i]!);
    });
    if (opts.fold !== false && !def.noFold) {
      let values = def.fold?.(view, ins, attrs);
      if (!values && node.inputs.every(i => !i || g.initializers.has(i))) {
        values = evaluateOp(def, attrs, node.inputs.map(i => (i ? g.initializers.get(i) : undefined)), ins, outs, view);
      }
      if (values) {
        node.outputs.forEach((o, i) => { if (o) g.initializers.set(o, values![i]!); });
        folded++;
        continue;
      }
    }
    kept.push(node);
  }
  g.nodes = kept;
  return { infos, folded };
}

/** Graph inputs whose values (not only shapes) feed a definition's `dataDependent` input, directly or through other
 *  nodes; the walk stops at definitions that fold from static types (Shape, Size). */
export function valueInputsOf(g: Graph, opsets: ReadonlyMap<string, number>, resolver = new Resolver(opsets)): Set<string> {
  const inputs = new Set(g.inputs.map(i => i.name));
  const producer = new Map(g.nodes.flatMap(n => n.outputs.map(o => [o, n] as const)));
  const found = new Set<string>(), seen = new Set<string>();
  const visit = (name: string | undefined): void => {
    if (!name || seen.has(name)) return;
    seen.add(name);
    if (inputs.has(name)) found.add(name);
    const p = producer.get(name);
    if (p && !resolver.def(p).def.fold) p.inputs.forEach(visit);
  };
  for (const node of g.nodes) for (const i of resolver.def(node).def.dataDependent ?? []) visit(node.inputs[i]);
  return found;
}

/** Builds the executable plan for concrete input types. `values` are graph inputs planned as constants
 *  (see valueInputsOf); they leave the plan's inputs. */
export function buildPlan(base: Graph, inputs: ReadonlyMap<string, TensorInfo>, opsets: ReadonlyMap<string, number>,
  passes: readonly ShapedPass[], opts: { fold?: boolean; values?: ReadonlyMap<string, ConstTensor> } = {}): Plan {
  const g = cloneGraph(base);
  if (opts.values?.size) {
    for (const [name, value] of opts.values) g.initializers.set(name, value);
    g.inputs = g.inputs.filter(i => !opts.values!.has(i.name));
  }
  let folded = 0;
  let infos: Map<string, TensorInfo>;
  const totals = new Map<string, PassReport>();
  const resolver = new Resolver(opsets), facts = opFacts(opsets, resolver);
  for (let round = 0; ; round++) {
    const r = inferAndFold(g, inputs, opsets, { ...opts, resolver });
    infos = r.infos;
    folded += r.folded;
    const changed = runPassRound(g, { opsets, infos, facts, evaluate: (n, c) => evaluateNode(n, c, opsets, resolver) }, passes, totals);
    if (changed === 0 || round > 20) break;
  }
  removeDeadNodes(g);

  const slots = new Map<string, number>();
  const slotOf = (name: string) => {
    let s = slots.get(name);
    if (s === undefined) { s = slots.size; slots.set(name, s); }
    return s;
  };
  const inputSlots = g.inputs.map(i => ({ name: i.name, slot: slotOf(i.name) }));
  const constSlots: Plan['constSlots'] = [];
  // Constant inputs a kernel reads on the host (OpDef.hostInputs) get no slot: they are never uploaded.
  const onHost = (node: Node, i: number) => !!resolver.def(node).def.hostInputs?.includes(i) && g.initializers.has(node.inputs[i]!);
  const used = new Set<string>([...g.nodes.flatMap(n => n.inputs.filter((v, i) => !onHost(n, i))), ...g.outputs.map(o => o.name)]);
  for (const [name, value] of g.initializers) if (used.has(name)) constSlots.push({ slot: slotOf(name), value });

  const lastUse = new Map<string, number>();
  g.nodes.forEach((n, i) => n.inputs.forEach(v => v && lastUse.set(v, i)));
  const keep = new Set([...g.outputs.map(o => o.name), ...g.initializers.keys()]);
  const steps: Step[] = g.nodes.map((node, i) => {
    const { def, opset } = resolver.def(node);
    const { attrs } = resolver.parsed(node, resolver.view(node, g.initializers));
    const ctx: RunCtx = {
      inputs: node.inputs.map(v => (v ? infos.get(v) : undefined)),
      outputs: node.outputs.map(v => infos.get(v)!),
      consts: node.inputs.map(v => (v ? g.initializers.get(v) : undefined)),
    };
    const ins = node.inputs.map((v, k) => (v && !onHost(node, k) ? slotOf(v) : -1));
    const outs = node.outputs.map(v => (v ? slotOf(v) : -1));
    const free = [...new Set(node.inputs)].filter(v => v && lastUse.get(v) === i && !keep.has(v)).map(v => slots.get(v)!);
    // Outputs nobody reads (e.g. optional second outputs) die right away.
    for (const o of node.outputs) if (o && !lastUse.has(o) && !keep.has(o)) free.push(slots.get(o)!);
    return { node, def, opset, attrs, state: undefined, ins, outs, free, ctx };
  });
  const outputSlots = g.outputs.map(o => {
    const info = infos.get(o.name);
    if (!info) throw new Error(`graph output '${o.name}' is never produced`);
    return { name: o.name, slot: slotOf(o.name), info };
  });
  return { graph: g, slots, infos, constSlots, inputSlots, outputSlots, steps, folded, passReport: [...totals.values()] };
}

/**
 * Builds every step's state (OpDef.plan), once: `tensorOf` gives the upload of a constant the plan holds,
 * `derived` keeps what the kernels derive from them (the session's store).
 */
export function planStates(plan: Plan, tensorOf: (c: ConstTensor) => tf.Tensor | undefined, derived: DerivedStore): void {
  const derive: PlanCtx['derive'] = (source, key, make) => derived.get(source, key, make);
  for (const step of plan.steps) {
    if (!step.def.plan) continue;
    const view = nodeView(step.node, step.opset, plan.graph.initializers);
    const x = step.ins.map((s, i) => (s < 0 ? undefined : step.ctx.consts[i] && tensorOf(step.ctx.consts[i]!)));
    try {
      step.state = tf.tidy(() => step.def.plan!(view, x, step.attrs, { ...step.ctx, derive }));
    } catch (e) {
      if (e instanceof ModelError) throw e;
      throw new ModelError({ ...step.node, opset: step.opset }, `planning the kernel failed: ${(e as Error).message}`);
    }
  }
}

export function shapeKey(inputs: ReadonlyMap<string, TensorInfo>, values?: ReadonlyMap<string, ConstTensor>): string {
  const key = [...inputs].map(([k, v]) => `${k}:${v.dtype}${describeDims(v.shape)}`).join(';');
  if (!values?.size) return key;
  return `${key};${[...values].map(([k, v]) => `${k}=${Array.from(v.data as ArrayLike<unknown>, String).join(',')}`).join(';')}`;
}

export type TensorSlots = (tf.Tensor | undefined)[];
