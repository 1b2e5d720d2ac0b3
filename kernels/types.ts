// The contract between the runtime and an operator definition. One OpDef per (domain, op type, first opset
// whose semantics it implements); `parse` and `infer` run once when a plan is built, `run` is the hot path.

import type * as tf from '@tensorflow/tfjs-core';
import type { ConstTensor, TensorInfo } from '../src/ir/graph.js';
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

export interface OpDef<A = unknown> {
  opType: string;            // exactly the ONNX spelling
  domain?: string;           // '' (default) = ai.onnx; 'local' = ocellus's fused ops
  since: number;             // first opset this definition is valid for
  parse(n: NodeView): A;
  infer(n: InferView, inputs: readonly (ValueInfo | undefined)[], a: A): ValueInfo[];
  run(x: Inputs, a: A, c: RunCtx): tf.Tensor[];
  /** Called once when a plan is built, with the tensors of the inputs that are constants (the rest undefined): a
   *  kernel derives what it keeps from its weights here (packed forms, kernels/derived.ts), so that no run
   *  allocates anything that outlives it. `run` must still work if this was not called. */
  prepare?(x: Inputs, a: A, c: RunCtx): void;
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
}

/** Helper for definitions: keeps A inferred from parse. */
export function op<A>(def: OpDef<A>): OpDef<A> {
  return def;
}
