// Builds ViTForImageClassification (Hugging Face modeling_vit, eager attention, erf GELU) as the IR graph that
// torch.onnx.export writes at opset 14: same node order, op types, attributes, shape-arithmetic chains and names
// as shared/fixtures/vit-hf-tiny-op14, at any size. Weights are seeded random (never pretrained).
// Layout: pixel_values [batch_size, 3, image, image] float32 → logits [batch_size, labels]; ir_version 7.

import { GraphBuilder } from '../../src/ir/builder.js';
import type { ConstTensor, Model } from '../../src/ir/graph.js';
import { constTensor } from '../../src/ir/tensor.js';
import { SeededNormal } from './seeded-normal.js';
import { TorchScopes, axesConstant, linearWeightName, type LinearName } from './torch-names.js';

export interface ViTConfig {
  hidden: number;
  layers: number;
  heads: number;
  mlp: number;        // intermediate_size
  patch: number;
  image: number;
  labels: number;
  eps: number;        // layer_norm_eps
  seed: number;
  channels?: number;  // default 3
}

/** google/vit-base-patch16-224's shape (config.json in hf-config/). */
export const VIT_B16: Omit<ViTConfig, 'seed'> = {
  hidden: 768, layers: 12, heads: 12, mlp: 3072, patch: 16, image: 224, labels: 1000, eps: 1e-12,
};

/** How each parameter is drawn: HF's initializer_range 0.02 for weights, biases and embeddings; LayerNorm
 *  gamma 1 + N(0, 0.1) and beta N(0, 0.1) so that the norm's affine part is not the identity. */
type Init = 'normal' | 'gamma' | 'beta';
export interface ParamSpec { name: string; dims: number[]; init: Init }

const STD = 0.02;
const LN_STD = 0.1;

/** Every initializer, in the order the exporter writes them. */
export function vitParameters(cfg: ViTConfig): ParamSpec[] {
  const { hidden: h, mlp, labels, patch, layers } = cfg;
  const tokens = (cfg.image / patch) ** 2 + 1;
  const p = (name: string, dims: number[], init: Init = 'normal'): ParamSpec => ({ name, dims, init });
  const specs = [
    p('vit.embeddings.cls_token', [1, 1, h]),
    p('vit.embeddings.position_embeddings', [1, tokens, h]),
    p('vit.embeddings.patch_embeddings.projection.weight', [h, cfg.channels ?? 3, patch, patch]),
    p('vit.embeddings.patch_embeddings.projection.bias', [h]),
  ];
  for (let l = 0; l < layers; l++) {
    const pre = `vit.encoder.layer.${l}`;
    specs.push(
      p(`${pre}.attention.attention.query.bias`, [h]), p(`${pre}.attention.attention.key.bias`, [h]),
      p(`${pre}.attention.attention.value.bias`, [h]), p(`${pre}.attention.output.dense.bias`, [h]),
      p(`${pre}.intermediate.dense.bias`, [mlp]), p(`${pre}.output.dense.bias`, [h]),
      p(`${pre}.layernorm_before.weight`, [h], 'gamma'), p(`${pre}.layernorm_before.bias`, [h], 'beta'),
      p(`${pre}.layernorm_after.weight`, [h], 'gamma'), p(`${pre}.layernorm_after.bias`, [h], 'beta'));
  }
  specs.push(p('vit.layernorm.weight', [h], 'gamma'), p('vit.layernorm.bias', [h], 'beta'),
    p('classifier.weight', [labels, h]), p('classifier.bias', [labels]));
  const linear: [LinearName, number, number][] = [
    ['query', h, h], ['key', h, h], ['value', h, h], ['attnOut', h, h], ['intermediate', h, mlp], ['output', mlp, h]];
  for (let l = 0; l < layers; l++) {
    for (const [which, fanIn, fanOut] of linear) specs.push(p(linearWeightName(layers, l, which), [fanIn, fanOut]));
  }
  return specs;
}

function drawParameter(rng: SeededNormal, spec: ParamSpec): ConstTensor {
  const n = spec.dims.reduce((a, d) => a * d, 1);
  const data = spec.init === 'gamma' ? rng.fill(n, LN_STD, 1) : rng.fill(n, spec.init === 'beta' ? LN_STD : STD);
  return { dtype: 'float32', dims: spec.dims, data };
}

const i64 = (v: number | number[]) => (Array.isArray(v) ? constTensor('int64', [v.length], v) : constTensor('int64', [], [v]));
const f32 = (v: number) => constTensor('float32', [], [v]);
const FLOAT_ONE = { type: 'float', value: 1 } as const;

/** The graph's pieces, each emitting nodes in the exporter's order through one TorchScopes. */
class ViTEmitter {
  constructor(private readonly t: TorchScopes, private readonly cfg: ViTConfig) {}

  private get headDim(): number { return this.cfg.hidden / this.cfg.heads; }

  /** Patch embedding, CLS token (expanded to the runtime batch), position embeddings. Returns [tokens, cls index]. */
  embeddings(pixels: string): [string, string] {
    const { t, cfg } = this;
    const E = '/vit/embeddings';
    const P = `${E}/patch_embeddings`;
    const clsIndex = t.constant(E, i64(0));
    const batch = t.op(E, 'Gather', [t.op(E, 'Shape', [pixels]), t.constant(E, i64(0))], { axis: 0 });
    const conv = t.op(`${P}/projection`, 'Conv',
      [pixels, 'vit.embeddings.patch_embeddings.projection.weight', 'vit.embeddings.patch_embeddings.projection.bias'],
      { dilations: [1, 1], group: 1, kernel_shape: [cfg.patch, cfg.patch], pads: [0, 0, 0, 0], strides: [cfg.patch, cfg.patch] });
    // flatten(2): Reshape to shape[0:2] ++ [-1], then transpose(1, 2): (batch, patches, hidden)
    const convShape = t.op(P, 'Shape', [conv]);
    const axes = t.constant(P, i64([0]));
    const starts = t.constant(P, i64([0]));
    const ends = t.constant(P, i64([2]));
    const lead = t.op(P, 'Slice', [convShape, starts, ends, axes]);
    const flatShape = t.op(P, 'Concat', [lead, t.constant(P, i64([-1]))], { axis: 0 });
    const flat = t.op(P, 'Reshape', [conv, flatShape], { allowzero: 0 });
    const patches = t.op(P, 'Transpose', [flat], { perm: [0, 2, 1] });
    // cls_token.expand(batch, -1, -1): the exporter's Where(shape == -1, 1, shape) dance
    const batch1 = t.op(E, 'Unsqueeze', [batch, t.constant(E, i64([0]))]);
    const expandArgs = t.op(E, 'Concat', [batch1, t.constant(E, i64([-1])), t.constant(E, i64([-1]))], { axis: 0 });
    const target = t.op(E, 'Reshape', [expandArgs, t.constant(E, i64([-1]))], { allowzero: 0 });
    const ones = t.op(E, 'ConstantOfShape', [t.op(E, 'Shape', [target])], { value: i64([1]) });
    const minusOnes = t.op(E, 'Mul', [ones, t.constant(E, i64(-1))]);
    const isMinusOne = t.op(E, 'Equal', [target, minusOnes]);
    const expandShape = t.op(E, 'Where', [isMinusOne, ones, target]);
    const cls = t.op(E, 'Expand', ['vit.embeddings.cls_token', expandShape]);
    const tokens = t.op(E, 'Concat', [cls, patches], { axis: 1 });
    return [t.op(E, 'Add', [tokens, 'vit.embeddings.position_embeddings']), clsIndex];
  }

  /** Decomposed LayerNorm over the last axis, as torch exports it below opset 17. */
  layerNorm(scope: string, x: string, param: string): string {
    const { t } = this;
    const centered = t.op(scope, 'Sub', [x, t.op(scope, 'ReduceMean', [x], { axes: [-1] })]);
    const squared = t.op(scope, 'Pow', [centered, t.constant(scope, f32(2))]);
    const variance = t.op(scope, 'ReduceMean', [squared], { axes: [-1] });
    const std = t.op(scope, 'Sqrt', [t.op(scope, 'Add', [variance, t.constant(scope, f32(this.cfg.eps))])]);
    const normed = t.op(scope, 'Div', [centered, std]);
    return t.op(scope, 'Add', [t.op(scope, 'Mul', [normed, `${param}.weight`]), `${param}.bias`]);
  }

  /** nn.Linear as MatMul by the folded [in, out] weight, then Add(bias, ·) (bias first, as exported). */
  linear(scope: string, x: string, weight: string, bias: string): string {
    return this.t.op(scope, 'Add', [bias, this.t.op(scope, 'MatMul', [x, weight])]);
  }

  /** x.view(x.size(0), x.size(1), ...tail) with the two leading sizes read at run time. */
  private viewKeepingTwo(scope: string, x: string, layer: number, firstAxes: number, tail: number[]): string {
    const { t } = this;
    const lead = [0, 1].map(axis => t.op(scope, 'Gather', [t.op(scope, 'Shape', [x]), t.constant(scope, i64(axis))], { axis: 0 }));
    const unsqueezed = lead.map((size, i) => {
      const c = axesConstant(layer, firstAxes + i);
      return t.op(scope, 'Unsqueeze', [size, t.globalConstant(c.node, c.value, i64([0]))]);
    });
    const shape = t.op(scope, 'Concat', [...unsqueezed, ...tail.map(d => t.constant(scope, i64([d])))], { axis: 0 });
    return t.op(scope, 'Reshape', [x, shape], { allowzero: 0 });
  }

  attention(layerIdx: number, x: string): string {
    const { t, cfg } = this;
    const L = `/vit/encoder/layer.${layerIdx}`;
    const A = `${L}/attention/attention`;
    const pre = `vit.encoder.layer.${layerIdx}.attention.attention`;
    const w = (which: LinearName) => linearWeightName(cfg.layers, layerIdx, which);
    const heads = [cfg.heads, this.headDim];
    const q = this.linear(`${A}/query`, x, w('query'), `${pre}.query.bias`);
    const k = this.linear(`${A}/key`, x, w('key'), `${pre}.key.bias`);
    const kHeads = this.viewKeepingTwo(A, k, layerIdx, 0, heads);                  // (batch, tokens, heads, headDim)
    const v = this.linear(`${A}/value`, x, w('value'), `${pre}.value.bias`);
    const vT = t.op(A, 'Transpose', [this.viewKeepingTwo(A, v, layerIdx, 2, heads)], { perm: [0, 2, 1, 3] });
    const qT = t.op(A, 'Transpose', [this.viewKeepingTwo(A, q, layerIdx, 4, heads)], { perm: [0, 2, 1, 3] });
    const kT = t.op(A, 'Transpose', [kHeads], { perm: [0, 2, 3, 1] });            // (batch, heads, headDim, tokens)
    const scores = t.op(A, 'MatMul', [qT, kT]);                                     // (batch, heads, tokens, tokens)
    const scaled = t.op(A, 'Div', [scores, t.constant(A, f32(Math.sqrt(this.headDim)))]);
    const probs = t.op(A, 'Softmax', [scaled], { axis: -1 });
    const context = t.op(A, 'Transpose', [t.op(A, 'MatMul', [probs, vT])], { perm: [0, 2, 1, 3] });
    const merged = this.viewKeepingTwo(A, context, layerIdx, 6, [cfg.hidden]);     // (batch, tokens, hidden)
    return this.linear(`${L}/attention/output/dense`, merged, w('attnOut'), `vit.encoder.layer.${layerIdx}.attention.output.dense.bias`);
  }

  /** Exact GELU: x · (erf(x / √2) + 1) · 0.5. */
  gelu(scope: string, x: string): string {
    const { t } = this;
    const erf = t.op(scope, 'Erf', [t.op(scope, 'Div', [x, t.constant(scope, f32(Math.SQRT2))])]);
    const onePlus = t.op(scope, 'Add', [erf, t.constant(scope, f32(1))]);
    return t.op(scope, 'Mul', [t.op(scope, 'Mul', [x, onePlus]), t.constant(scope, f32(0.5))]);
  }

  /** Pre-norm transformer block: x + attn(LN(x)), then h + mlp(LN(h)). */
  layer(l: number, x: string): string {
    const { t, cfg } = this;
    const L = `/vit/encoder/layer.${l}`;
    const pre = `vit.encoder.layer.${l}`;
    const attn = this.attention(l, this.layerNorm(`${L}/layernorm_before`, x, `${pre}.layernorm_before`));
    const h = t.op(L, 'Add', [attn, x]);
    const normed = this.layerNorm(`${L}/layernorm_after`, h, `${pre}.layernorm_after`);
    const inter = this.linear(`${L}/intermediate/dense`, normed, linearWeightName(cfg.layers, l, 'intermediate'), `${pre}.intermediate.dense.bias`);
    const act = this.gelu(`${L}/intermediate/intermediate_act_fn`, inter);
    const out = this.linear(`${L}/output/dense`, act, linearWeightName(cfg.layers, l, 'output'), `${pre}.output.dense.bias`);
    return t.op(`${L}/output`, 'Add', [out, h]);
  }

  /** Final LayerNorm, CLS token (Gather index 0 on axis 1), classifier Gemm. */
  head(x: string, clsIndex: string, output: string): string {
    const { t } = this;
    const normed = this.layerNorm('/vit/layernorm', x, 'vit.layernorm');
    const cls = t.op('', 'Gather', [normed, clsIndex], { axis: 1 });
    return t.op('/classifier', 'Gemm', [cls, 'classifier.weight', 'classifier.bias'],
      { alpha: FLOAT_ONE, beta: FLOAT_ONE, transB: 1 }, output);
  }
}

function checkConfig(cfg: ViTConfig): void {
  const bad = (msg: string) => { throw new RangeError(`buildViT: ${msg} (config ${JSON.stringify(cfg)})`); };
  for (const k of ['hidden', 'layers', 'heads', 'mlp', 'patch', 'image', 'labels'] as const) {
    if (!Number.isInteger(cfg[k]) || cfg[k] <= 0) bad(`${k} must be a positive integer, got ${cfg[k]}`);
  }
  if (cfg.hidden % cfg.heads) bad(`hidden ${cfg.hidden} is not divisible by heads ${cfg.heads}`);
  if (cfg.image % cfg.patch) bad(`image ${cfg.image} is not divisible by patch ${cfg.patch}`);
  if (!(cfg.eps > 0)) bad(`eps must be > 0, got ${cfg.eps}`);
}

export interface BuildOptions {
  /** Called after each parameter is drawn: (parameters done, total parameter values). */
  onProgress?: (done: number, total: number) => void;
}

/** The whole model: graph in export order plus seeded initializers. */
export function buildViT(cfg: ViTConfig, opts: BuildOptions = {}): Model {
  checkConfig(cfg);
  const b = new GraphBuilder('torch_jit');
  const specs = vitParameters(cfg);
  const total = specs.reduce((a, s) => a + s.dims.reduce((x, d) => x * d, 1), 0);
  const rng = new SeededNormal(cfg.seed);
  let done = 0;
  for (const spec of specs) {
    const tensor = drawParameter(rng, spec);
    b.init(spec.name, tensor);
    done += tensor.data.length;
    opts.onProgress?.(done, total);
  }

  const pixels = b.input('pixel_values', 'float32', ['batch_size', cfg.channels ?? 3, cfg.image, cfg.image]);
  const emit = new ViTEmitter(new TorchScopes(b), cfg);
  let [x, clsIndex] = emit.embeddings(pixels);
  for (let l = 0; l < cfg.layers; l++) x = emit.layer(l, x);
  emit.head(x, clsIndex, b.output('logits', 'float32', ['batch_size', cfg.labels]));

  return b.model(14, {
    irVersion: 7,
    producerName: 'ocellus weights-tools/vit',
    producerVersion: '0.1.0',
    docString: `ViTForImageClassification structured as the torch.onnx.export opset-14 graph, seeded random weights (seed ${cfg.seed}), not pretrained`,
    metadata: { seed: String(cfg.seed), config: JSON.stringify(cfg), weights: 'seeded-random' },
  });
}

/** Number of parameter values (all initializers). */
export function countParameters(m: Model): number {
  let n = 0;
  for (const t of m.graph.initializers.values()) n += t.data.length;
  return n;
}
