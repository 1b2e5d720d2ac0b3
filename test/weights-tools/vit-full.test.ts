// Full-size ViT-B/16 (86.6 M parameters, 347 MB) written by prepareViTB16 into a temp folder and run by
// onnxruntime-node. Slow for a unit test: ~20 s and ~1.8 GB peak RSS on 2 cores (two full builds of ~7.5 s each:
// weights 5 s, encode 1.5 s, hash + write 1 s; ORT load 1 s, run 0.3 s).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { onnx } from '../../src/onnx/proto.js';
import { prepareViTB16, type ProgressEvent } from '../../weights-tools/vit/build-vit-folder.js';
import { SeededNormal } from '../../weights-tools/vit/seeded-normal.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const FIXTURE = path.resolve(REPO, '../shared/fixtures/vit-hf-tiny-op14/model.onnx');
const HF_CONFIG = path.join(REPO, 'weights-tools/vit/hf-config');
const SEED = 7;

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-vit-full-'));
afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

/** Nodes in the 2-layer fixture and per encoder layer (first layer.1 node minus first layer.0 node). */
function fixtureCounts(): { nodes: number; perLayer: number } {
  const nodes = onnx.ModelProto.decode(new Uint8Array(fs.readFileSync(FIXTURE))).graph!.node!;
  const first = (l: number) => nodes.findIndex(n => n.name!.startsWith(`/vit/encoder/layer.${l}/`));
  return { nodes: nodes.length, perLayer: first(1) - first(0) };
}

/** ViT-B/16 parameters from the architecture: embeddings, 12 blocks, final LayerNorm, classifier. */
function expectedParams(h: number, layers: number, mlp: number, patch: number, image: number, labels: number): number {
  const tokens = (image / patch) ** 2 + 1;
  const embeddings = h + tokens * h + h * 3 * patch * patch + h;
  const block = 4 * (h * h + h) + (h * mlp + mlp) + (mlp * h + h) + 4 * h;
  return embeddings + layers * block + 2 * h + labels * h + labels;
}

function stats(d: Float32Array) {
  let mean = 0;
  for (const v of d) mean += v / d.length;
  let sq = 0;
  for (const v of d) sq += (v - mean) ** 2;
  return { mean, std: Math.sqrt(sq / d.length), finite: d.every(Number.isFinite) };
}

describe('prepareViTB16 (full size, slow: ~20 s)', () => {
  const out = path.join(tmpRoot, 'vit-b16-seeded');

  it('writes the HF folder with a ViT-B/16 graph of the export\'s structure that onnxruntime runs', async () => {
    const events: ProgressEvent[] = [];
    const t0 = performance.now();
    const r = await prepareViTB16(out, { seed: SEED, onProgress: e => events.push(e) });
    const buildMs = performance.now() - t0;
    expect(r.reused).toBe(false);
    expect(fs.readdirSync(tmpRoot)).toEqual(['vit-b16-seeded']);  // temp folder renamed, nothing left over
    expect(fs.readdirSync(out).sort()).toEqual(['README.md', 'build.json', 'config.json', 'onnx', 'preprocessor_config.json']);
    for (const f of ['config.json', 'preprocessor_config.json']) {
      expect(fs.readFileSync(path.join(out, f)).equals(fs.readFileSync(path.join(HF_CONFIG, f))), f).toBe(true);
    }
    const readme = fs.readFileSync(path.join(out, 'README.md'), 'utf8');
    expect(readme).toContain('NOT PRETRAINED');
    expect(readme).toContain(`seed ${SEED}`);
    const weightEvents = events.filter(e => e.phase === 'weights');
    expect(weightEvents.at(-1)).toMatchObject({ done: r.params, total: r.params });
    expect(events.at(-1)!.phase).toBe('done');

    // Structure, read straight from the protobuf (not through our loader)
    const bytes = new Uint8Array(fs.readFileSync(r.modelPath));
    expect(bytes.length).toBe(r.bytes);
    const proto = onnx.ModelProto.decode(bytes);
    expect(Number(proto.irVersion)).toBe(7);
    expect(proto.opsetImport!.map(o => [o.domain ?? '', Number(o.version)])).toEqual([['', 14]]);
    const { nodes, perLayer } = fixtureCounts();
    const graph = proto.graph!;
    expect(graph.node!.length).toBe(nodes + 10 * perLayer);  // 2 layers in the fixture, 12 here
    expect(graph.node!.length).toBe(r.nodes);
    const params = graph.initializer!.reduce((s, t) => s + t.dims!.reduce((a: number, d) => a * Number(d), 1), 0);
    expect(params).toBe(expectedParams(768, 12, 3072, 16, 224, 1000));
    expect(params).toBe(r.params);
    console.log(`ViT-B/16 seeded: ${graph.node!.length} nodes, ${params} params, ${bytes.length} bytes, built+written in ${buildMs.toFixed(0)} ms`);

    // onnxruntime-node, batch 1, two seeded inputs
    const session = await ort.InferenceSession.create(r.modelPath);
    try {
      const run = async (seed: number) => {
        const pixels = new SeededNormal(seed).fill(3 * 224 * 224, 1);
        const o = (await session.run({ pixel_values: new ort.Tensor('float32', pixels, [1, 3, 224, 224]) })).logits!;
        expect(o.dims).toEqual([1, 1000]);
        return o.data as Float32Array;
      };
      const a = await run(1000);
      const b = await run(1001);
      const sa = stats(a);
      expect(sa.finite).toBe(true);
      expect(sa.std).toBeGreaterThan(0.05);   // not constant
      expect(sa.std).toBeLessThan(50);        // and not blown up through 12 layers
      let diff = 0;
      for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
      expect(diff).toBeGreaterThan(0.05);     // depends on the input
    } finally {
      await session.release();
    }
  });

  it('reuses an up-to-date folder and rebuilds for another seed', async () => {
    const again = await prepareViTB16(out, { seed: SEED });
    expect(again.reused).toBe(true);
    const before = JSON.parse(fs.readFileSync(path.join(out, 'build.json'), 'utf8')).sha256;
    const other = await prepareViTB16(out, { seed: SEED + 1 });
    expect(other.reused).toBe(false);
    expect(other.sha256).not.toBe(before);
    expect(fs.readFileSync(path.join(out, 'README.md'), 'utf8')).toContain(`seed ${SEED + 1}`);
    expect(fs.readdirSync(tmpRoot)).toEqual(['vit-b16-seeded']);  // the old folder was moved aside and deleted
  });
});
