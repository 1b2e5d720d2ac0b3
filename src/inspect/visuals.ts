// Small pictures of traced tensors for the HTML report: feature-map thumbnails of convolution outputs (first
// channels, box-downsampled, each scaled to its own range) and attention maps (the class token's attention over
// the patch grid, per head) either from a Softmax's probabilities or recomputed from a fused attention's q and k.
// Pixel payloads are base64 of uint8 arrays, so the JSON document and the HTML page carry them as they are.

import type { HostTensor } from '../runtime/trace.js';
import { rowEntropy, type Entropy } from './stats.js';

export interface FeatureMaps {
  /** Channels of the output, and how many are shown (the first ones). */
  channels: number;
  shown: number;
  /** Thumbnail size, and the feature map's own size. */
  width: number;
  height: number;
  srcWidth: number;
  srcHeight: number;
  /** Per shown channel: the min and max that map to 0 and 255. */
  ranges: [number, number][];
  /** base64 of shown × height × width uint8 values, channel-major. */
  data: string;
}

export interface AttentionMaps {
  heads: number;
  tokens: number;
  /** Patch grid side (tokens = 1 + grid², the first token being the class token). */
  grid: number;
  /** base64 of heads × grid² uint8: the class token's attention over the patches, each head scaled to its max. */
  cls: string;
  /** Per head: the largest class-token attention to a patch (what 255 stands for). */
  clsMax: number[];
  /** Per head: mean row entropy in nats. */
  entropy: number[];
  source: 'softmax' | 'qk';
}

const b64 = (u8: Uint8Array) => Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength).toString('base64');

export interface FeatureMapOptions {
  channels?: number;   // default 16
  size?: number;       // longest thumbnail side, default 28
}

/** Thumbnails of batch 0 of a 4-D feature map in NCHW or NHWC layout. */
export function featureMaps(t: HostTensor, layout: 'NCHW' | 'NHWC', opts: FeatureMapOptions = {}): FeatureMaps | undefined {
  if (t.dims.length !== 4 || !(t.data instanceof Float32Array)) return undefined;
  const [c, h, w] = layout === 'NCHW' ? [t.dims[1]!, t.dims[2]!, t.dims[3]!] : [t.dims[3]!, t.dims[1]!, t.dims[2]!];
  const x = t.data;
  const at = layout === 'NCHW' ? (ch: number, i: number, j: number) => x[(ch * h + i) * w + j]! : (ch: number, i: number, j: number) => x[(i * w + j) * c + ch]!;
  const shown = Math.min(c, opts.channels ?? 16);
  const f = Math.max(1, Math.ceil(Math.max(h, w) / (opts.size ?? 28)));
  const th = Math.ceil(h / f), tw = Math.ceil(w / f);
  const out = new Uint8Array(shown * th * tw);
  const ranges: [number, number][] = [];
  const cell = new Float32Array(th * tw);
  for (let ch = 0; ch < shown; ch++) {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < th; i++) {
      for (let j = 0; j < tw; j++) {
        let s = 0, n = 0;
        for (let y = i * f; y < Math.min(h, (i + 1) * f); y++) for (let xx = j * f; xx < Math.min(w, (j + 1) * f); xx++) { s += at(ch, y, xx); n++; }
        const v = s / n;
        cell[i * tw + j] = v;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    const span = hi > lo ? hi - lo : 1;
    for (let k = 0; k < th * tw; k++) out[ch * th * tw + k] = Math.round((255 * (cell[k]! - lo)) / span);
    ranges.push([lo, hi]);
  }
  return { channels: c, shown, width: tw, height: th, srcWidth: w, srcHeight: h, ranges, data: b64(out) };
}

/** Side of the patch grid when `tokens` = 1 (class token) + side²; undefined otherwise. */
function gridOf(tokens: number): number | undefined {
  const s = Math.round(Math.sqrt(tokens - 1));
  return s > 0 && s * s === tokens - 1 ? s : undefined;
}

/** probs: batch 0's [heads, N, N] rows, row-major. */
function mapsFrom(probs: Float32Array, heads: number, n: number, source: AttentionMaps['source']): AttentionMaps | undefined {
  const grid = gridOf(n);
  const entropy = Array.from({ length: heads }, (_, h) => rowEntropy(probs.subarray(h * n * n, (h + 1) * n * n), n).mean);
  if (!grid) return undefined;
  const cls = new Uint8Array(heads * grid * grid);
  const clsMax: number[] = [];
  for (let h = 0; h < heads; h++) {
    const row = probs.subarray(h * n * n + 1, h * n * n + n);   // class token's row, patches only
    let m = 0;
    for (const v of row) if (v > m) m = v;
    clsMax.push(m);
    for (let k = 0; k < row.length; k++) cls[h * grid * grid + k] = m > 0 ? Math.round((255 * row[k]!) / m) : 0;
  }
  return { heads, tokens: n, grid, cls: b64(cls), clsMax, entropy, source };
}

/** From a Softmax output [B, heads, N, N]: maps of batch 0, and the mean row entropy over everything. */
export function attentionFromProbs(t: HostTensor): { maps?: AttentionMaps; entropy: Entropy } | undefined {
  const [, heads, n, n2] = t.dims;
  if (t.dims.length !== 4 || n !== n2 || !(t.data instanceof Float32Array)) return undefined;
  return { maps: mapsFrom(t.data.subarray(0, heads! * n! * n!), heads!, n!, 'softmax'), entropy: rowEntropy(t.data, n!) };
}

/**
 * Recomputes batch 0's attention probabilities softmax(scale·Q·Kᵀ) per head from a fused attention's q [B, Nq, H·D]
 * and k [B, Nk, H·D] ('nbc' layout: sequence first), for self-attention (Nq = Nk).
 */
export function attentionFromQK(q: HostTensor, k: HostTensor, heads: number, scale: number, seqFirst: boolean):
  { maps?: AttentionMaps; entropy: Entropy } | undefined {
  if (!(q.data instanceof Float32Array) || !(k.data instanceof Float32Array) || q.dims.length !== 3) return undefined;
  const [nq, b, c] = seqFirst ? [q.dims[0]!, q.dims[1]!, q.dims[2]!] : [q.dims[1]!, q.dims[0]!, q.dims[2]!];
  const nk = seqFirst ? k.dims[0]! : k.dims[1]!;
  if (nq !== nk) return undefined;
  const d = c / heads;
  // Element (token t, channel ch) of batch 0.
  const idx = seqFirst ? (t: number, ch: number) => t * b * c + ch : (t: number, ch: number) => t * c + ch;
  const probs = new Float32Array(heads * nq * nk);
  const qd = q.data, kd = k.data;
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < nq; i++) {
      const row = probs.subarray((h * nq + i) * nk, (h * nq + i + 1) * nk);
      const qi = idx(i, h * d);
      let m = -Infinity;
      for (let j = 0; j < nk; j++) {
        const kj = idx(j, h * d);
        let s = 0;
        for (let e = 0; e < d; e++) s += qd[qi + e]! * kd[kj + e]!;
        row[j] = s * scale;
        if (row[j]! > m) m = row[j]!;
      }
      let z = 0;
      for (let j = 0; j < nk; j++) { row[j] = Math.exp(row[j]! - m); z += row[j]!; }
      for (let j = 0; j < nk; j++) row[j] = row[j]! / z;
    }
  }
  return { maps: mapsFrom(probs, heads, nq, 'qk'), entropy: rowEntropy(probs, nk) };
}
