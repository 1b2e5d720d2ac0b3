// inspect on the seeded ViT-B/16 (real architecture, seeded weights), traced once: 17.56 G MACs (the published
// figure at 224×224, attention products included), 86.57 M parameters, the transformer fusions, and the attention
// maps recorded per layer (12 heads over 14×14 patches, entropy at most that of a uniform row).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderHtml } from '../../src/inspect/html.js';
import { inspect, type InspectReport } from '../../src/inspect/inspect.js';
import { vitB16Dir } from '../helpers/models.js';
import { haveTestData } from '../helpers/test-data.js';

const CHROMIUM = '/usr/bin/chromium';

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

describe('ViT-B/16 HTML report', () => {
  it.skipIf(!haveTestData(CHROMIUM, 'Chromium (Debian package chromium)'))('opens in headless Chromium: an attention layer shows its 12 heads, the mean map and one head\'s map', async () => {
    const { chromium } = await import('playwright-core');
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-report-')), 'report.html');
    fs.writeFileSync(file, renderHtml(report));
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1440, height: 1080 } });
      const problems: string[] = [];
      page.on('pageerror', e => problems.push(`page error: ${e.message}`));
      page.on('console', m => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
      page.on('request', r => { if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) problems.push(`network: ${r.url()}`); });
      await page.goto(`file://${file}`);
      await page.waitForSelector('body[data-ready="1"]');
      const t = report.trace!;
      const ai = t.nodes.findIndex(n => n.attention && n.group === 'vit/encoder/layer.5');
      await page.click(`.node[data-index="${ai}"]`);
      const a = t.nodes[ai]!.attention!;
      expect(await page.locator('#attention .heads .h').count()).toBe(12);
      expect(await page.locator('#head-select option').count()).toBe(13);
      // the heads' entropies as the report has them
      expect(await page.locator('#attention .heads .h .mono').allInnerTexts()).toEqual(a.entropy.map(e => e.toFixed(2)));
      const pixels = () => page.locator('#attention canvas.att').evaluate((c: HTMLCanvasElement) => Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data));
      const mean = await pixels();
      expect(new Set(mean).size).toBeGreaterThan(16);   // drawn, not blank
      await page.locator('#attention .heads .h').nth(3).click();
      expect(await page.locator('#head-select').inputValue()).toBe('3');
      expect(await page.locator('#attention .heads .h.on').count()).toBe(1);
      expect(await pixels()).not.toEqual(mean);   // head 3's map differs from the mean of 12
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
