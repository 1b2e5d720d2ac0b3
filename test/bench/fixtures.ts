// A synthetic bench report built through the same functions the suite uses (timing rows, soak, accuracy, goals),
// from made-up child results, for the report, schema and SVG tests; syntheticQ8Report adds the int8 twins.

import { ProfileRecorder } from '../../bench/profile.js';
import { quantizedComparison, quantizedTargets } from '../../bench/quantized.js';
import { accuracyRow, soakRow, targetChecks, timingRows } from '../../bench/report.js';
import { REPORT_VERSION, type BenchReport } from '../../bench/schema.js';

export const MACS = { resnet50: 3.86e9, vitb16: 17.56e9 };

/** Latency samples (ms) per model → engine → batch. */
export const SAMPLES: Record<string, Record<string, Record<number, number[]>>> = {
  resnet50: {
    'ocellus:2': { 1: [150, 160, 170], 8: [1000, 1100, 1200] },
    'ort-web:2': { 1: [200, 210, 400], 8: [1500, 1600, 1700] },
  },
  vitb16: {
    'ocellus:2': { 1: [900, 800, 1000], 8: [7000, 7200, 7400] },
    'ort-web:2': { 1: [1000, 1000, 1000], 8: [6000, 6000, 6000] },
  },
};

export function syntheticReport(): BenchReport {
  const r: BenchReport = {
    version: REPORT_VERSION, createdAt: '2025-01-01T00:00:00.000Z', command: 'ocellus bench --quick',
    machine: { cpu: 'Test CPU <x86> & co', cores: 2, memoryGB: 24, platform: 'Linux', arch: 'x64', node: 'v20.0.0', loadavgStart: [0.1, 0.2, 0.3], loadavgEnd: [0.4, 0.5, 0.6] },
    versions: { ocellus: '0.1.0', 'onnxruntime-web': '1.30.0' },
    options: { models: ['resnet50', 'vitb16'], engines: ['ocellus:2', 'ort-web:2'], batches: [1, 8], runs: 3, warmup: 1, accuracy: 4, soak: 100, profile: true },
    models: [
      { id: 'resnet50', name: 'ResNet-50', macsPerImage: MACS.resnet50, path: 'a.onnx', inputs: '4 imagenet-dev photos' },
      { id: 'vitb16', name: 'ViT-B/16', macsPerImage: MACS.vitb16, path: 'b.onnx', inputs: '4 imagenet-dev photos' },
    ],
    engines: [], results: [], accuracy: [], profiles: [], soak: [], targets: [],
  };
  const rss: Record<string, number> = { 'ocellus:2': 300, 'ort-web:2': 350 };
  for (const [model, engines] of Object.entries(SAMPLES)) {
    for (const [engine, byBatch] of Object.entries(engines)) {
      const [kind, t] = engine.split(':');
      const v = { model, engine, kind: kind!, threads: Number(t) };
      r.engines.push({ ...v, loadMs: 1000, peakRssMiB: rss[engine]! * (model === 'vitb16' ? 2 : 1), osThreads: { before: 10, after: 11 }, info: {} });
      r.results.push(...timingRows(v, Object.entries(byBatch).map(([b, s]) => ({ batch: Number(b), rounds: [s] })), MACS[model as 'resnet50'], 1));
      // ocellus grows 0.5 MiB per 100 runs on ResNet-50, nothing elsewhere
      const grow = engine.startsWith('ocellus') && model === 'resnet50' ? 0.005 : 0;
      // the young generation grows 1 → 4 MiB then shrinks to 2 (RSS takes the steps too), old space stays put, live
      // objects flat
      const heapMiB: [number, number, number, number][] = [[0, 1, 13.2, 20.1], [50, 4, 13.4, 20.1], [100, 2, 13.3, 20.2]];
      const rssMiB = heapMiB.map(([i, young]) => [i, 300 + grow * i + young] as [number, number]);
      r.soak.push(soakRow(v, { runs: 100, rssMiB, heapMiB, samplesMs: [10, 11, 12], ...(kind === 'ocellus' ? { tensors: { before: 5, after: 5 } } : {}) }));
    }
    const outputs = new Map([
      ['ort-web:2', { classes: 3, data: Float32Array.from([0.7, 0.2, 0.1, 0.1, 0.8, 0.1, 0.3, 0.3, 0.4, 0.5, 0.4, 0.1]) }],
      ['ocellus:2', { classes: 3, data: Float32Array.from([0.7, 0.2, 0.1, 0.1, 0.8, 0.1, 0.3, 0.4, 0.3, 0.5, 0.4, 0.1]) }],
    ]);
    r.accuracy.push(accuracyRow(model, outputs, [0, 1, 2, 1], 'ort-web:2', model === 'vitb16' ? 'seeded weights' : undefined)!);
    const rec = new ProfileRecorder();
    rec.startRun();
    rec.record('0', 'conv1', 'Conv', 30, [1, 64, 112, 112]);
    rec.record('1', 'fc', 'Gemm', 10, [1, 1000]);
    r.profiles.push({ model, engine: 'ocellus:2', batch: 1, ...rec.summary() });
  }
  r.targets = targetChecks(r);
  return r;
}

/** int8 twins' latency samples (ms): model → engine → batch (ort-web:2 fails on vitb16-q8). */
export const Q8_SAMPLES: Record<string, Record<string, Record<number, number[]>>> = {
  'resnet50-q8': {
    'ocellus:2': { 1: [100, 120, 140], 8: [800, 900, 1000] },
    'ort-web:2': { 1: [300, 310, 320], 8: [2000, 2100, 2200] },
  },
  'vitb16-q8': {
    'ocellus:2': { 1: [1800, 1800, 1800], 8: [14000, 14400, 14800] },
  },
};

/** fp32 outputs (4 photos × 3 classes; top-1 0, 1, 2, 0) and an int8 version whose third photo flips to class 0. */
export const FP32_OUT = Float32Array.from([0.7, 0.2, 0.1, 0.1, 0.8, 0.1, 0.3, 0.3, 0.4, 0.5, 0.4, 0.1]);
export const Q8_OUT = Float32Array.from([0.6, 0.3, 0.1, 0.1, 0.7, 0.2, 0.45, 0.2, 0.35, 0.5, 0.4, 0.1]);

/**
 * syntheticReport() plus the int8 twins as the suite adds them: their timing rows and engines, the outputs (ResNet-50:
 * int8 flips one photo of four on both engines; ViT-B/16: identical outputs, ort-web failed on the int8 model), the RSS
 * baselines and probes, the comparisons and the int8 goals. Returns the outputs too, for recomputing comparisons.
 */
export function syntheticQ8Report(): { report: BenchReport; outputs: Map<string, Map<string, { classes: number; data: Float32Array }>> } {
  const r = syntheticReport();
  r.options.models.push('resnet50-q8', 'vitb16-q8');
  r.models.push(
    { id: 'resnet50-q8', name: 'ResNet-50 int8', macsPerImage: MACS.resnet50, path: 'a_q.onnx', inputs: '4 imagenet-dev photos', fileMiB: 24.6, quantizedFrom: 'resnet50', quantize: { matmuls: 1, convs: 53, kept: [], seconds: 3 } },
    { id: 'vitb16-q8', name: 'ViT-B/16 int8', macsPerImage: MACS.vitb16, path: 'b_q.onnx', inputs: '4 imagenet-dev photos', fileMiB: 84.1, quantizedFrom: 'vitb16' },
  );
  r.models[0]!.fileMiB = 97.8;
  r.models[1]!.fileMiB = 330.5;
  const rss: Record<string, number> = { 'resnet50-q8 ocellus:2': 120, 'resnet50-q8 ort-web:2': 200, 'vitb16-q8 ocellus:2': 250 };
  for (const [model, engines] of Object.entries(Q8_SAMPLES)) {
    for (const [engine, byBatch] of Object.entries(engines)) {
      const [kind, t] = engine.split(':');
      const v = { model, engine, kind: kind!, threads: Number(t) };
      r.engines.push({ ...v, loadMs: 500, peakRssMiB: rss[`${model} ${engine}`]!, osThreads: { before: 10, after: 11 }, info: {} });
      r.results.push(...timingRows(v, Object.entries(byBatch).map(([b, s]) => ({ batch: Number(b), rounds: [s] })), MACS[model.slice(0, -3) as 'resnet50'], 1));
    }
  }
  r.engines.push({ model: 'vitb16-q8', engine: 'ort-web:2', kind: 'ort-web', threads: 2, info: {}, error: 'Could not find an implementation for MatMulInteger(10) node with name \'m0\'' });
  const out = (data: Float32Array) => ({ classes: 3, data });
  const outputs = new Map([
    ['resnet50', new Map([['ocellus:2', out(FP32_OUT)], ['ort-web:2', out(FP32_OUT)]])],
    ['resnet50-q8', new Map([['ocellus:2', out(Q8_OUT)], ['ort-web:2', out(Q8_OUT)]])],
    ['vitb16', new Map([['ocellus:2', out(FP32_OUT)], ['ort-web:2', out(FP32_OUT)]])],
    ['vitb16-q8', new Map([['ocellus:2', out(FP32_OUT)]])],
  ]);
  // accuracy outputs as the suite computes them: fp32 8 photos per run, int8 one
  for (const a of r.accuracy) a.batch = 8;
  r.accuracy.push({ ...accuracyRow('resnet50-q8', outputs.get('resnet50-q8')!, [0, 1, 2, 1], 'ort-web:2')!, batch: 1 });
  r.baseline = { emptyNodeMiB: 41, emptyChildMiB: 75 };
  r.rssProbes = [
    { model: 'resnet50', threads: 1, batch: 1, readyMiB: 74, peakMiB: 441, overEmptyNodeMiB: 400, loadMs: 1600, runMs: 1600 },
    { model: 'resnet50-q8', threads: 1, batch: 1, readyMiB: 74, peakMiB: 163, overEmptyNodeMiB: 122, loadMs: 500, runMs: 2200 },
    { model: 'vitb16-q8', threads: 1, batch: 1, error: 'RSS probe on b_q.onnx: out of memory' },
  ];
  r.quantized = [quantizedComparison(r, 'resnet50', 'resnet50-q8', outputs), quantizedComparison(r, 'vitb16', 'vitb16-q8', outputs)];
  r.targets = [...targetChecks(r), ...quantizedTargets(r)];
  return { report: r, outputs };
}
