// local:Attention (softmax(scale·Q·Kᵀ)·V per head), written by the fuse-attention pass. Float32 only. It runs on
// ocellus's WASM kernel (kernels/wasm) where it can; otherwise head by head on tfjs, because the WASM backend's
// matMul takes its XNNPACK path only for unbatched, untransposed operands (5–10× faster here). The other fused
// transformer operators, local:LayerNorm and local:Gelu, live in norm.ts beside LayerNormalization.

import * as tf from '@tensorflow/tfjs-core';
import { op, type InferView, type NodeView, type OpDef } from './types.js';
import { floatInput } from './check.js';
import { dims, matrices } from './util.js';
import { attentionProduct, MAX_ATTENTION_SCORES, ownGemm } from './wasm/gemm.js';

// ---- local:Attention(q, k, v) ---------------------------------------------------------------------------------------
// layout 'bnc': q [B, Nq, H·D], k [B, Nk, H·D], v [B, Nk, H·Dv] → [B, Nq, H·Dv]   (Hugging Face ViT)
// layout 'nbc': the same with the first two axes swapped, sequence first          (torch nn.MultiheadAttention)

interface AttentionAttrs { heads: number; scale: number; seqFirst: boolean }

// Faster than the earlier slice-per-head kernel at batch 1 and 8, 1 and 2 threads (bench/RESULTS.md, "Moved from
// code comments").

/** Per-head XNNPACK products win once a head's product is big enough to amortise the extra calls. */
const PER_HEAD_MIN_MACS = 1 << 15;

const attention = op({
  opType: 'Attention', domain: 'local', since: 1, family: 'attn',
  // Q·Kᵀ (Nq×Nk×D) and A·V (Nq×Nk×Dv) per batch and head; summed over heads: C and Cv
  macs: (a: AttentionAttrs, [q, k, v]) => {
    if (!q || !k || !v) return 0;
    const [b, nq] = a.seqFirst ? [q.shape[1]!, q.shape[0]!] : [q.shape[0]!, q.shape[1]!];
    return b * nq * (a.seqFirst ? k.shape[0]! : k.shape[1]!) * (q.shape[2]! + v.shape[2]!);
  },
  parse: (n: NodeView): AttentionAttrs => {
    const heads = n.attrs.int('heads');
    n.check(heads >= 1, () => `heads must be ≥ 1, got ${heads}`);
    const layout = n.attrs.string('layout', 'bnc');
    if (layout !== 'bnc' && layout !== 'nbc') n.fail(`layout '${layout}' is not supported ('bnc' or 'nbc')`);
    return { heads, scale: n.attrs.float('scale', 1), seqFirst: layout === 'nbc' };
  },
  infer: (n: InferView, [q, k, v], a: AttentionAttrs) => {
    const [qs, ks, vs] = ([['q', q], ['k', k], ['v', v]] as const).map(([what, t]) => {
      const s = floatInput(n, t, what).shape;
      n.check(s.length === 3, () => `${what} must have rank 3, got ${dims(s)}`);
      n.check(s[2]! % a.heads === 0, () => `${what} has ${s[2]} channels, not divisible by ${a.heads} heads`);
      return a.seqFirst ? [s[1]!, s[0]!, s[2]!] : s;   // as [B, N, C]
    }) as [number[], number[], number[]];
    n.check(qs[0] === ks[0] && ks[0] === vs[0], () => `q, k and v must share the batch size, got ${dims(qs)}, ${dims(ks)}, ${dims(vs)} (as [B, N, C])`);
    n.check(qs[2] === ks[2], () => `q and k must have the same channels, got ${qs[2]} and ${ks[2]}`);
    n.check(ks[1] === vs[1], () => `k and v must have the same length, got ${ks[1]} and ${vs[1]}`);
    const out = a.seqFirst ? [qs[1]!, qs[0]!, vs[2]!] : [qs[0]!, qs[1]!, vs[2]!];
    return [{ dtype: q!.dtype, shape: out }];
  },
  run: ([q, k, v], a, c) => {
    const [, nq, e] = bnc(c.inputs[0]!.shape, a.seqFirst), [, nk] = bnc(c.inputs[1]!.shape, a.seqFirst);
    // ocellus's kernel reads the heads in place and writes the output's columns: no transposes, no per-head tensors.
    if (!a.seqFirst && q!.dtype === 'float32' && nq * nk <= MAX_ATTENTION_SCORES && ownGemm()) return [attentionProduct(q!, k!, v!, a.heads, a.scale)];
    const qs = a.scale === 1 ? q! : tf.mul(q!, a.scale);   // scaling Q costs Nq·C, scaling scores Nq·Nk·H
    // Heads split once: q [B, H, Nq, D], kT [B, H, D, Nk], v [B, H, Nk, Dv].
    const qh = toHeads(qs, a, false), kT = toHeads(k!, a, true), vh = toHeads(v!, a, false);
    const perHead = nq * (e / a.heads) * nk >= PER_HEAD_MIN_MACS;
    const o = perHead ? headByHead(qh, kT, vh) : tf.matMul(tf.softmax(tf.matMul(qh, kT)), vh);   // [B, H, Nq, Dv]
    return [tf.reshape(tf.transpose(o, a.seqFirst ? [2, 0, 1, 3] : [0, 2, 1, 3]), c.outputs[0]!.shape)];
  },
});

function bnc(s: readonly number[], seqFirst: boolean): [number, number, number] {
  return seqFirst ? [s[1]!, s[0]!, s[2]!] : [s[0]!, s[1]!, s[2]!];
}

/** [B, N, C] ('bnc') or [N, B, C] ('nbc') → [B, H, N, C/H], or [B, H, C/H, N] with `transposed`. */
function toHeads(t: tf.Tensor, a: AttentionAttrs, transposed: boolean): tf.Tensor {
  const [x, y, ch] = t.shape as [number, number, number];
  const perm = a.seqFirst ? (transposed ? [1, 2, 3, 0] : [1, 2, 0, 3]) : (transposed ? [0, 2, 3, 1] : [0, 2, 1, 3]);
  return tf.transpose(tf.reshape(t, [x, y, a.heads, ch / a.heads]), perm);
}

/**
 * softmax(q·kT)·v one (batch, head) at a time, each product an unbatched XNNPACK matMul. Each head runs in its own
 * tidy, so its scores are freed before the next head and malloc hands back the same, cache-hot blocks (faster at
 * batch 8 than keeping all B·H score matrices alive until the node ends: bench/RESULTS.md, "Moved from code comments").
 */
function headByHead(q: tf.Tensor, kT: tf.Tensor, v: tf.Tensor): tf.Tensor {
  const [b, h, nq] = q.shape as [number, number, number, number];
  const [qm, km, vm] = [q, kT, v].map(matrices);
  const outs = Array.from({ length: b * h }, (_, i) =>
    tf.tidy(() => tf.matMul(tf.softmax(tf.matMul(qm(i), km(i))), vm(i))));   // [Nq, Dv] each
  return tf.reshape(tf.stack(outs), [b, h, nq, v.shape[3]!]);
}

export const ATTENTION_OPS: OpDef<any>[] = [attention];
