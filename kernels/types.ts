// The contract between the runtime and an operator definition. One OpDef per (domain, op type, first opset
// whose semantics it implements). An op's life cycle, for one node (src/runtime/plan.ts, session.ts):
//   resolve  registry.ts picks the definition for the node's domain, op type and opset: once per node per plan
//            (a Resolver), at most once over create()'s load passes, and once in create()'s checkSupported.
//   parse    reads and checks the attributes into a plain object A: once per node per plan, and at most once over
//            the load passes (for the nodes they evaluate). A pass that rewrites a node gives it new attrs/inputs/outputs arrays: it is parsed again.
//   infer    checks the input types and returns the output types (errors name the node): once per folding round
//            the node survives (a plan runs rounds until the shape-aware passes change nothing, at most 22).
//   fold     (optional) outputs from static types alone (Shape, Size), tried in each round before evaluating.
//   plan     (optional) once per planned step, after the plan's constants are uploaded: works out what every run
//            needs and returns it as the step's state S (window geometry, slice bounds, packed weights…). It sees
//            the node (errors name it), the constant inputs' tensors and ctx.derive(), which keeps what it builds
//            from a constant (packed weights, a filter tensor) with the SESSION: shared by the session's plans,
//            freed with the constant's upload (plan eviction) or session.release(). S itself holds plain values
//            (and what derive returned): nothing is kept anywhere else, no module-level caches.
//   run      the hot path, every inference: tensors in, tensors out, given A, the plan's static types (RunCtx) and
//            S. No checks (infer made them), no caches, nothing that outlives the call.
// Constant folding (evaluate.ts: a node whose inputs are all constant, while planning or in a pass) runs
// parse → infer → plan → run once on uploaded copies and frees everything, derived things included, right after.
// Two plans (two input shapes) have separate steps and states; derived weights are shared when source and key are.

import type * as tf from '@tensorflow/tfjs-core';
import type { ConstTensor, TensorInfo } from '../src/ir/graph.js';
import type { DisplayFamily, Elementwise, FusedActivation } from '../src/ir/op-traits.js';
import type { AttrReader } from './attrs.js';

/** Static type of a value in a plan: ONNX element type and a concrete shape. */
export type ValueInfo = TensorInfo;

/** What parse/infer see of a node. Every error raised through it names the node. */
export interface NodeView {
  readonly name: string;
  readonly opType: string;
  readonly domain: string;
  readonly opset: number;
  readonly inputs: readonly string[];    // '' = omitted optional input
  readonly outputs: readonly string[];
  readonly attrs: AttrReader;
  /** True when optional input i is given. */
  has(i: number): boolean;
  fail(detail: string): never;
  check(cond: unknown, detail: () => string): asserts cond;
  /** Fails naming the attribute when the model sets it to anything but its default. */
  requireDefault(name: string, dflt: number | string): void;
}

/** During planning: the node plus whatever inputs are constants at that point. */
export interface InferView extends NodeView {
  /** Value of input i when it is constant when planning (initializer, Constant, folded); else undefined. */
  constant(i: number): ConstTensor | undefined;
  /** Input i as integers; fails naming the input when it is not constant. */
  ints(i: number, what: string): number[];
}

/** What `run` gets besides tensors: the plan's static types and the inputs that were constant when planning. */
export interface RunCtx {
  readonly inputs: readonly (ValueInfo | undefined)[];
  readonly outputs: readonly ValueInfo[];
  readonly consts: readonly (ConstTensor | undefined)[];
}

export type Inputs = readonly (tf.Tensor | undefined)[];

/** Something kept beyond one run (packed weights, a tensor): disposed by its owner. */
export interface Derived { dispose(): void }

/** What `plan` gets besides the node and the constant tensors. */
export interface PlanCtx extends RunCtx {
  /** What `make` builds from the constant tensor `source` under `key`: built on first use and kept by the session
   *  (shared by its plans) until `source` is freed. A tensor is kept out of the plan call's tidy scope. One type
   *  per key. `source` may be a host constant (RunCtx.consts, e.g. quantized weights that are never uploaded):
   *  what is derived from it is kept until the session is released. */
  derive<T extends Derived>(source: tf.Tensor | ConstTensor, key: string, make: () => T): T;
}

export interface OpDef<A = unknown, S = any> {
  opType: string;            // exactly the ONNX spelling
  domain?: string;           // '' (default) = ai.onnx; 'local' = ocellus's fused ops
  since: number;             // first opset this definition is valid for
  parse(n: NodeView): A;
  infer(n: InferView, inputs: readonly (ValueInfo | undefined)[], a: A): ValueInfo[];
  /** Once per planned step (see the header): `x` holds the tensors of the inputs that are constant (the rest, and
   *  host inputs, undefined). Returns the step's state, handed to every `run`. */
  plan?(n: NodeView, x: Inputs, a: A, c: PlanCtx): S;
  /** `s` is what `plan` returned (undefined without a `plan`). */
  run(x: Inputs, a: A, c: RunCtx, s: S): tf.Tensor[];
  /** Output is not a pure function of its inputs (e.g. random ops): never constant-folded. */
  noFold?: boolean;
  /** Inputs whose VALUES decide the output shapes (Reshape's shape, Slice's starts…). They must be constant when
   *  planning; when its value comes from small graph inputs (node tests feed shapes so), the session keys its
   *  plans on those inputs' values and plans with them as constants (see valueInputsOf in src/runtime/plan.ts). */
  dataDependent?: readonly number[];
  /** Inputs the kernel reads on the host, from `RunCtx.consts`, when they are constant (quantized weights stay
   *  1-byte host arrays): the plan never uploads them and `run` gets undefined there. When such an input is not
   *  constant (node tests feed it), it arrives as a tensor as usual. */
  hostInputs?: readonly number[];
  /** Computes outputs from static types alone when possible (Shape, Size): folded without running. */
  fold?(n: InferView, inputs: readonly (ValueInfo | undefined)[], a: A): ConstTensor[] | undefined;

  // ---- Traits: facts about the op that the passes, inspect and the report read (src/ir/op-traits.ts). They live
  // here and nowhere else; the runtime hands them to the passes (src/runtime/op-facts.ts) and to inspect.
  /** Layout-agnostic elementwise op (cancel-transposes sinks a Transpose through it). */
  elementwise?: Elementwise;
  /** When the attributes decide whether it is `elementwise` (opset < 7 binary ops with `broadcast`): false = not. */
  elementwiseIf?(a: A): boolean;
  /** This node as an activation local:NhwcConv fuses (fuse-conv-activation); undefined when these attributes or
   *  bounds have no fused form. `n.constant(i)` gives constant inputs. The kind names the code that runs it:
   *  kernels/wasm/activations.ts's emitters on ocellus's kernels, tfjs-wasm's fused conv otherwise. */
  activation?(a: A, n: InferView): FusedActivation | undefined;
  /** The activation y·f(y) is when this op is the gate f (Sigmoid → silu), for these attributes. */
  gate?(a: A, n: InferView): FusedActivation | undefined;
  /** Multiply-accumulates of one node from its planned types (src/inspect/macs.ts states the convention). */
  macs?(a: A, inputs: readonly (ValueInfo | undefined)[], outputs: readonly (ValueInfo | undefined)[]): number;
  /** The family the HTML report colours the node by (none: 'data'). */
  family?: DisplayFamily;
}

/** Helper for definitions: keeps A inferred from parse and S from plan. */
export function op<A, S = undefined>(def: OpDef<A, S>): OpDef<A, S> {
  return def;
}
