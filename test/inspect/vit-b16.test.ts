// inspect on the seeded ViT-B/16 (real architecture, seeded weights), traced once: 17.56 G MACs (the published
// figure at 224×224, attention products included), 86.57 M parameters, the transformer fusions, and the attention
// maps recorded per layer (12 heads over 14×14 patches, entropy at most that of a uniform row).

import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { inspect, type InspectReport } from '../../src/inspect/inspect.js';
import { vitB16Dir } from '../helpers/models.js';

const PHOTO = path.resolve(import.meta.dirname, '../../../shared/images/photos/skimage/chelsea.png');

let report: InspectReport;

beforeAll(async () => {
  report = await inspect(await vitB16Dir(), { trace: { image: PHOTO, warmup: false } });
}, 600_000);

describe('ViT-B/16 summary', () => {
  it('17.56 G MACs at batch 1 (±1%) in the file, the optimised plan and the trace; 86.57 M parameters', () => {
    const rel = Math.abs(report.original.macs - 17.56e9) / 17.56e9;
    expect(rel, `${report.original.macs}`).toBeLessThan(0.01);
    expect(report.optimized!.macs).toBe(report.original.macs);
    expect(report.trace!.macs).toBe(report.original.macs);
    expect(report.params.count).toBe(86_567_656);
  });

  it('counts the attention products: each layer\'s Q·Kᵀ MatMul is 12 heads × 197 × 197 × 64', () => {
    const scores = report.original.nodes.filter(n => n.opType === 'MatMul' && n.outputs[0]!.shape.join() === '1,12,197,197');
    expect(scores).toHaveLength(12);
    for (const n of scores) expect(n.macs).toBe(12 * 197 * 197 * 64);
  });

  it('lists every node of the file, marking the ones computed while planning', () => {
    const o = report.original;
    expect(o.nodes.length).toBe(o.executed + o.folded);
    expect(o.folded).toBeGreaterThan(0);
    expect(o.nodes.filter(n => n.opType === 'Shape').every(n => n.folded)).toBe(true);
    expect(o.nodes.filter(n => n.opType === 'MatMul').every(n => !n.folded)).toBe(true);
  });

  it('reports the transformer fusions and the plan they leave', () => {
    const p = report.optimized!;
    expect(p.applied.map(a => a.pass)).toEqual(expect.arrayContaining(['fuse-layernorm', 'fuse-gelu', 'fuse-attention']));
    expect(p.applied.find(a => a.pass === 'fuse-attention')!.count).toBe(12);
    expect(p.passes.find(a => a.pass === 'fuse-attention')!.stage).toBe('plan');
    expect(p.ops['local:Attention']).toBe(12);
    expect(p.ops['Softmax']).toBeUndefined();
    expect(p.steps).toBeLessThan(report.original.executed);
  });
});

describe('ViT-B/16 trace', () => {
  it('one record per plan step; each fused attention layer has 12 head maps over 14×14 patches', () => {
    const t = report.trace!;
    expect(t.nodes.map(n => n.name)).toEqual(report.optimized!.nodes.map(n => n.name));
    for (const n of t.nodes) expect(n.ms).toBeGreaterThanOrEqual(0);
    const att = t.nodes.filter(n => n.attention);
    expect(att).toHaveLength(12);
    const groups = att.map(n => n.group);
    expect(groups).toEqual(Array.from({ length: 12 }, (_, i) => `vit/encoder/layer.${i}`));
    for (const n of att) {
      const a = n.attention!;
      expect([a.heads, a.tokens, a.grid, a.source]).toEqual([12, 197, 14, 'qk']);
      expect(Buffer.from(a.cls, 'base64').length).toBe(12 * 14 * 14);
      expect(n.entropy!.max).toBeCloseTo(Math.log(197), 10);
      expect(n.entropy!.mean).toBeGreaterThan(0);
      expect(n.entropy!.mean).toBeLessThanOrEqual(n.entropy!.max + 1e-6);
      // The layer's mean entropy is the mean of its heads' (every head has 197 rows).
      expect(n.entropy!.mean).toBeCloseTo(a.entropy.reduce((x, y) => x + y, 0) / 12, 5);
      for (const m of a.clsMax) expect(m).toBeGreaterThan(1 / 197 - 1e-6);   // a row's max is at least its mean
    }
  });

  it('the patch-embedding convolution gets thumbnails; the classifier output gets top-5', () => {
    const t = report.trace!;
    const conv = t.nodes.find(n => n.opType === 'NhwcConv' || n.opType === 'Conv')!;
    expect(conv.featureMaps!.srcWidth).toBe(14);
    expect(t.predictions).toHaveLength(5);
    expect(t.image.width).toBe(224);
  });
});
