// Op facts the passes, inspect and the report need, as types both sides share. The facts themselves live on each
// operator's definition (kernels/types.ts OpDef: `elementwise`, `activation`, `gate`, `macs`, `family`); passes never
// import kernels, so the runtime answers their questions from the registry through `PassContext.facts` (OpFacts,
// built by src/runtime/op-facts.ts). A new op is covered by every pass the moment its OpDef says what it is.

import type { ConstTensor, Node } from './graph.js';

/** 'unary': output element i is f(element i of input 0); any other input is a one-element constant (Clip's bounds).
 *  'binary': two inputs, numpy broadcasting, element by element. Either way the op is layout-agnostic: a Transpose
 *  commutes with it (cancel-transposes sinks one through it). */
export type Elementwise = 'unary' | 'binary';

/** The activations local:NhwcConv applies inside its kernel (its `activation` attribute; kernels/conv.ts): tfjs-wasm
 *  fuses relu, relu6, sigmoid, leakyrelu and elu; ocellus's kernels emit relu, clip, hardsigmoid, hardswish, silu and
 *  gelu from kernels/wasm/activations.ts (relu6 = clip(0, 6)). */
export type ConvActivationKind = 'relu' | 'relu6' | 'sigmoid' | 'leakyrelu' | 'elu' | 'clip' | 'hardsigmoid' | 'hardswish' | 'silu' | 'gelu';

/** One activation with its parameters, as the conv takes them: leakyrelu's alpha, hardsigmoid's alpha and beta,
 *  clip's min and max. */
export interface FusedActivation { kind: ConvActivationKind; alpha?: number; beta?: number; min?: number; max?: number }

/** The colour family the HTML report draws a node in (anything else is 'data'). */
export type DisplayFamily = 'conv' | 'matmul' | 'attn' | 'norm' | 'act' | 'pool' | 'math';

/** What a pass may ask about a node; answered from the definition the node resolves to (none: no facts). */
export interface OpFacts {
  elementwise(n: Node): Elementwise | undefined;
  /** `n` as a conv activation, reading its attributes and constant inputs (from `constants`); undefined when it has
   *  no fused form (or not with these attributes, e.g. Elu with alpha ≠ 1, Clip with a computed bound). */
  activation(n: Node, constants: ReadonlyMap<string, ConstTensor>): FusedActivation | undefined;
  /** The activation y·n(y) is, when `n` is its gate (Sigmoid: SiLU; HardSigmoid(1/6, ½): HardSwish). */
  gate(n: Node, constants: ReadonlyMap<string, ConstTensor>): FusedActivation | undefined;
}
