// From raw child results to report rows and goals, the profile recorder, and the terminal text.

import { describe, expect, it } from 'vitest';
import { ProfileRecorder } from '../../bench/profile.js';
import { compareThreads, formatReport, formatTable, targetChecks, timingRows } from '../../bench/report.js';
import { syntheticReport } from './fixtures.js';

describe('timingRows', () => {
  it('summarises samples per batch and derives images/s and GFLOP/s at the median', () => {
    const [b1, b8] = timingRows({ model: 'm', engine: 'e:2', kind: 'e', threads: 2 }, [
      { batch: 1, rounds: [[120, 100, 80]] },
      { batch: 8, rounds: [[400, 500]] },
    ], 1e9, 2);
    expect(b1).toMatchObject({ batch: 1, runs: 3, warmup: 2, ms: { min: 80, median: 100, max: 120 }, imagesPerSec: 10 });
    expect(b1!.gflops).toBeCloseTo(20, 12);         // 2 × 1e9 FLOP in 0.1 s
    expect(b8).toMatchObject({ batch: 8, ms: { median: 450 } });
    expect(b8!.imagesPerSec).toBeCloseTo(8 / 0.45, 12);
    expect(b1!.roundMedians).toBeUndefined();
  });

  it('pools the samples of every round and keeps each round\'s median', () => {
    const [b1] = timingRows({ model: 'm', engine: 'e:2', kind: 'e', threads: 2 }, [{ batch: 1, rounds: [[100, 110, 90], [200, 190, 210], [95, 105, 100]] }], 1e9, 1);
    expect(b1).toMatchObject({ runs: 9, ms: { min: 90, median: 105, max: 210 }, roundMedians: [100, 200, 100] });
  });
});

describe('rounds in the goals', () => {
  it('each round\'s ratio of medians, for latency (ours/theirs) and throughput (theirs/ours); shown in the goals table', () => {
    const r = syntheticReport();
    const row = (engine: string, batch: number) => r.results.find(x => x.model === 'resnet50' && x.engine === engine && x.batch === batch)!;
    row('ocellus:2', 1).roundMedians = [150, 170];
    row('ort-web:2', 1).roundMedians = [200, 340];
    row('ocellus:2', 8).roundMedians = [1000, 1200];
    row('ort-web:2', 8).roundMedians = [1500, 1800];
    r.targets = targetChecks(r);
    const goal = (start: string) => r.targets.find(t => t.model === 'resnet50' && t.goal.startsWith(start))!;
    expect(goal('batch 1').perRound).toEqual([0.75, 0.5]);
    expect(goal('batch 8').perRound).toEqual([1.5, 1.5]);
    expect(goal('peak RSS').perRound).toBeUndefined();
    expect(r.targets.find(t => t.model === 'vitb16' && t.goal.startsWith('batch 1'))!.perRound).toBeUndefined();   // one round there
    const text = formatReport(r);
    expect(text).toMatch(/ratio\s+per round/);
    expect(text).toMatch(/batch 1 median latency.*0\.76\s+0\.75 0\.50\s+met/);
  });
});

describe('goals', () => {
  const r = syntheticReport();
  const goal = (model: string, start: string) => r.targets.find(t => t.model === model && t.goal.startsWith(start));

  it('batch-1 latency: ocellus median over ort-web median, met at ≤ 0.8', () => {
    expect(goal('resnet50', 'batch 1')).toMatchObject({ ours: 160, theirs: 210, met: true });
    expect(goal('resnet50', 'batch 1')!.ratio).toBeCloseTo(160 / 210, 12);
    expect(goal('vitb16', 'batch 1')).toMatchObject({ ours: 900, theirs: 1000, ratio: 0.9, met: false });
  });

  it('batch-8 throughput: ocellus images/s over ort-web images/s, met at ≥ 1.25', () => {
    expect(goal('resnet50', 'batch 8')!.ratio).toBeCloseTo(1600 / 1100, 12);
    expect(goal('resnet50', 'batch 8')!.met).toBe(true);
    expect(goal('vitb16', 'batch 8')!.ratio).toBeCloseTo(6000 / 7200, 12);
    expect(goal('vitb16', 'batch 8')!.met).toBe(false);
  });

  it('peak RSS and soak growth', () => {
    expect(goal('resnet50', 'peak RSS')).toMatchObject({ ours: 300, theirs: 350, met: true });
    // 0.005 MiB per run = 5 MiB per 1000 runs under the young generation's steps: growth
    expect(goal('resnet50', 'no memory growth')!.ours).toBeCloseTo(5, 9);
    expect(goal('resnet50', 'no memory growth')!.met).toBe(false);
    // RSS that moves only with the young generation (4 → 2 MiB after the settling 10 %) is no growth, for either engine
    expect(goal('vitb16', 'no memory growth')).toMatchObject({ ours: 0, theirs: 0, met: true });
    expect(goal('vitb16', 'no memory growth')!.goal).toMatch(/RSS less V8's young generation/);
    expect(r.soak.find(s => s.model === 'vitb16' && s.engine === 'ocellus:2')!.slopeMiBPer1000).toBeCloseTo(-40, 9);
  });

  it('the soak slope leaves out the first 10 % of the runs (settling), then fits a line', async () => {
    const { soakRow } = await import('../../bench/report.js');
    const v = { model: 'm', engine: 'ocellus:2', kind: 'ocellus', threads: 2 };
    // a drop while settling (runs 0–99), then +2 MiB per 1000 runs
    const rssMiB = [[0, 760], [50, 720], ...[100, 400, 700, 1000].map(i => [i, 700 + 0.002 * i])] as [number, number][];
    const s = soakRow(v, { runs: 1000, rssMiB, samplesMs: [5, 7, 6] });
    expect(s.slopeMiBPer1000).toBeCloseTo(2, 9);
    expect(s.netSlopeMiBPer1000).toBeUndefined();
    expect(s).toMatchObject({ startMiB: 760, endMiB: 702, maxMiB: 760, medianMs: 6 });
  });

  it("the net slope takes V8's young generation out of RSS: its step is no growth, a leak under it still is", async () => {
    const { soakRow } = await import('../../bench/report.js');
    const v = { model: 'm', engine: 'ocellus:2', kind: 'ocellus', threads: 2 };
    const runs = [0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000];
    // V8 doubles the young generation 4 → 8 MiB at run 500 (as the ViT-B/16 soak of the seventh session did)
    const young = (i: number) => (i < 500 ? 4 : 8);
    const heapMiB = runs.map(i => [i, young(i), 13.5, 21.4] as [number, number, number, number]);
    const flat = soakRow(v, { runs: 1000, rssMiB: runs.map(i => [i, 798 + young(i)] as [number, number]), heapMiB, samplesMs: [1] });
    expect(flat.slopeMiBPer1000).toBeGreaterThan(5);
    expect(flat.netSlopeMiBPer1000).toBeCloseTo(0, 9);
    // the same step over a leak of 2 KiB a run
    const leak = soakRow(v, { runs: 1000, rssMiB: runs.map(i => [i, 798 + young(i) + (2 / 1024) * i] as [number, number]), heapMiB, samplesMs: [1] });
    expect(leak.netSlopeMiBPer1000).toBeCloseTo(1000 * 2 / 1024, 9);
  });

  it('live tensors that grew fail the soak goal even with flat RSS', () => {
    const r2 = syntheticReport();
    const s = r2.soak.find(x => x.model === 'vitb16' && x.engine === 'ocellus:2')!;
    s.tensors = { before: 5, after: 6 };
    expect(targetChecks(r2).find(t => t.model === 'vitb16' && t.goal.startsWith('no memory growth'))!.met).toBe(false);
  });

  it('compares at 2 threads when both ran with 2, else the most threads both ran, else not at all', () => {
    const e = (kind: string, threads: number, error?: string) => ({ model: 'm', engine: `${kind}:${threads}`, kind, threads, info: {}, ...(error ? { error } : {}) });
    expect(compareThreads([e('ocellus', 1), e('ocellus', 2), e('ocellus', 4), e('ort-web', 2), e('ort-web', 4)], 'm')).toBe(2);
    expect(compareThreads([e('ocellus', 1), e('ocellus', 4), e('ort-web', 1), e('ort-web', 4)], 'm')).toBe(4);
    expect(compareThreads([e('ocellus', 2), e('ort-web', 2, 'crashed')], 'm')).toBeUndefined();
    expect(compareThreads([e('ocellus', 2), e('ort-node', 2)], 'm')).toBeUndefined();
  });
});

describe('accuracy rows', () => {
  it('scores each engine against the labels and against the reference engine', () => {
    const a = syntheticReport().accuracy[0]!;
    expect(a).toMatchObject({ model: 'resnet50', images: 4, reference: 'ort-web:2' });
    const ref = a.engines.find(e => e.engine === 'ort-web:2')!;
    const ours = a.engines.find(e => e.engine === 'ocellus:2')!;
    expect(ref.vsReference).toBeUndefined();
    // labels 0,1,2,1: ort-web top-1 = 0,1,2,0 → 3/4; ocellus = 0,1,1,0 → 2/4
    expect(ref.top1).toBe(0.75);
    expect(ours.top1).toBe(0.5);
    expect(ours.vsReference!.maxAbsDiff).toBeCloseTo(0.1, 6);
    expect(ours.vsReference!.top1Agreement).toBe(0.75);
    expect(ours.vsReference!.top5Agreement).toBe(1);   // 3 classes: the top-5 set is every class
  });
});

describe('ProfileRecorder', () => {
  it('averages per run, sums per op type with shares, and ranks the slowest nodes', () => {
    const rec = new ProfileRecorder();
    for (let run = 0; run < 2; run++) {
      rec.startRun();
      rec.record('0', 'conv_a', 'Conv', 10 + run * 2, [1, 8, 8, 4]);  // mean 11
      rec.record('1', 'relu_a', 'Relu', 1);                           // mean 1
      rec.record('2', 'conv_b', 'Conv', 6);                           // mean 6
      rec.record('3', '', 'MatMul', 2);                               // mean 2
    }
    const s = rec.summary(2);
    expect(s.runs).toBe(2);
    expect(s.stepMs).toBeCloseTo(20, 12);
    expect(s.byOpType.map(t => [t.opType, t.ms, t.nodes])).toEqual([['Conv', 17, 2], ['MatMul', 2, 1], ['Relu', 1, 1]]);
    expect(s.byOpType[0]!.share).toBeCloseTo(0.85, 12);
    expect(s.slowest).toEqual([{ name: 'conv_a', opType: 'Conv', ms: 11, shape: [1, 8, 8, 4] }, { name: 'conv_b', opType: 'Conv', ms: 6, shape: [] }]);
  });
});

describe('terminal text', () => {
  it('formatTable pads columns to the widest cell and right-aligns where asked', () => {
    expect(formatTable(['name', 'ms'], [['a', '1.5'], ['long name', '100.0']], ['l', 'r'])).toBe(
      'name          ms\n' +
      '---------  -----\n' +
      'a            1.5\n' +
      'long name  100.0');
  });

  it('formatReport shows every timing row, the goals with their verdicts, accuracy, profile and soak', () => {
    const r = syntheticReport();
    const text = formatReport(r);
    for (const x of r.results) expect(text).toMatch(new RegExp(`\\b${x.kind}\\s+${x.threads}\\s+${x.ms.min.toFixed(1)}\\s+${x.ms.median.toFixed(1)}\\s+${x.ms.max.toFixed(1)}\\b`));
    expect(text).toMatch(/batch 1 median latency ≤ 0\.8 × onnxruntime-web \(2 threads\)\s+160\.0 ms\s+210\.0 ms\s+0\.76\s+met/);
    expect(text).toMatch(/ViT-B\/16\s+batch 8 throughput .* NOT met/);
    expect(text).toContain('Accuracy — ResNet-50, 4 photos');
    expect(text).toContain('seeded weights');
    expect(text).toMatch(/Profile — ResNet-50 ocellus:2 batch 1/);
    expect(text).toMatch(/conv1\s+Conv\s+30\.00\s+\[1, 64, 112, 112\]/);
    expect(text).toMatch(/Soak \(batch 1\)/);
    // V8's heap beside RSS: the young generation's ends and, since it moved in between, its range
    expect(text).toMatch(/V8 young MiB\s+V8 old MiB\s+V8 live MiB/);
    // RSS's slope beside the one less the young generation (what the goal judges)
    expect(text).toMatch(/slope MiB\/1000 runs\s+less V8 young\s+V8 young MiB/);
    expect(text).toMatch(/ResNet-50\s+ocellus:2\s+100\s+301\.0\s+302\.5\s+304\.3\s+-35\.00\s+5\.00\s+1\.0 → 2\.0 \(1\.0–4\.0\)\s+13\.2 → 13\.3 \(13\.2–13\.4\)\s+20\.1 → 20\.2\s/);
  });
});
