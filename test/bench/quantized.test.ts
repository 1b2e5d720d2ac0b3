// The "q8 vs fp32" section: side-by-side rows from a synthetic run (expected numbers worked out by hand from the
// fixture's samples and outputs), the int8 goals and their thresholds, the terminal text, one-line errors.

import { describe, expect, it } from 'vitest';
import { formatQuantized, oneLine, quantizedComparison, quantizedTargets } from '../../bench/quantized.js';
import { formatReport, targetChecks } from '../../bench/report.js';
import type { QuantizedComparison } from '../../bench/schema.js';
import { Q8_OUT, syntheticQ8Report, syntheticReport } from './fixtures.js';

const { report, outputs } = syntheticQ8Report();
const pair = (model: string) => report.quantized!.find(c => c.model === model)!;

describe('quantizedComparison', () => {
  it('puts file sizes, median latencies and peak RSS of the two models side by side per engine variant', () => {
    const c = pair('resnet50');
    expect(c).toMatchObject({ model: 'resnet50', quantized: 'resnet50-q8', fileMiB: { fp32: 97.8, q8: 24.6 }, failed: [] });
    // medians: fp32 ocellus 160 / 1100, ort-web 210 / 1600; int8 ocellus 120 / 900, ort-web 310 / 2100
    expect(c.latency.map(x => [x.engine, x.batch, x.fp32Ms, x.q8Ms])).toEqual([
      ['ocellus:2', 1, 160, 120], ['ocellus:2', 8, 1100, 900], ['ort-web:2', 1, 210, 310], ['ort-web:2', 8, 1600, 2100],
    ]);
    expect(c.latency[0]!.ratio).toBeCloseTo(0.75, 12);
    expect(c.latency[2]!.ratio).toBeCloseTo(310 / 210, 12);
    expect(c.peakRss).toEqual([
      { engine: 'ocellus:2', fp32MiB: 300, q8MiB: 120, ratio: 0.4 },
      { engine: 'ort-web:2', fp32MiB: 350, q8MiB: 200, ratio: 200 / 350 },
    ]);
  });

  it('compares int8 outputs with the fp32 outputs of the same engine: top-1 agreement and |diff|', () => {
    const [a] = pair('resnet50').agreement;
    // photo 3: fp32 [0.3, 0.3, 0.4] → class 2, int8 [0.45, 0.2, 0.35] → class 0; the other three agree
    expect(a).toMatchObject({ engine: 'ocellus:2', images: 4, top1Agreement: 0.75, top5Agreement: 1 });
    expect(a!.maxAbsDiff).toBeCloseTo(0.15, 6);
    expect(a!.meanAbsDiff).toBeCloseTo((0.1 + 0.1 + 0.1 + 0.1 + 0.15 + 0.1 + 0.05) / 12, 6);
    expect(pair('resnet50').agreement.map(x => x.engine)).toEqual(['ocellus:2', 'ort-web:2']);
  });

  it('leaves out engines that ran one side only, and lists the failures of either side', () => {
    const c = pair('vitb16');
    expect(c.latency.map(x => x.engine)).toEqual(['ocellus:2', 'ocellus:2']);
    expect(c.peakRss.map(x => x.engine)).toEqual(['ocellus:2']);
    expect(c.agreement).toEqual([{ engine: 'ocellus:2', images: 4, top1Agreement: 1, top5Agreement: 1, maxAbsDiff: 0, meanAbsDiff: 0 }]);
    expect(c.failed).toEqual([{ model: 'vitb16-q8', engine: 'ort-web:2', error: expect.stringContaining('MatMulInteger') }]);
  });

  it('compares the photos both sides have when one side ran fewer', () => {
    const few = new Map(outputs);
    few.set('resnet50-q8', new Map([['ocellus:2', { classes: 3, data: Q8_OUT.slice(0, 6) }]]));
    const [a] = quantizedComparison(report, 'resnet50', 'resnet50-q8', few).agreement;
    expect(a).toMatchObject({ images: 2, top1Agreement: 1 });
    expect(a!.maxAbsDiff).toBeCloseTo(0.1, 6);
  });
});

describe('int8 goals', () => {
  const goal = (model: string, start: string) => report.targets.find(t => t.group === 'q8' && t.model === model && t.goal.startsWith(start));

  it('top-1 agreement ≥ 98% per pair, judged on ocellus', () => {
    expect(goal('resnet50-q8', 'top-1')).toMatchObject({ ours: 75, unit: '%', met: false });
    expect(goal('resnet50-q8', 'top-1')!.goal).toContain('of 4 photos (ocellus:2 int8 vs ocellus:2 fp32)');
    expect(goal('vitb16-q8', 'top-1')).toMatchObject({ ours: 100, met: true });
  });

  it('the ocellus variant with the most threads is the one judged', () => {
    const row = (engine: string, top1Agreement: number) => ({ engine, images: 100, top1Agreement, top5Agreement: 1, maxAbsDiff: 0, meanAbsDiff: 0 });
    const c: QuantizedComparison = { ...pair('resnet50'), agreement: [row('ort-node:4', 1), row('ocellus:1', 1), row('ocellus:2', 0.97)] };
    const [t] = quantizedTargets({ quantized: [c], models: report.models });
    expect(t).toMatchObject({ ours: 97, met: false });
    expect(t!.goal).toContain('ocellus:2');
  });

  it('single-session RSS over an empty node < 128 MB = 122.07 MiB for resnet50-q8 only, with fp32 alongside', () => {
    expect(goal('resnet50-q8', 'session peak RSS')).toMatchObject({ ours: 122, theirs: 400, unit: 'MiB', met: true });
    expect(report.targets.filter(t => t.goal.startsWith('session peak RSS')).map(t => t.model)).toEqual(['resnet50-q8']);
    const over = (mib: number) => quantizedTargets({ models: report.models, rssProbes: [{ model: 'resnet50-q8', threads: 1, batch: 1, overEmptyNodeMiB: mib }] })[0]!;
    expect(over(122.06).met).toBe(true);
    expect(over(122.08).met).toBe(false);   // under 128 MiB, but not under 128 MB
    expect(over(122.08).theirs).toBeUndefined();
  });

  it("the fp32 goals (vs onnxruntime-web) leave the int8 models out", () => {
    expect(targetChecks(report).map(t => t.model).filter(m => m.endsWith('-q8'))).toEqual([]);
    expect(report.targets.filter(t => !t.group)).toEqual(syntheticReport().targets);
  });
});

describe('terminal text', () => {
  const text = formatReport(report);

  it('one block per pair with sizes, latency ratios, RSS and agreement', () => {
    expect(text).toContain('q8 vs fp32 — ResNet-50 (resnet50 vs resnet50-q8): model file 97.8 MiB fp32, 24.6 MiB int8 (0.25×)');
    expect(text).toMatch(/ocellus:2\s+1\s+160\.0\s+120\.0\s+0\.75/);
    expect(text).toMatch(/ocellus:2\s+300\s+120\s+0\.40/);
    expect(text).toContain('Node + tsx + IPC = 75.0 MiB in an empty child');
    expect(text).toMatch(/ocellus:2\s+4\s+75\.0%\s+100\.0%\s+1\.50e-1/);
    expect(text).toContain('on the same photos (fp32 8 photos per run, int8 1: dynamic quantization scales activations over the whole batch):');
    expect(text).toContain('Accuracy — ResNet-50 int8, 4 photos (same input tensors for every engine; reference ort-web:2; 1 per run)');
  });

  it('the probe table, with its baseline and a failed probe', () => {
    expect(text).toContain("an empty `node -e` process's VmHWM (41.0 MiB, same run)");
    expect(text).toMatch(/ResNet-50 int8\s+74\.0\s+163\.0\s+122\.0\s+500\s+2200/);
    expect(text).toContain('  FAILED ViT-B/16 int8: RSS probe on b_q.onnx: out of memory');
  });

  it('the int8 goals with verdicts, apart from the ort-web goals', () => {
    const q8 = text.slice(text.indexOf('Goals (int8'));
    expect(q8).toMatch(/ResNet-50 int8\s+top-1 agrees with fp32 on ≥ 98% of 4 photos .*75\.0 %\s+–\s+NOT met/);
    expect(q8).toMatch(/ResNet-50 int8\s+session peak RSS .*122\.0 MiB\s+400\.0 MiB\s+met/);
    const vsOrt = text.slice(text.indexOf('Goals (ocellus vs onnxruntime-web'), text.indexOf('Accuracy'));
    expect(vsOrt).toContain('ResNet-50');
    expect(vsOrt).not.toContain('int8');
  });

  it('a failed engine has a row in the timing table and its one-line error below', () => {
    expect(text).toMatch(/ViT-B\/16 int8\s+–\s+ort-web\s+2\s+FAILED/);
    expect(text).toContain("FAILED ViT-B/16 int8 ort-web:2: Could not find an implementation for MatMulInteger(10) node with name 'm0'");
  });

  it('nothing int8 in a run without twins', () => {
    expect(formatQuantized(syntheticReport())).toBe('');
    expect(formatReport(syntheticReport())).not.toContain('q8 vs fp32');
  });
});

describe('oneLine', () => {
  it('joins lines and collapses whitespace', () => {
    expect(oneLine('Error: failed\n    at foo (x.js:1)\n\n  at bar')).toBe('Error: failed at foo (x.js:1) at bar');
  });
  it('cuts long messages with an ellipsis', () => {
    const s = oneLine('x'.repeat(500), 20);
    expect(s).toHaveLength(20);
    expect(s.endsWith('…')).toBe(true);
  });
});
