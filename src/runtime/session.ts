// InferenceSession: the onnxruntime-web-shaped entry point. create() decodes, resolves every node to a kernel
// (failing with the full list of missing ops), runs the load-time passes and plans for the declared input shapes;
// run() checks the feeds, picks (or builds) the plan for their shapes and executes it, freeing each intermediate
// after its last reader so tf.memory().numTensors is the same after a run as before. Large weights live on the
// device only once uploaded (host-release.ts).

import * as tf from '@tensorflow/tfjs-core';
import { ensureBackend } from '../../kernels/backend.js';
import { DerivedStore } from '../../kernels/derived.js';
import { opsetFor, registeredOps, resolveOp, versionsOf } from '../../kernels/registry.js';
import { constToTensor, tensorToConst, tfDtype } from '../../kernels/util.js';
import { envVar } from '../env.js';
import type { DType } from '../ir/dtype.js';
import { topoSort } from '../ir/edit.js';
import type { ConstTensor, Model, TensorInfo, ValueDecl } from '../ir/graph.js';
import { describeDims } from '../ir/tensor.js';
import { ModelLoadError } from '../onnx/errors.js';
import { decodeModel } from '../onnx/decode.js';
import { loadModel, MAX_MODEL_FILE_BYTES, type ModelSource } from '../onnx/load.js';
import { LOAD_PASSES, SHAPED_PASSES, type PassReport, runLoadPasses } from '../passes/index.js';
import { InputError, ModelError, UnsupportedOpsError, describeNode } from './errors.js';
import { canRelease, collectGarbage, isReleased, releaseHostData } from './host-release.js';
import { opFacts } from './op-facts.js';
import { planCacheWanted, readPlanCache, sourceFacts, writePlanCache } from './plan-cache.js';
import { buildPlan, cloneGraph, evaluateNode, planStates, Resolver, shapeKey, valueInputsOf, type Plan } from './plan.js';
import { Tensor } from './tensor.js';

export interface SessionOptions {
  /** Graph passes (folding, fusions, NHWC layout). Default on; off with `false`, ORT's
   *  `graphOptimizationLevel: 'disabled'`, or the environment variable OCELLUS_PASSES=0. */
  optimize?: boolean;
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Check every kernel's output shape and type against the plan (slower; on in tests). Env OCELLUS_CHECK=1. */
  checkShapes?: boolean;
  /** Log what each pass did (env DEBUG_PASSES=1). */
  logPasses?: boolean | ((line: string) => void);
  /** Name used in error messages (defaults to the path). */
  name?: string;
  /** How many input-shape plans to keep (default 4). */
  maxPlans?: number;
  /** Cache the optimized graph of a model file beside it (`<file>.ocellus-plan`, see plan-cache.ts). Default on
   *  (env OCELLUS_PLAN_CACHE=0 turns it off); only for a path, with passes on. */
  planCache?: boolean;
  /** One-line notices (a refused plan cache); default console.warn. */
  onNotice?: (line: string) => void;
}

/** What create() did with the plan cache: 'hit' (the passes did not run), 'written', or 'off' (not used). */
export type PlanCacheUse = 'hit' | 'written' | 'off';

/** A graph input's or output's name, element type and declared shape (symbolic dims as names, unknown as null). */
export interface ValueMetadata {
  name: string;
  type: DType;
  shape: (number | string | null)[] | undefined;
}

/** @deprecated Describes outputs too: use ValueMetadata (InputMetadata is onnxruntime-web's name, kept for its users). */
export type InputMetadata = ValueMetadata;

/** Host bytes a new session must have released for create() to end with a garbage collection (see collectGarbage). */
const COLLECT_AFTER_BYTES = 32 * 2 ** 20;

/** Most elements a graph input may have to be planned as a constant (see InferenceSession.valuesOf). */
const MAX_VALUE_INPUT = 4096;

export class InferenceSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly ValueMetadata[];
  readonly outputMetadata: readonly ValueMetadata[];
  /** What the load-time passes did (and, after planning, the shape passes). */
  readonly passReport: PassReport[];
  private readonly plans = new Map<string, Plan>();
  /** Graph inputs whose values decide shapes (fed to a dataDependent input): plans are keyed on their values. */
  private valueInputs = new Set<string>();
  private readonly uploaded = new Map<ConstTensor, tf.Tensor>();
  /** What the kernels derived from the uploads when planning (packed weights, filters): freed with them. */
  private readonly derived = new DerivedStore();
  /** The load-time graph's constants: every plan starts from them, so their uploads live as long as the session. */
  private baseConsts = new Set<ConstTensor>();
  /** Constants the caller's Model object holds (create() from a Model): never released, they are not ours. */
  private foreignConsts = new Set<ConstTensor>();
  private released = false;
  /** Host bytes given up by releaseHostCopies (a read-back and its second release count twice). */
  private releasedBytes = 0;
  private shapedReported = false;
  private readonly optimize: boolean;
  private readonly checkShapes: boolean;
  private readonly log?: (line: string) => void;
  /** What create() did with the plan cache. */
  planCache: PlanCacheUse = 'off';

  private constructor(readonly model: Model, readonly name: string, private readonly options: SessionOptions) {
    this.optimize = optimizeWanted(options);
    this.checkShapes = options.checkShapes ?? envVar('OCELLUS_CHECK') === '1';
    const logOpt = options.logPasses ?? envVar('DEBUG_PASSES') === '1';
    this.log = typeof logOpt === 'function' ? logOpt : logOpt ? (l: string) => console.error(l) : undefined;
    const g = model.graph;
    this.inputNames = g.inputs.map(i => i.name);
    this.outputNames = g.outputs.map(o => o.name);
    const meta = (v: ValueDecl): ValueMetadata => ({ name: v.name, type: v.dtype, shape: v.shape ? [...v.shape] : undefined });
    this.inputMetadata = g.inputs.map(meta);
    this.outputMetadata = g.outputs.map(meta);
    this.passReport = [];
  }

  static async create(source: ModelSource | Model, options: SessionOptions = {}): Promise<InferenceSession> {
    await ensureBackend();
    const name = options.name ?? (typeof source === 'string' ? source : 'model');
    const isModel = typeof source === 'object' && 'graph' in source;
    let session: InferenceSession;
    if (typeof source === 'string' && optimizeWanted(options) && planCacheWanted(options.planCache)) {
      const notice = options.onNotice ?? ((l: string) => console.warn(l));
      const facts = await sourceFacts(source, MAX_MODEL_FILE_BYTES);   // undefined: loadModel says what is wrong
      const cached = facts && !facts.external ? await readPlanCache(facts, name, notice) : undefined;
      if (cached) {
        session = InferenceSession.prepare(cached.model, false, name, options, cached.passes);
        session.planCache = 'hit';
      } else if (facts && !facts.external) {   // no external data: the bytes just read are the whole model
        const model = decodeModel(facts.bytes, { name, ownsBytes: true });
        session = InferenceSession.prepare(model, false, name, options, undefined, (m, r) => writePlanCache(facts, m, r, notice));
        if (session.planCacheWritten) session.planCache = 'written';
      } else {
        session = InferenceSession.prepare(await loadModel(source, { name }), false, name, options);
      }
    } else {
      session = InferenceSession.prepare(isModel ? source : await loadModel(source, { name }), isModel, name, options);
    }
    // The decoded model is out of reach only now that prepare() has returned.
    if (session.releasedBytes >= COLLECT_AFTER_BYTES) await collectGarbage();
    return session;
  }

  private planCacheWritten = false;

  /** Resolves every node, runs the load passes (unless `passed`: the model is their cached result, with their
   *  report) and plans for the declared inputs. `foreign`: the caller holds `model`. `write`: gets the optimized
   *  model before planning (the plan cache). */
  private static prepare(model: Model, foreign: boolean, name: string, options: SessionOptions, passed?: PassReport[],
    write?: (m: Model, r: PassReport[]) => string | undefined): InferenceSession {
    checkSupported(model, name);
    const session = new InferenceSession({ ...model, graph: cloneGraph(model.graph) }, name, options);
    if (foreign) session.foreignConsts = constsOf(model.graph);
    try {
      topoSort(session.model.graph);
    } catch (e) {
      throw new ModelLoadError(name, (e as Error).message);
    }
    if (passed) {
      session.passReport.push(...passed);
      for (const r of passed) session.log?.(describePass(r));
    } else if (session.optimize) {
      const opsets = session.model.opsets, resolver = new Resolver(opsets);   // each node parsed once over the rounds
      session.passReport.push(...runLoadPasses(session.model.graph, { opsets, facts: opFacts(opsets, resolver), evaluate: (n, c) => evaluateNode(n, c, opsets, resolver) }, LOAD_PASSES));
      for (const r of session.passReport) session.log?.(describePass(r));
      if (write) session.planCacheWritten = write(session.model, session.passReport) !== undefined;
    }
    session.baseConsts = new Set(session.model.graph.initializers.values());
    session.valueInputs = valueInputsOf(session.model.graph, session.model.opsets);
    // Plan once for the declared shapes (symbolic batch = 1) so shape errors surface before the first run
    // (not possible when some input's values decide shapes: those plans wait for the feeds).
    const declared = session.declaredInputs();
    if (declared && session.valueInputs.size === 0) session.planFor(declared);
    if (!foreign) unpinLoaderBuffers(session.model.graph);
    return session;
  }

  /** The declared input types with a symbolic leading (batch) dimension set to 1, or undefined if not fully known. */
  private declaredInputs(): Map<string, TensorInfo> | undefined {
    const m = new Map<string, TensorInfo>();
    for (const i of this.model.graph.inputs) {
      if (!i.shape) return undefined;
      const shape = i.shape.map((d, k) => (typeof d === 'number' ? d : k === 0 ? 1 : NaN));
      if (shape.some(Number.isNaN)) return undefined;
      m.set(i.name, { dtype: i.dtype, shape });
    }
    return m;
  }

  private planFor(inputs: Map<string, TensorInfo>, feeds?: Record<string, Tensor>): Plan {
    const values = this.valuesOf(feeds);
    const key = shapeKey(inputs, values);
    let plan = this.plans.get(key);
    if (plan) {
      this.plans.delete(key);  // LRU: re-insert as newest
      this.plans.set(key, plan);
      return plan;
    }
    plan = buildPlan(this.model.graph, inputs, this.model.opsets, this.optimize ? SHAPED_PASSES : [], { fold: true, values });
    this.log?.(`[plan] ${key}: ${plan.steps.length} steps, ${plan.folded} nodes folded`);
    for (const r of plan.passReport) this.log?.(describePass(r));
    // The session's report holds the load passes and the shaped passes of the first plan built.
    if (!this.shapedReported && plan.passReport.length) {
      this.passReport.push(...plan.passReport);
      this.shapedReported = true;
    }
    for (const { value } of plan.constSlots) if (!this.uploaded.has(value)) this.uploaded.set(value, tf.keep(constToTensor(value)));
    planStates(plan, c => this.uploaded.get(c), this.derived);
    this.plans.set(key, plan);
    this.releaseHostCopies();
    const max = this.options.maxPlans ?? 4;
    while (this.plans.size > max) this.dropPlan(this.plans.keys().next().value!);
    return plan;
  }

  /** Host copies of the fed values of `valueInputs` (they become plan-time constants). Large inputs are left
   *  out: planning per distinct value of, say, an image would be a trap; the node needing it then fails to plan. */
  private valuesOf(feeds: Record<string, Tensor> | undefined): Map<string, ConstTensor> | undefined {
    if (!feeds || this.valueInputs.size === 0) return undefined;
    const values = new Map<string, ConstTensor>();
    for (const name of this.valueInputs) {
      const t = feeds[name]!;
      if (t.data.length <= MAX_VALUE_INPUT) values.set(name, { dtype: t.type, dims: [...t.dims], data: t.data.slice() });
    }
    return values;
  }

  /** Large float constants now on the device lose their host arrays (planning may read one back: see
   *  host-release.ts; this puts such a read-back copy away again). */
  private releaseHostCopies(): void {
    for (const [c, t] of this.uploaded) {
      if (this.foreignConsts.has(c) || !canRelease(c)) continue;
      this.releasedBytes += (c.data as Float32Array).byteLength;
      releaseHostData(c, t, `${this.name}: constant [${c.dims.join(', ')}]`);
    }
  }

  private dropPlan(key: string): void {
    const plan = this.plans.get(key)!;
    this.plans.delete(key);
    const stillUsed = new Set([...this.plans.values()].flatMap(p => p.constSlots.map(c => c.value)));
    for (const { value } of plan.constSlots) {
      // A base constant's upload stays: a later plan may need it, and once released it holds the only copy.
      if (stillUsed.has(value) || this.baseConsts.has(value)) continue;
      this.uploaded.get(value)?.dispose();
      this.uploaded.delete(value);
    }
    this.derived.sweep();   // packed forms of the constants just disposed
  }

  /** What the session holds on the device: plans, uploaded constants, and what kernels derived from them. */
  memory(): { plans: number; uploads: number; derived: number } {
    return { plans: this.plans.size, uploads: this.uploaded.size, derived: this.derived.size };
  }

  /** The plan a run with these feeds would use (for inspection tools). */
  plan(feeds: Record<string, Tensor>): Plan {
    return this.planFor(this.checkFeeds(feeds), feeds);
  }

  private checkFeeds(feeds: Record<string, Tensor>): Map<string, TensorInfo> {
    if (!feeds || typeof feeds !== 'object') throw new InputError(`${this.name}: run() takes an object of input tensors by name`);
    const known = new Set(this.inputNames);
    for (const k of Object.keys(feeds)) {
      if (!known.has(k)) throw new InputError(`${this.name}: unknown input '${k}' (the model's inputs are ${this.inputNames.map(n => `'${n}'`).join(', ')})`);
    }
    const infos = new Map<string, TensorInfo>();
    for (const decl of this.model.graph.inputs) {
      const t = feeds[decl.name];
      if (!t) throw new InputError(`${this.name}: input '${decl.name}' is missing (expected ${decl.dtype} ${describeDims(decl.shape ?? [])})`);
      if (!(t instanceof Tensor) && !(t && 'dims' in t && 'data' in t && 'type' in t)) {
        throw new InputError(`${this.name}: input '${decl.name}' must be a Tensor, got ${typeof t}`);
      }
      if (t.type !== decl.dtype) throw new InputError(`${this.name}: input '${decl.name}' should be ${decl.dtype}, got ${t.type}`);
      if (decl.shape) {
        const bad = decl.shape.length !== t.dims.length || decl.shape.some((d, i) => typeof d === 'number' && d !== t.dims[i]);
        if (bad) throw new InputError(`${this.name}: input '${decl.name}' should have shape ${describeDims(decl.shape)}, got ${describeDims(t.dims)}`);
      }
      infos.set(decl.name, { dtype: t.type, shape: [...t.dims] });
    }
    return infos;
  }

  async run(feeds: Record<string, Tensor>, fetches?: readonly string[]): Promise<Record<string, Tensor>> {
    return this.runSync(feeds, fetches);
  }

  /** Synchronous run (the WASM backend computes synchronously). */
  runSync(feeds: Record<string, Tensor>, fetches?: readonly string[], hooks?: RunHooks): Record<string, Tensor> {
    if (this.released) throw new Error(`${this.name}: the session has been released`);
    const plan = this.planFor(this.checkFeeds(feeds), feeds);
    const slots: (tf.Tensor | undefined)[] = new Array(plan.slots.size);
    for (const { slot, value } of plan.constSlots) slots[slot] = this.uploaded.get(value);
    const owned = new Set<number>();
    try {
      for (const { name, slot } of plan.inputSlots) {
        const t = feeds[name]!;
        slots[slot] = tf.tensor(toTfData(t), [...t.dims], tfDtype(t.type));
        owned.add(slot);
      }
      // Plain loops below: this is every node of every run, and what a run allocates in JavaScript is what V8's
      // young generation has to absorb (the bench's soak watches RSS).
      for (const step of plan.steps) {
        const ins: (tf.Tensor | undefined)[] = new Array(step.ins.length);
        for (let i = 0; i < ins.length; i++) { const s = step.ins[i]!; ins[i] = s < 0 ? undefined : slots[s]; }
        const t0 = hooks ? performance.now() : 0;
        let outs: tf.Tensor[];
        try {
          outs = tf.tidy(() => step.def.run(ins, step.attrs, step.ctx, step.state));
        } catch (e) {
          if (e instanceof ModelError) throw e;
          throw new ModelError({ ...step.node, opset: undefined }, `kernel failed: ${(e as Error).message}`);
        }
        for (let i = 0; i < step.outs.length; i++) {
          const s = step.outs[i]!;
          let out = outs[i];
          if (s < 0) { out?.dispose(); continue; }
          if (!out) throw new ModelError(step.node, `kernel returned ${outs.length} output(s), expected ${step.outs.length}`);
          if (ins.includes(out)) out = out.clone();  // an op that passes its input through must not alias it
          if (this.checkShapes) checkOutput(step, i, out);
          slots[s] = out;
          owned.add(s);
        }
        for (let i = step.outs.length; i < outs.length; i++) outs[i]!.dispose();  // outputs the node does not name
        hooks?.afterStep?.(step, step.outs.map(s => (s < 0 ? undefined : slots[s])), performance.now() - t0);
        for (const s of step.free) {
          if (owned.delete(s)) { slots[s]?.dispose(); slots[s] = undefined; }
        }
      }
      const wanted = fetches ?? this.outputNames;
      const result: Record<string, Tensor> = {};
      for (const o of plan.outputSlots) {
        if (!wanted.includes(o.name)) continue;
        const t = slots[o.slot]!;
        const c = tensorToConst(t, o.info.dtype);
        result[o.name] = new Tensor(o.info.dtype, c.data, c.dims);
      }
      for (const w of wanted) if (!(w in result)) throw new InputError(`${this.name}: unknown output '${w}' (outputs are ${this.outputNames.join(', ')})`);
      return result;
    } finally {
      for (const s of owned) slots[s]?.dispose();
    }
  }

  async release(): Promise<void> {
    for (const t of this.uploaded.values()) t.dispose();
    this.uploaded.clear();
    this.derived.clear();
    this.plans.clear();
    this.released = true;
  }
}

export interface RunHooks {
  afterStep?(step: Plan['steps'][number], outputs: (tf.Tensor | undefined)[], ms: number): void;
}

function optimizeWanted(options: SessionOptions): boolean {
  return options.optimize ?? (options.graphOptimizationLevel ? options.graphOptimizationLevel !== 'disabled' : envVar('OCELLUS_PASSES') !== '0');
}

function toTfData(t: Tensor): Float32Array | Int32Array | Uint8Array {
  const d = t.data;
  switch (tfDtype(t.type)) {
    case 'float32': return d instanceof Float32Array ? d : Float32Array.from(d as ArrayLike<number>);
    case 'bool': return Uint8Array.from(d as ArrayLike<number>, v => (v ? 1 : 0));
    default: return d instanceof Int32Array ? d : Int32Array.from(d as ArrayLike<number | bigint>, Number);
  }
}

function checkOutput(step: Plan['steps'][number], i: number, out: tf.Tensor): void {
  const want = step.ctx.outputs[i]!;
  const same = want.shape.length === out.shape.length && want.shape.every((d, k) => d === out.shape[k]);
  if (!same || tfDtype(want.dtype) !== out.dtype) {
    throw new ModelError(step.node, `output ${i} is ${out.dtype} ${describeDims(out.shape)} but the plan expected ${want.dtype} ${describeDims(want.shape)}`);
  }
}

function describePass(r: PassReport): string {
  return `[pass] ${r.pass}: ${r.changes} rewrite(s), ${r.removed} node(s) removed (${r.nodesBefore} → ${r.nodesAfter} over its rounds)`;
}

/**
 * The loader keeps large float32 weights as views of the file's bytes. Those the first plan uploaded are released;
 * any other (a weight only later plans use) gets a private copy, so that one view does not keep the whole file.
 * 8-bit weights stay views on purpose (a quantized model costs its file size once).
 */
function unpinLoaderBuffers(g: Model['graph']): void {
  for (const c of constsOf(g)) {
    if (isReleased(c)) continue;   // (reading c.data would read it back)
    const d = c.data;
    if (d instanceof Float32Array && d.byteLength < d.buffer.byteLength) c.data = d.slice();
  }
}

/** Every constant a graph holds: initializers and tensor attributes (Constant nodes), subgraphs included. */
function constsOf(g: Model['graph'], out = new Set<ConstTensor>()): Set<ConstTensor> {
  for (const c of g.initializers.values()) out.add(c);
  for (const n of g.nodes) {
    for (const a of Object.values(n.attrs)) {
      if (a.type === 'tensor') out.add(a.value);
      else if (a.type === 'tensors') a.value.forEach(c => out.add(c));
      else if (a.type === 'graph') constsOf(a.value, out);
      else if (a.type === 'graphs') a.value.forEach(sub => constsOf(sub, out));
    }
  }
  return out;
}

/** The newest ai.onnx opset any registered definition is written for: a model importing a later one may rely on
 *  semantics none of them knows (onnxruntime likewise refuses opsets past its own). */
export const HIGHEST_OPSET = Math.max(...registeredOps().filter(o => o.domain === '').flatMap(o => o.versions));

function checkSupported(model: Model, file: string): void {
  const opset = model.opsets.get('');
  if (opset !== undefined && opset > HIGHEST_OPSET) {
    throw new ModelLoadError(file, `opset_import asks for ai.onnx opset ${opset}, but the highest opset ocellus supports is ${HIGHEST_OPSET}`);
  }
  const missing = new Map<string, { opType: string; domain: string; opset: number; nodes: string[]; have: number[] }>();
  const visit = (nodes: Model['graph']['nodes']) => {
    for (const n of nodes) {
      const opset = opsetFor(model.opsets, n.domain);
      if (opset === undefined) {
        throw new ModelLoadError(file, `${describeNode(n)}: domain '${n.domain}' is not in the model's opset_import`);
      }
      if (!resolveOp(n.domain, n.opType, opset)) {
        const key = `${n.domain}:${n.opType}:${opset}`;
        const m = missing.get(key) ?? { opType: n.opType, domain: n.domain, opset, nodes: [], have: versionsOf(n.domain, n.opType) };
        m.nodes.push(n.name);
        missing.set(key, m);
      }
    }
  };
  visit(model.graph.nodes);
  if (missing.size) throw new UnsupportedOpsError([...missing.values()], file);
}

export { describeNode };
