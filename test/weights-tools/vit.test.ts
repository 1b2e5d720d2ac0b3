// buildViT at the tiny fixture's size against the real torch export (shared/fixtures/vit-hf-tiny-op14): identical
// node list, names and initializer layout; with the fixture's weights it reproduces the fixture's stored output;
// with its own seeded weights onnxruntime-node agrees with a plain-TS forward pass (weights-tools/vit/reference-forward.ts).

import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { AttrValue, Model, Node } from '../../src/ir/graph.js';
import { encodeModel } from '../../src/onnx/encode.js';
import { loadModel } from '../../src/onnx/load.js';
import { onnx } from '../../src/onnx/proto.js';
import { buildViT, VIT_B16, type ViTConfig } from '../../weights-tools/vit/build-vit.js';
import { vitConfigFromHF } from '../../weights-tools/vit/build-vit-folder.js';
import { referenceForward } from '../../weights-tools/vit/reference-forward.js';
import { SeededNormal } from '../../weights-tools/vit/seeded-normal.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const FIXTURE = path.resolve(REPO, '../shared/fixtures/vit-hf-tiny-op14');
// From the fixture's README: hidden 64, 4 heads, 2 layers, MLP 128, 10 labels, eps 1e-12, patch 16, 224 px.
const TINY: ViTConfig = { hidden: 64, layers: 2, heads: 4, mlp: 128, patch: 16, image: 224, labels: 10, eps: 1e-12, seed: 11 };

// Bytes are copied into a plain Uint8Array: protobufjs hands out Buffer views for a Buffer source, and the loader's
// raw_data copy (`raw.slice()`) is then a view too, read from the wrong offset (reported to the loader's owner).
const readBytes = (file: string) => new Uint8Array(fs.readFileSync(file));
const fixtureModel = () => loadModel(readBytes(path.join(FIXTURE, 'model.onnx')));

/** A float32 TensorProto file as data + dims. */
function readPb(file: string): { data: Float32Array; dims: number[] } {
  const t = onnx.TensorProto.decode(readBytes(file));
  expect(t.dataType, `${file}: data type`).toBe(onnx.TensorProto.DataType.FLOAT);
  return { data: new Float32Array(Uint8Array.from(t.rawData!).buffer), dims: (t.dims ?? []).map(Number) };
}

async function runOrt(model: Model, pixels: Float32Array, batch: number): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(encodeModel(model), { graphOptimizationLevel: 'disabled', intraOpNumThreads: 1 });
  try {
    const out = await session.run({ pixel_values: new ort.Tensor('float32', pixels, [batch, 3, TINY.image, TINY.image]) });
    return { data: out.logits!.data as Float32Array, dims: out.logits!.dims };
  } finally {
    await session.release();
  }
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

function attrKey(a: AttrValue): unknown {
  return a.type === 'tensor' ? { type: a.type, dtype: a.value.dtype, dims: a.value.dims, data: Array.from(a.value.data as ArrayLike<unknown>, String) } : a;
}
const nodeKey = (n: Node) => ({
  name: n.name, opType: n.opType, domain: n.domain, inputs: n.inputs, outputs: n.outputs,
  attrs: Object.fromEntries(Object.entries(n.attrs).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, attrKey(v)])),
});

/** Op types of the nodes in a section: a layer prefix, or everything before the first / after the last layer. */
function sections(m: Model): Record<string, string[]> {
  const nodes = m.graph.nodes;
  const layerOf = (n: Node) => /^\/vit\/encoder\/layer\.(\d+)\//.exec(n.name)?.[1];
  const first = nodes.findIndex(n => layerOf(n) !== undefined);
  const last = nodes.length - 1 - [...nodes].reverse().findIndex(n => layerOf(n) !== undefined);
  const out: Record<string, string[]> = {
    embeddings: nodes.slice(0, first).map(n => n.opType),
    head: nodes.slice(last + 1).map(n => n.opType),
  };
  for (const n of nodes) {
    const l = layerOf(n);
    if (l !== undefined) (out[`layer.${l}`] ??= []).push(n.opType);
  }
  return out;
}

describe('buildViT: graph structure vs the torch opset-14 export', () => {
  it('has the fixture\'s op sequence in the embeddings, in every layer and in the head, and its node count', async () => {
    const fixture = await fixtureModel();
    const built = buildViT(TINY);
    const want = sections(fixture);
    const got = sections(built);
    expect(Object.keys(got)).toEqual(Object.keys(want));
    for (const [section, ops] of Object.entries(want)) expect(got[section], section).toEqual(ops);
    expect(got['layer.0']!.length).toBe(100);  // scoped nodes per layer; 8 more are unscoped Constants
    expect(built.graph.nodes.length).toBe(fixture.graph.nodes.length);
    expect(built.graph.nodes.length).toBe(259);
  });

  it('matches every node (name, inputs, outputs, attributes, constant values) of the fixture', async () => {
    const fixture = await fixtureModel();
    const built = buildViT(TINY);
    built.graph.nodes.forEach((n, i) => expect(nodeKey(n), `node #${i}`).toEqual(nodeKey(fixture.graph.nodes[i]!)));
  });

  it('declares the same inputs, outputs, opset, IR version and initializer names/shapes in the same order', async () => {
    const fixture = await fixtureModel();
    const built = buildViT(TINY);
    expect(built.graph.inputs).toEqual(fixture.graph.inputs);
    expect(built.graph.outputs).toEqual(fixture.graph.outputs);
    expect([...built.opsets]).toEqual([...fixture.opsets]);
    expect(built.irVersion).toBe(7);
    const shapes = (m: Model) => [...m.graph.initializers].map(([name, t]) => [name, t.dtype, t.dims]);
    expect(shapes(built)).toEqual(shapes(fixture));
  });

  it('rejects configs the graph cannot express', () => {
    expect(() => buildViT({ ...TINY, heads: 5 })).toThrow(/hidden 64 is not divisible by heads 5/);
    expect(() => buildViT({ ...TINY, patch: 15 })).toThrow(/image 224 is not divisible by patch 15/);
  });

  it('VIT_B16 is the shipped google/vit-base-patch16-224 config.json', () => {
    const json = JSON.parse(fs.readFileSync(path.join(REPO, 'weights-tools/vit/hf-config/config.json'), 'utf8'));
    expect(vitConfigFromHF(json, 0)).toEqual({ ...VIT_B16, seed: 0, channels: 3 });
  });
});

describe('buildViT: numerics (onnxruntime-node)', () => {
  it('with the fixture\'s weights gives the fixture\'s stored logits', async () => {
    const fixture = await fixtureModel();
    const built = buildViT(TINY);
    for (const [name, t] of fixture.graph.initializers) built.graph.initializers.set(name, t);
    const input = readPb(path.join(FIXTURE, 'test_data_set_0/input_0.pb'));
    const expected = readPb(path.join(FIXTURE, 'test_data_set_0/output_0.pb'));
    const out = await runOrt(built, input.data, 1);
    expect(out.dims).toEqual(expected.dims);
    expect(maxAbsDiff(out.data, expected.data)).toBeLessThan(1e-5);
    // the plain-TS reference agrees with torch's export too, so it can stand in for it with other weights
    expect(maxAbsDiff(referenceForward(built.graph.initializers, TINY, input.data, 1), expected.data)).toBeLessThan(1e-5);
  });

  it('with seeded weights matches the plain-TS reference at batch 2, per sample', async () => {
    const built = buildViT(TINY);
    const per = 3 * TINY.image * TINY.image;
    const pixels = new Float32Array(2 * per);
    pixels.set(readPb(path.join(FIXTURE, 'test_data_set_0/input_0.pb')).data);
    pixels.set(new SeededNormal(1234).fill(per, 1), per);
    const out = await runOrt(built, pixels, 2);
    expect(out.dims).toEqual([2, TINY.labels]);
    const ref = referenceForward(built.graph.initializers, TINY, pixels, 2);
    expect(maxAbsDiff(out.data, ref)).toBeLessThan(1e-4);
    // the two images give different logits, and neither row is constant
    expect(maxAbsDiff(out.data.subarray(0, TINY.labels), out.data.subarray(TINY.labels))).toBeGreaterThan(1e-2);
    for (const row of [out.data.subarray(0, TINY.labels), out.data.subarray(TINY.labels)]) {
      expect(Math.max(...row) - Math.min(...row)).toBeGreaterThan(1e-2);
    }
  });
});

describe('buildViT: seeded weights', () => {
  it('are deterministic per seed and differ between seeds', () => {
    const a = encodeModel(buildViT(TINY));
    const b = encodeModel(buildViT(TINY));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    const w = (seed: number) => buildViT({ ...TINY, seed }).graph.initializers.get('classifier.weight')!.data as Float32Array;
    expect(maxAbsDiff(w(1), w(2))).toBeGreaterThan(0.01);
  });

  it('have the documented scales: weights N(0, 0.02), LayerNorm gamma 1 + N(0, 0.1), beta N(0, 0.1)', () => {
    const m = buildViT({ ...TINY, layers: 1 });
    const stats = (name: string) => {
      const d = m.graph.initializers.get(name)!.data as Float32Array;
      const mean = d.reduce((s, v) => s + v, 0) / d.length;
      const std = Math.sqrt(d.reduce((s, v) => s + (v - mean) ** 2, 0) / d.length);
      return { mean, std };
    };
    const conv = stats('vit.embeddings.patch_embeddings.projection.weight');  // 49,152 values
    expect(Math.abs(conv.mean)).toBeLessThan(0.001);
    expect(conv.std).toBeCloseTo(0.02, 3);
    const gamma = stats('vit.encoder.layer.0.layernorm_before.weight');
    expect(gamma.mean).toBeCloseTo(1, 1);
    expect(gamma.std).toBeGreaterThan(0.07);
    expect(gamma.std).toBeLessThan(0.13);
  });

  it('SeededNormal.fill continues the same stream as normal()', () => {
    const a = new SeededNormal(5), b = new SeededNormal(5);
    const filled = [...a.fill(7, 1), ...a.fill(4, 1), ...a.fill(1, 1), ...a.fill(9, 1)];
    const single = Array.from({ length: filled.length }, () => Math.fround(b.normal()));
    expect(filled).toEqual(single);
  });
});
