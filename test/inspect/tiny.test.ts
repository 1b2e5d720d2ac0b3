// inspect on tiny hand-built graphs: MACs counted by hand, traced statistics against onnxruntime-node's values of
// every intermediate (the same graph with each value made an output), feature-map layouts, attention maps against
// a plain softmax written here, name grouping, and the runtime's traced run (inputs on request, no leaks).

import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import type { Model, Node } from '../../src/ir/graph.js';
import { ImageProcessor } from '../../src/image/preprocess.js';
import type { RawImage } from '../../src/image/types.js';
import { assignGroups } from '../../src/inspect/groups.js';
import { macsOf } from '../../src/inspect/macs.js';
import type { OpenedModel } from '../../src/inspect/model.js';
import { optimizedSummary, originalSummary, planFeeds, withSession } from '../../src/inspect/summary.js';
import { traceSession, type TraceNode } from '../../src/inspect/trace.js';
import { attentionFromProbs, attentionFromQK } from '../../src/inspect/visuals.js';
import { traceRun } from '../../src/runtime/trace.js';
import { Tensor } from '../../src/runtime/tensor.js';
import { randomConst, randomData, rng, runOrt } from '../helpers/cnn-reference.js';
import { IMAGE_SIZE, PREPROCESSOR, tinyCnn } from './helpers.js';

// ---- independent references (plain loops, nothing shared with src/inspect) ----

function refStats(x: ArrayLike<number>) {
  const a = Array.from(x);
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  return {
    min: Math.min(...a), max: Math.max(...a), mean,
    std: Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length),
    zeros: a.filter(v => v === 0).length / a.length,
  };
}

function refEntropy(p: ArrayLike<number>, row: number): number {
  let total = 0;
  const rows = p.length / row;
  for (let r = 0; r < rows; r++) for (let i = 0; i < row; i++) { const v = p[r * row + i]!; if (v > 0) total -= v * Math.log(v); }
  return total / rows;
}

const b64u8 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

// ---- MACs by hand ----

describe('MAC counts', () => {
  /** Three independent branches; every count is written out below from the shapes. */
  function macModel(): Model {
    const b = new GraphBuilder();
    // Grouped, strided conv: X [1,4,6,6], W [6, 4/2, 3, 3], group 2, stride 2, pad 1 → Y [1,6,3,3].
    const c = b.op('Conv', [b.input('x', 'float32', [1, 4, 6, 6]), b.init('w', randomConst([6, 2, 3, 3], 1)), b.init('b', randomConst([6], 2))],
      { group: 2, strides: [2, 2], pads: [1, 1, 1, 1] }, 'conv');
    b.output(b.op('Relu', [c], {}, 'relu'));
    // Batched MatMul: [1,2,3,4] × [4,5] → [1,2,3,5].
    b.output(b.op('MatMul', [b.input('m', 'float32', [1, 2, 3, 4]), b.init('mw', randomConst([4, 5], 3))], {}, 'matmul'));
    // Gemm with transA: A [4,3]ᵀ is 3×4, B [4,5] → [3,5].
    b.output(b.op('Gemm', [b.input('g', 'float32', [4, 3]), b.init('gw', randomConst([4, 5], 4))], { transA: 1 }, 'gemm'));
    return b.model(13);
  }
  const CONV = 1 * 6 * 3 * 3 * (2 * 3 * 3);   // out elements × Cin/group × kh × kw = 54 × 18 = 972
  const MATMUL = 1 * 2 * 3 * 5 * 4;            // out elements × K = 120
  const GEMM = 3 * 5 * 4;                      // M × N × K = 60

  it('counts Conv (grouped, strided), batched MatMul and Gemm(transA); Relu is 0', async () => {
    const model = macModel();
    const feeds = planFeeds(model);
    const s = await withSession(model, false, ses => originalSummary(ses, feeds));
    const by = Object.fromEntries(s.nodes.map(n => [n.name, n]));
    expect(by.conv!.macs).toBe(CONV);
    expect(by.relu!.macs).toBe(0);
    expect(by.matmul!.macs).toBe(MATMUL);
    expect(by.gemm!.macs).toBe(GEMM);
    expect(s.macs).toBe(CONV + MATMUL + GEMM);
    expect(by.conv!.params).toBe(6 * 2 * 3 * 3 + 6);
    expect(by.conv!.outputs[0]!.shape).toEqual([1, 6, 3, 3]);
  });

  it('the optimised plan (NHWC conv with fused Relu) counts the same products', async () => {
    const model = macModel();
    const feeds = planFeeds(model);
    const s = await withSession(model, true, ses => optimizedSummary(ses, feeds, model.graph.nodes.length));
    expect(Object.keys(s.ops)).toContain('local:NhwcConv');
    expect(s.nodes.find(n => n.opType === 'NhwcConv')!.macs).toBe(CONV);
    expect(s.macs).toBe(CONV + MATMUL + GEMM);
    expect(s.applied.map(a => a.pass)).toContain('fuse-conv-activation');
  });

  it('local:Attention counts Q·Kᵀ and A·V per head', () => {
    const [b, n, heads, d] = [2, 7, 3, 4];
    const node: Node = { name: 'att', opType: 'Attention', domain: 'local', inputs: ['q', 'k', 'v'], outputs: ['y'], attrs: { heads: { type: 'int', value: heads } } };
    const info = { dtype: 'float32' as const, shape: [b, n, heads * d] };
    const perHead = n * n * d /* Q·Kᵀ */ + n * n * d /* A·V */;
    expect(macsOf(node, [info, info, info], [info])).toBe(b * heads * perHead);
  });
});

// ---- a tiny CNN traced, checked against onnxruntime ----

function tinyImage(): RawImage {
  const r = rng(5);
  return { width: IMAGE_SIZE, height: IMAGE_SIZE, channels: 3, data: Uint8Array.from({ length: IMAGE_SIZE * IMAGE_SIZE * 3 }, () => Math.floor(256 * r())) };
}

function opened(model: Model): OpenedModel {
  return { id: 'tiny', model, resolved: { id: 'tiny', dir: '.', onnxPath: 'tiny.onnx', preprocessorConfig: PREPROCESSOR, config: { id2label: { 0: 'a', 1: 'b', 2: 'c', 3: 'd', 4: 'e' } } } };
}

/** onnxruntime's value of every intermediate: the same graph with each node output made a graph output. */
async function ortIntermediates(model: Model, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const g = { ...model.graph, outputs: model.graph.nodes.flatMap(n => n.outputs.map(o => ({ name: o, dtype: 'float32' as const }))) };
  return runOrt({ ...model, graph: g }, feeds);
}

describe('trace of a tiny CNN', () => {
  const image = tinyImage();
  const x = ImageProcessor.fromConfig(PREPROCESSOR).process(image);

  async function traced(optimize: boolean) {
    const model = tinyCnn();
    return withSession(model, optimize, s => {
      const before = tf.memory().numTensors;
      const t = traceSession(s, opened(model), image, 'tiny.png');
      expect(tf.memory().numTensors, 'tensors leaked by the traced run').toBe(before);
      return { t, steps: s.plan({ pixel_values: x }).steps.length };
    });
  }

  it('unfused: one record per original node, stats equal onnxruntime\'s intermediates', async () => {
    const { t, steps } = await traced(false);
    const ref = await ortIntermediates(tinyCnn(), { pixel_values: x });
    expect(t.optimize).toBe(false);
    expect(t.nodes.map(n => n.name)).toEqual(['conv', 'relu', 'gap', 'flatten', 'fc', 'softmax']);
    expect(t.nodes.length).toBe(steps);
    for (const n of t.nodes) {
      expect(n.ms).toBeGreaterThanOrEqual(0);
      const want = refStats(ref[n.outputs[0]!.name]!.data as Float32Array);
      const got = n.stats!;
      for (const k of ['min', 'max', 'mean', 'std'] as const) expect(got[k], `${n.name} ${k}`).toBeCloseTo(want[k], 4);
      expect(got.zeros, `${n.name} zeros`).toBeCloseTo(want.zeros, 6);
      expect(n.histogram!.counts.reduce((a, b) => a + b, 0)).toBe(got.count);
      expect(n.histogram!.counts[0]).toBeGreaterThan(0);           // the min falls in the first bin,
      expect(n.histogram!.counts.at(-1)).toBeGreaterThan(0);       // the max in the last
    }
    const relu = t.nodes.find(n => n.opType === 'Relu')!;
    expect(relu.stats!.zeros).toBeGreaterThan(0);
    const sm = t.nodes.find(n => n.opType === 'Softmax')!;
    expect(sm.entropy!.mean).toBeCloseTo(refEntropy(ref['softmax_output_0']!.data as Float32Array, 5), 5);
    expect(sm.entropy!.max).toBeCloseTo(Math.log(5), 10);
    expect(t.nodes.find(n => n.name === 'conv')!.macs).toBe(4 * 6 * 6 * 3 * 3 * 3);
    expect(t.predictions!.map(p => p.label).sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('conv feature maps: NCHW (unfused Conv) and NHWC (fused) thumbnails both match the reference channel', async () => {
    const ref = await ortIntermediates(tinyCnn(), { pixel_values: x });
    const expectChannel = (n: TraceNode, values: Float32Array) => {
      const fm = n.featureMaps!;
      expect([fm.channels, fm.shown, fm.width, fm.height]).toEqual([4, 4, IMAGE_SIZE, IMAGE_SIZE]);
      const px = b64u8(fm.data);
      for (let ch = 0; ch < 4; ch++) {
        const plane = values.subarray(ch * 36, ch * 36 + 36);   // NCHW reference
        const lo = Math.min(...plane), hi = Math.max(...plane);
        expect(fm.ranges[ch]![0]).toBeCloseTo(lo, 5);
        expect(fm.ranges[ch]![1]).toBeCloseTo(hi, 5);
        for (let k = 0; k < 36; k++) expect(Math.abs(px[ch * 36 + k]! - (hi > lo ? (255 * (plane[k]! - lo)) / (hi - lo) : 0))).toBeLessThanOrEqual(1);
      }
    };
    const unfused = (await traced(false)).t;
    expectChannel(unfused.nodes.find(n => n.opType === 'Conv')!, ref['conv_output_0']!.data as Float32Array);
    const fused = (await traced(true)).t;
    const conv = fused.nodes.find(n => n.opType === 'NhwcConv')!;
    expect(fused.optimize).toBe(true);
    expect(fused.nodes.map(n => n.opType)).not.toContain('Relu');   // fused into the conv
    expect(conv.outputs[0]!.shape).toEqual([1, IMAGE_SIZE, IMAGE_SIZE, 4]);
    expectChannel(conv, ref['relu_output_0']!.data as Float32Array);   // Relu fused into the conv
    expect(conv.stats!.zeros).toBeGreaterThan(0);
  });
});

// ---- attention maps ----

describe('attention maps', () => {
  const [n, heads, d, scale] = [10, 2, 3, 0.7];   // 10 tokens = class token + 3×3 patches
  const q = randomData(n * heads * d, 21, -2, 2), k = randomData(n * heads * d, 22, -2, 2);

  /** probs[h][i][j] = softmax_j(scale · q_i,h · k_j,h), q/k as [N, H·D]. */
  function refProbs(): Float32Array {
    const p = new Float32Array(heads * n * n);
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < n; i++) {
        const s = Array.from({ length: n }, (_, j) => scale * Array.from({ length: d }, (_, e) => q[i * heads * d + h * d + e]! * k[j * heads * d + h * d + e]!).reduce((a, b) => a + b, 0));
        const m = Math.max(...s), e = s.map(v => Math.exp(v - m)), z = e.reduce((a, b) => a + b, 0);
        e.forEach((v, j) => { p[(h * n + i) * n + j] = v / z; });
      }
    }
    return p;
  }

  it('from q and k equals a plain softmax(scale·Q·Kᵀ); from the probabilities gives the same maps', () => {
    const p = refProbs();
    const fromQK = attentionFromQK({ dtype: 'float32', dims: [1, n, heads * d], data: q }, { dtype: 'float32', dims: [1, n, heads * d], data: k }, heads, scale, false)!;
    const fromP = attentionFromProbs({ dtype: 'float32', dims: [1, heads, n, n], data: p })!;
    for (const r of [fromQK, fromP]) {
      expect(r.maps!.grid).toBe(3);
      expect(r.entropy.mean).toBeCloseTo(refEntropy(p, n), 5);
      const cls = b64u8(r.maps!.cls);
      for (let h = 0; h < heads; h++) {
        const row = p.subarray(h * n * n + 1, h * n * n + n);   // class token over the 9 patches
        const m = Math.max(...row);
        expect(r.maps!.clsMax[h]).toBeCloseTo(m, 5);
        expect(r.maps!.entropy[h]).toBeCloseTo(refEntropy(p.subarray(h * n * n, (h + 1) * n * n), n), 5);
        row.forEach((v, j) => expect(Math.abs(cls[h * 9 + j]! - (255 * v) / m)).toBeLessThanOrEqual(1));
      }
    }
  });

  it('sequence-first (nbc) q/k give the same maps as batch-first', () => {
    const bnc = attentionFromQK({ dtype: 'float32', dims: [1, n, heads * d], data: q }, { dtype: 'float32', dims: [1, n, heads * d], data: k }, heads, scale, false)!;
    const nbc = attentionFromQK({ dtype: 'float32', dims: [n, 1, heads * d], data: q }, { dtype: 'float32', dims: [n, 1, heads * d], data: k }, heads, scale, true)!;
    expect(nbc.maps!.cls).toBe(bnc.maps!.cls);
    expect(nbc.entropy.mean).toBeCloseTo(bnc.entropy.mean, 6);
  });
});

// ---- grouping and the runtime hook ----

describe('groups', () => {
  it('Keras blocks (both naming schemes) and torch scopes; merge/activation layers join the block before', () => {
    expect(assignGroups(['conv1_conv', 'conv2_block1_1_conv', 'conv2_block1_out', 'avg_pool'])).toEqual(['stem', 'conv2_block1', 'conv2_block1', '']);
    expect(assignGroups(['bn_conv1', 'activation', 'res2a_branch2a', 'bn2a_branch2a', 'add', 'activation_3', 'fc1000']))
      .toEqual(['stem', 'stem', 'res2a', 'res2a', 'res2a', 'res2a', '']);
    expect(assignGroups(['/vit/embeddings/Add', '/vit/encoder/layer.3/attention/attention/Softmax', '/vit/encoder/layer.3/Add_1', '/classifier/Gemm', '/Gather']))
      .toEqual(['vit/embeddings', 'vit/encoder/layer.3', 'vit/encoder/layer.3', 'classifier', '']);
  });
});

describe('traceRun (runtime)', () => {
  it('hands host copies of each step\'s outputs, and the inputs of requested steps; outputs equal an untraced run', async () => {
    const model = tinyCnn();
    const feeds = { pixel_values: new Tensor('float32', randomData(3 * IMAGE_SIZE * IMAGE_SIZE, 31), [1, 3, IMAGE_SIZE, IMAGE_SIZE]) };
    await withSession(model, false, async s => {
      const seen = new Map<string, Float32Array>();
      let gemmInputs: (Float32Array | undefined)[] = [];
      const out = traceRun(s, feeds, t => {
        t.step.node.outputs.forEach((o, i) => seen.set(o, t.outputs[i]!.data as Float32Array));
        if (t.inputs) gemmInputs = t.inputs.map(x => x?.data as Float32Array | undefined);
        else expect(t.step.node.opType).not.toBe('Gemm');
      }, { wantInputs: st => st.node.opType === 'Gemm' });
      const plain = await s.run(feeds);
      expect(Array.from(out['softmax_output_0']!.data as Float32Array)).toEqual(Array.from(plain['softmax_output_0']!.data as Float32Array));
      expect(Array.from(gemmInputs[0]!)).toEqual(Array.from(seen.get('flatten_output_0')!));       // a traced value
      expect(Array.from(gemmInputs[1]!)).toEqual(Array.from(model.graph.initializers.get('fc')!.data as Float32Array));  // a constant
    });
  });
});
