// Node and value names as torch.onnx.export (torch 1.13, opset 14) writes them for HF ViTForImageClassification.
// Scoped nodes are `<module path>/<OpType>[_k]` (k counts per scope and op type) with output `<name>_output_0`.
// Unscoped ones carry torch's global numbers: `Constant_<node#>` → `onnx::Unsqueeze_<value#>`, weights
// `onnx::MatMul_<value#>`. Those numbers depend only on the layer count; the constants below are calibrated on
// the 2-layer fixture export (shared/fixtures/vit-hf-tiny-op14) and reproduce it exactly; deeper models follow
// the same per-layer strides (plausible, not checked against a real 12-layer export).

import type { ConstTensor } from '../../src/ir/graph.js';
import { GraphBuilder, type AttrInput } from '../../src/ir/builder.js';

/** Adds nodes named the way the torch exporter names them. */
export class TorchScopes {
  private counts = new Map<string, number>();

  constructor(readonly b: GraphBuilder) {}

  /** `scope` is the module path ('/vit/embeddings', '' for the top level); returns the single output's name. */
  op(scope: string, opType: string, inputs: string[], attrs: Record<string, AttrInput> = {}, output?: string): string {
    const key = `${scope}/${opType}`;
    const k = this.counts.get(key) ?? 0;
    this.counts.set(key, k + 1);
    const name = k === 0 ? key : `${key}_${k}`;
    return this.b.node(opType, inputs, attrs, { name, outputs: [output ?? `${name}_output_0`] })[0]!;
  }

  constant(scope: string, value: ConstTensor): string {
    return this.op(scope, 'Constant', [], { value });
  }

  /** A Constant outside any module scope, as torch emits for Unsqueeze axes. */
  globalConstant(nodeNumber: number, valueName: string, value: ConstTensor): string {
    return this.b.node('Constant', [], { value }, { name: `Constant_${nodeNumber}`, outputs: [valueName] })[0]!;
  }
}

// The 8 unscoped Unsqueeze-axes Constants per layer (2 for each of key, value, query head splits and the merge).
const AXES_NODE_FIRST = 51;
const AXES_NODE_PER_LAYER = 108;
const AXES_NODE_OFFSETS = [0, 2, 16, 18, 31, 33, 53, 55];
const AXES_VALUE_FIRST = 99;
const AXES_VALUE_PER_LAYER = 121;
const AXES_VALUE_OFFSETS = [0, 2, 19, 21, 36, 38, 60, 62];
// Layer 0 numbers one extra value before its merge step, which shifts everything after it by one.
const LAYER0_EXTRA_BEFORE = 6;
// Folded, transposed Linear weights are numbered after the last traced value, 13 per layer.
const WEIGHT_FIRST_AFTER_LAYERS = 92;
const WEIGHT_PER_LAYER = 13;
const WEIGHT_OFFSETS = { query: 0, key: 1, value: 4, attnOut: 10, intermediate: 11, output: 12 } as const;

export type LinearName = keyof typeof WEIGHT_OFFSETS;

/** The k-th (0..7) Unsqueeze-axes Constant of a layer: node number and output value name. */
export function axesConstant(layer: number, k: number): { node: number; value: string } {
  const node = AXES_NODE_FIRST + AXES_NODE_PER_LAYER * layer + AXES_NODE_OFFSETS[k]!;
  const shift = layer > 0 || k >= LAYER0_EXTRA_BEFORE ? 1 : 0;
  const value = AXES_VALUE_FIRST + AXES_VALUE_PER_LAYER * layer + AXES_VALUE_OFFSETS[k]! + shift;
  return { node, value: `onnx::Unsqueeze_${value}` };
}

/** Initializer name of a layer's transposed Linear weight ([in, out]) in a model of `layers` layers. */
export function linearWeightName(layers: number, layer: number, which: LinearName): string {
  const first = WEIGHT_FIRST_AFTER_LAYERS + AXES_VALUE_PER_LAYER * layers;
  return `onnx::MatMul_${first + WEIGHT_PER_LAYER * layer + WEIGHT_OFFSETS[which]}`;
}
