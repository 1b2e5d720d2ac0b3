// Plain-TypeScript forward pass of ViTForImageClassification (HF modeling_vit, eager attention, erf GELU),
// written from the architecture, not from the ONNX graph: a reference for checking generated graphs.
// Reads weights by the names buildViT gives its initializers; float64 accumulation; slow (tiny configs only).

import type { ConstTensor } from '../../src/ir/graph.js';
import type { ViTConfig } from './build-vit.js';
import { linearWeightName, type LinearName } from './torch-names.js';

type Weights = ReadonlyMap<string, ConstTensor>;
type Mat = Float64Array;  // row-major (rows, cols)

function param(w: Weights, name: string): Float32Array {
  const t = w.get(name);
  if (!t) throw new Error(`reference forward: missing weight '${name}'`);
  return t.data as Float32Array;
}

/** y = x·W + b with x (rows, fanIn), W (fanIn, fanOut). */
function linear(x: Mat, rows: number, W: Float32Array, b: Float32Array, fanIn: number, fanOut: number): Mat {
  const y = new Float64Array(rows * fanOut);
  for (let r = 0; r < rows; r++) {
    const yr = r * fanOut;
    for (let o = 0; o < fanOut; o++) y[yr + o] = b[o]!;
    for (let i = 0; i < fanIn; i++) {
      const xv = x[r * fanIn + i]!;
      const wr = i * fanOut;
      for (let o = 0; o < fanOut; o++) y[yr + o] = y[yr + o]! + xv * W[wr + o]!;
    }
  }
  return y;
}

function layerNorm(x: Mat, rows: number, d: number, gamma: Float32Array, beta: Float32Array, eps: number): Mat {
  const y = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let i = 0; i < d; i++) mean += x[r * d + i]!;
    mean /= d;
    let variance = 0;
    for (let i = 0; i < d; i++) variance += (x[r * d + i]! - mean) ** 2;
    const inv = 1 / Math.sqrt(variance / d + eps);
    for (let i = 0; i < d; i++) y[r * d + i] = (x[r * d + i]! - mean) * inv * gamma[i]! + beta[i]!;
  }
  return y;
}

/** erf in float64: Maclaurin series below |x| = 2, the erfc continued fraction above (both ~1e-14 accurate). */
function erf(x: number): number {
  if (Math.abs(x) < 2) {
    let sum = x, term = x;
    for (let n = 1; n < 60; n++) {
      term *= -x * x / n;
      sum += term / (2 * n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // |x| ≥ 2: continued fraction for erfc
  const ax = Math.abs(x);
  let f = 0;
  for (let k = 60; k >= 1; k--) f = (k / 2) / (ax + f);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  return Math.sign(x) * (1 - erfc);
}

const gelu = (v: number) => 0.5 * v * (1 + erf(v / Math.SQRT2));

/** Multi-head self-attention on (tokens, hidden) → (tokens, hidden), before the output projection. */
function selfAttention(q: Mat, k: Mat, v: Mat, tokens: number, hidden: number, heads: number): Mat {
  const hd = hidden / heads;
  const out = new Float64Array(tokens * hidden);
  const scores = new Float64Array(tokens);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < tokens; i++) {
      let max = -Infinity;
      for (let j = 0; j < tokens; j++) {
        let s = 0;
        for (let c = 0; c < hd; c++) s += q[i * hidden + h * hd + c]! * k[j * hidden + h * hd + c]!;
        scores[j] = s / Math.sqrt(hd);
        if (scores[j]! > max) max = scores[j]!;
      }
      let z = 0;
      for (let j = 0; j < tokens; j++) z += (scores[j] = Math.exp(scores[j]! - max));
      for (let j = 0; j < tokens; j++) {
        const p = scores[j]! / z;
        const o = i * hidden + h * hd, vj = j * hidden + h * hd;
        for (let c = 0; c < hd; c++) out[o + c] = out[o + c]! + p * v[vj + c]!;
      }
    }
  }
  return out;
}

/** Patch embedding (conv stride = kernel = patch), CLS token first, plus position embeddings: (tokens, hidden). */
function embed(w: Weights, cfg: ViTConfig, img: Float32Array): Mat {
  const { hidden, patch, image } = cfg;
  const ch = cfg.channels ?? 3;
  const grid = image / patch;
  const tokens = grid * grid + 1;
  const W = param(w, 'vit.embeddings.patch_embeddings.projection.weight');  // (hidden, ch, patch, patch)
  const B = param(w, 'vit.embeddings.patch_embeddings.projection.bias');
  const cls = param(w, 'vit.embeddings.cls_token');
  const pos = param(w, 'vit.embeddings.position_embeddings');
  const x = new Float64Array(tokens * hidden);
  for (let o = 0; o < hidden; o++) x[o] = cls[o]!;
  for (let py = 0; py < grid; py++) {
    for (let px = 0; px < grid; px++) {
      const row = 1 + py * grid + px;
      for (let o = 0; o < hidden; o++) {
        let s = B[o]!;
        for (let c = 0; c < ch; c++) {
          for (let ky = 0; ky < patch; ky++) {
            const wBase = ((o * ch + c) * patch + ky) * patch;
            const iBase = (c * image + py * patch + ky) * image + px * patch;
            for (let kx = 0; kx < patch; kx++) s += W[wBase + kx]! * img[iBase + kx]!;
          }
        }
        x[row * hidden + o] = s;
      }
    }
  }
  for (let i = 0; i < x.length; i++) x[i] = x[i]! + pos[i]!;
  return x;
}

function encoderLayer(w: Weights, cfg: ViTConfig, l: number, x: Mat, tokens: number): Mat {
  const { hidden: h, mlp, heads, eps } = cfg;
  const pre = `vit.encoder.layer.${l}`;
  const W = (which: LinearName) => param(w, linearWeightName(cfg.layers, l, which));
  const ln1 = layerNorm(x, tokens, h, param(w, `${pre}.layernorm_before.weight`), param(w, `${pre}.layernorm_before.bias`), eps);
  const q = linear(ln1, tokens, W('query'), param(w, `${pre}.attention.attention.query.bias`), h, h);
  const k = linear(ln1, tokens, W('key'), param(w, `${pre}.attention.attention.key.bias`), h, h);
  const v = linear(ln1, tokens, W('value'), param(w, `${pre}.attention.attention.value.bias`), h, h);
  const ctx = selfAttention(q, k, v, tokens, h, heads);
  const attn = linear(ctx, tokens, W('attnOut'), param(w, `${pre}.attention.output.dense.bias`), h, h);
  const res1 = attn.map((a, i) => a + x[i]!);
  const ln2 = layerNorm(res1, tokens, h, param(w, `${pre}.layernorm_after.weight`), param(w, `${pre}.layernorm_after.bias`), eps);
  const inter = linear(ln2, tokens, W('intermediate'), param(w, `${pre}.intermediate.dense.bias`), h, mlp).map(gelu);
  const out = linear(inter, tokens, W('output'), param(w, `${pre}.output.dense.bias`), mlp, h);
  return out.map((o, i) => o + res1[i]!);
}

/** logits (batch, labels) for pixels (batch, channels, image, image). */
export function referenceForward(w: Weights, cfg: ViTConfig, pixels: Float32Array, batch: number): Float32Array {
  const { hidden: h, labels, image } = cfg;
  const tokens = (image / cfg.patch) ** 2 + 1;
  const per = (cfg.channels ?? 3) * image * image;
  const logits = new Float32Array(batch * labels);
  const Wc = param(w, 'classifier.weight');  // (labels, hidden): Gemm transB
  const Bc = param(w, 'classifier.bias');
  for (let n = 0; n < batch; n++) {
    let x = embed(w, cfg, pixels.subarray(n * per, (n + 1) * per));
    for (let l = 0; l < cfg.layers; l++) x = encoderLayer(w, cfg, l, x, tokens);
    const clsRow = layerNorm(x.subarray(0, h), 1, h, param(w, 'vit.layernorm.weight'), param(w, 'vit.layernorm.bias'), cfg.eps);
    for (let o = 0; o < labels; o++) {
      let s = Bc[o]!;
      for (let i = 0; i < h; i++) s += clsRow[i]! * Wc[o * h + i]!;
      logits[n * labels + o] = s;
    }
  }
  return logits;
}
