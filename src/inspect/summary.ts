// The model summary: header (IR, opsets, producer, inputs/outputs), op histogram, parameters, and per node in
// execution order its output shapes, parameters and MACs — for the graph as the file has it (planned unoptimised
// at batch 1, so every shape is concrete) and for the plan the graph passes produce, with what each pass did.

import type { DType } from '../ir/dtype.js';
import type { ConstTensor, Graph, Model, Node, TensorInfo } from '../ir/graph.js';
import type { PassReport } from '../passes/types.js';
import { InferenceSession } from '../runtime/session.js';
import { Tensor } from '../runtime/tensor.js';
import type { Plan } from '../runtime/plan.js';
import { allocData, sizeOf } from '../ir/dtype.js';
import { assignGroups } from './groups.js';
import { macsOf } from './macs.js';

export interface ValueSummary {
  name: string;
  dtype: DType;
  shape: (number | string | null)[];
}

export interface OutputSummary {
  name: string;
  dtype: DType;
  shape: number[];
}

export interface NodeSummary {
  /** Position in execution order. */
  index: number;
  name: string;
  opType: string;
  /** '' = ai.onnx, 'local' = ocellus's fused ops. */
  domain: string;
  /** Display block (see groups.ts); '' = top level. */
  group: string;
  outputs: OutputSummary[];
  /** Elements of the float weights this node is the first to read. */
  params: number;
  macs: number;
  /** Computed while planning (its inputs were constant): it never runs. */
  folded?: boolean;
  /** The activation a fused op applies to its output (its `activation` attribute: 'relu', 'gelu', …), if any. */
  activation?: string;
}

export interface GraphSummary {
  nodes: NodeSummary[];
  /** Op type → node count ('local:' prefix for ocellus's ops), most frequent first. */
  ops: Record<string, number>;
  macs: number;
  params: number;
}

export interface PassSummary extends PassReport {
  /** 'load': once per session, no shapes; 'plan': on the shape-specialised plan. */
  stage: 'load' | 'plan';
}

export interface OptimizedSummary extends GraphSummary {
  /** Nodes in the file → after the load passes → steps of the batch-1 plan (after folding and shaped passes). */
  nodesBefore: number;
  afterLoadPasses: number;
  planFolded: number;
  steps: number;
  passes: PassSummary[];
  /** Passes that changed something, with their rewrite counts. */
  applied: { pass: string; count: number }[];
}

export interface ModelHeader {
  id: string;
  file: string;
  /** config.json's architectures[0] when there is one (e.g. 'ViTForImageClassification'). */
  architecture?: string;
  irVersion: number;
  opsets: Record<string, number>;
  producer: { name: string; version: string };
  inputs: ValueSummary[];
  outputs: ValueSummary[];
  /** The concrete input types the summary is planned with (symbolic batch = 1). */
  planInputs: OutputSummary[];
  params: { count: number; bytes: number; tensors: number };
}

export interface ModelSummary extends ModelHeader {
  original: GraphSummary & { executed: number; folded: number };
  optimized?: OptimizedSummary;
}

const isFloat = (d: DType) => d === 'float32' || d === 'float16' || d === 'float64' || d === 'bfloat16';

function byteSize(c: ConstTensor): number {
  const d = c.data;
  return Array.isArray(d) ? d.reduce((s, x) => s + x.length, 0) : d.byteLength;
}

export function modelHeader(model: Model, id: string, file: string, config?: Record<string, unknown>): ModelHeader {
  const g = model.graph;
  let count = 0, bytes = 0;
  for (const c of g.initializers.values()) {
    if (isFloat(c.dtype)) count += sizeOf(c.dims);
    bytes += byteSize(c);
  }
  const decl = (v: Graph['inputs'][number]): ValueSummary => ({ name: v.name, dtype: v.dtype, shape: [...(v.shape ?? [])] });
  const arch = Array.isArray(config?.architectures) && typeof config.architectures[0] === 'string' ? config.architectures[0] : undefined;
  return {
    id, file, ...(arch ? { architecture: arch } : {}), irVersion: model.irVersion, opsets: Object.fromEntries(model.opsets),
    producer: { name: model.producerName, version: model.producerVersion },
    inputs: g.inputs.map(decl), outputs: g.outputs.map(decl),
    planInputs: planInputTypes(model, 1).map(([name, t]) => ({ name, ...t })),
    params: { count, bytes, tensors: g.initializers.size },
  };
}

/** The declared inputs with a symbolic leading dimension set to `batch`; other unknown dims are an error. */
export function planInputTypes(model: Model, batch: number): [string, TensorInfo][] {
  return model.graph.inputs.map(i => {
    if (!i.shape) throw new Error(`input '${i.name}' has no declared shape: cannot plan the model to count MACs`);
    const shape = i.shape.map((d, k) => {
      if (typeof d === 'number') return d;
      if (k === 0) return batch;
      throw new Error(`input '${i.name}' dimension ${k} is symbolic ('${d ?? '?'}'): only the batch dimension may be`);
    });
    return [i.name, { dtype: i.dtype, shape }];
  });
}

/** Zero-filled feeds of the planned input types (the plan depends on shapes only). */
export function planFeeds(model: Model, batch = 1): Record<string, Tensor> {
  return Object.fromEntries(planInputTypes(model, batch).map(([name, t]) =>
    [name, new Tensor(t.dtype, allocData(t.dtype, sizeOf(t.shape)), t.shape)]));
}

const opKey = (n: Node) => (n.domain ? `${n.domain}:${n.opType}` : n.opType);

function histogramOf(nodes: readonly Node[]): Record<string, number> {
  const m = new Map<string, number>();
  for (const n of nodes) m.set(opKey(n), (m.get(opKey(n)) ?? 0) + 1);
  return Object.fromEntries([...m].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}

/** The activation a fused node applies (its `activation` attribute), undefined for none / linear. */
export function activationOf(n: Node): string | undefined {
  const act = n.attrs['activation']?.value;
  return typeof act === 'string' && act !== '' && act !== 'linear' ? act : undefined;
}

/** Per node: outputs, params (first reader of each float initializer) and MACs, from the types in `infos`; `opsets`
 *  (the model's) picks each node's definition, whose `macs` trait counts (default: the newest opsets). */
export function summarizeNodes(nodes: readonly Node[], infos: ReadonlyMap<string, TensorInfo>,
  initializers: ReadonlyMap<string, ConstTensor>, ran?: ReadonlySet<Node>, opsets?: ReadonlyMap<string, number>): GraphSummary {
  const seen = new Set<string>();
  const groups = assignGroups(nodes.map(n => n.name));
  const out = nodes.map((n, index): NodeSummary => {
    let params = 0;
    for (const v of n.inputs) {
      const c = v ? initializers.get(v) : undefined;
      if (c && !seen.has(v) && isFloat(c.dtype)) params += sizeOf(c.dims);
      if (v) seen.add(v);
    }
    const ins = n.inputs.map(v => (v ? infos.get(v) : undefined));
    const outs = n.outputs.map(v => (v ? infos.get(v) : undefined));
    const s: NodeSummary = {
      index, name: n.name, opType: n.opType, domain: n.domain, group: groups[index]!,
      outputs: n.outputs.flatMap((v, k) => (v && outs[k] ? [{ name: v, dtype: outs[k]!.dtype, shape: [...outs[k]!.shape] }] : [])),
      params, macs: macsOf(n, ins, outs, opsets),
    };
    if (ran && !ran.has(n)) s.folded = true;
    const act = activationOf(n);
    if (act) s.activation = act;
    return s;
  });
  const executed = out.filter(s => !s.folded);
  return {
    nodes: out, ops: histogramOf(nodes), macs: executed.reduce((a, s) => a + s.macs, 0),
    params: out.reduce((a, s) => a + s.params, 0),
  };
}

/** The file's graph (an unoptimised session's model) with shapes from its plan for `feeds`. */
export function originalSummary(session: InferenceSession, feeds: Record<string, Tensor>): ModelSummary['original'] {
  const plan = session.plan(feeds);
  // The plan works on a copy of the graph: match its steps to the file's nodes by their (unique) output names.
  const ranOutputs = new Set(plan.steps.flatMap(s => s.node.outputs.filter(Boolean)));
  const g = session.model.graph;
  const ran = new Set(g.nodes.filter(n => n.outputs.some(o => ranOutputs.has(o))));
  const s = summarizeNodes(g.nodes, plan.infos, g.initializers, ran, session.model.opsets);
  return { ...s, executed: ran.size, folded: g.nodes.length - ran.size };
}

/** The optimised plan's steps and what the passes did (session created with passes on). */
export function optimizedSummary(session: InferenceSession, feeds: Record<string, Tensor>, nodesInFile: number): OptimizedSummary {
  const plan: Plan = session.plan(feeds);
  const s = summarizeNodes(plan.steps.map(st => st.node), plan.infos, plan.graph.initializers, undefined, session.model.opsets);
  const shaped = new Set(plan.passReport.map(r => r.pass));
  // session.passReport = load passes, then the shaped passes of the first plan; this plan's own report is exact.
  const load = session.passReport.filter(r => !shaped.has(r.pass));
  const passes: PassSummary[] = [...load.map(r => ({ ...r, stage: 'load' as const })), ...plan.passReport.map(r => ({ ...r, stage: 'plan' as const }))];
  return {
    ...s, nodesBefore: nodesInFile, afterLoadPasses: session.model.graph.nodes.length, planFolded: plan.folded,
    steps: plan.steps.length, passes, applied: passes.filter(p => p.changes > 0).map(p => ({ pass: p.pass, count: p.changes })),
  };
}

/** Creates a session, hands it to `fn`, and releases it whatever happens. */
export async function withSession<T>(model: Model, optimize: boolean, fn: (s: InferenceSession) => T | Promise<T>, name?: string): Promise<T> {
  const session = await InferenceSession.create(model, { optimize, name });
  try {
    return await fn(session);
  } finally {
    await session.release();
  }
}
