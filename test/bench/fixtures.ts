// A synthetic bench report built through the same functions the suite uses (timing rows, soak, accuracy, goals),
// from made-up child results, for the report, schema and SVG tests.

import { ProfileRecorder } from '../../bench/profile.js';
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
      r.results.push(...timingRows(v, Object.entries(byBatch).map(([b, s]) => ({ batch: Number(b), samplesMs: s })), MACS[model as 'resnet50'], 1));
      // ocellus grows 0.5 MiB per 100 runs on ResNet-50, nothing elsewhere
      const grow = engine.startsWith('ocellus') && model === 'resnet50' ? 0.005 : 0;
      r.soak.push(soakRow(v, { runs: 100, rssMiB: [0, 50, 100].map(i => [i, 300 + grow * i] as [number, number]), samplesMs: [10, 11, 12], ...(kind === 'ocellus' ? { tensors: { before: 5, after: 5 } } : {}) }));
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
