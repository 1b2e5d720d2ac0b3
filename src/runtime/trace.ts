// Traced runs for inspection tools: one session run through the RunHooks of runSync, handing a visitor host copies
// of every step's outputs (and, on request, its inputs) with the step's time. Reading tensor data is the runtime's
// job, so tools above it never touch tfjs. Untraced runs are untouched: the hooks exist only for this call.

import type * as tf from '@tensorflow/tfjs-core';
import { tensorToConst } from '../../kernels/util.js';
import type { DType } from '../ir/dtype.js';
import type { ConstTensor } from '../ir/graph.js';
import type { InferenceSession } from './session.js';
import type { Plan } from './plan.js';
import type { Tensor } from './tensor.js';

export type PlanStep = Plan['steps'][number];

/** A host copy of a value: ONNX dtype, dims, data (Float32Array for float32). */
export type HostTensor = ConstTensor;

export interface TracedStep {
  /** Position in the plan (execution order). */
  index: number;
  step: PlanStep;
  /** Kernel time in ms, measured around the step's run only (copying data for the trace is not counted). */
  ms: number;
  /** Host copies of the outputs; undefined for omitted outputs. */
  outputs: (HostTensor | undefined)[];
  /** Host copies of the inputs, only for steps `wantInputs` selected (undefined for omitted inputs). */
  inputs?: (HostTensor | undefined)[];
}

export interface TraceRunOptions {
  fetches?: readonly string[];
  /** Steps whose inputs the visitor needs too (e.g. an attention op's q and k). */
  wantInputs?(step: PlanStep): boolean;
}

/**
 * Runs `feeds` once and calls `visit` after every step, in execution order, with host copies of its outputs.
 * The copies belong to the visitor; the run's own tensors are freed as in an untraced run. Returns the outputs.
 */
export function traceRun(session: InferenceSession, feeds: Record<string, Tensor>, visit: (s: TracedStep) => void,
  opts: TraceRunOptions = {}): Record<string, Tensor> {
  const plan = session.plan(feeds);   // the same (cached) plan runSync picks for these feeds
  const index = new Map(plan.steps.map((s, i) => [s, i]));
  const wanted = new Set(opts.wantInputs ? plan.steps.filter(s => opts.wantInputs!(s)) : []);
  // Values some wanted step reads, with the last wanted reader (the host copy is dropped after it).
  const lastReader = new Map<string, number>();
  for (const s of wanted) s.node.inputs.forEach(v => v && lastReader.set(v, index.get(s)!));
  const held = new Map<string, HostTensor>();
  for (const [name, t] of Object.entries(feeds)) {
    if (lastReader.has(name)) held.set(name, { dtype: t.type, dims: [...t.dims], data: t.data });
  }
  return session.runSync(feeds, opts.fetches, {
    afterStep(step, outs, ms) {
      const i = index.get(step)!;
      const outputs = outs.map((t, k) => (t ? hostCopy(t, step.ctx.outputs[k]!.dtype) : undefined));
      step.node.outputs.forEach((v, k) => { if (v && outputs[k] && lastReader.has(v)) held.set(v, outputs[k]!); });
      let inputs: (HostTensor | undefined)[] | undefined;
      if (wanted.has(step)) {
        inputs = step.node.inputs.map((v, k) => (v ? step.ctx.consts[k] ?? held.get(v) : undefined));
        for (const v of step.node.inputs) if (v && lastReader.get(v) === i) held.delete(v);
      }
      visit({ index: i, step, ms, outputs, inputs });
    },
  });
}

/** float32 data is read once (dataSync returns a fresh copy on the WASM backend); other types convert. */
function hostCopy(t: tf.Tensor, dtype: DType): HostTensor {
  if (dtype === 'float32' && t.dtype === 'float32') return { dtype, dims: [...t.shape], data: t.dataSync() as Float32Array };
  return tensorToConst(t, dtype);
}
