// The bench's child processes as the suite drives them (bench/suite.ts startChild, bench/child.ts): a real forked
// child on a tiny fixture model, asked for timed runs twice (as in two rounds), then for the rest; its outputs are
// checked against the fixture's onnxruntime reference. And the failures: a model that cannot load, a request after
// the child is gone.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ChildJob } from '../../bench/child.js';
import { Progress, startChild } from '../../bench/suite.js';
import { readTensorPb, SHARED } from '../helpers/onnx-tests.js';

const FIXTURE = path.join(SHARED, 'fixtures', 'resnet-tv-tiny-op13');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-bench-child-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const lines: string[] = [];
const progress = new Progress({ write: (s: string) => { lines.push(s); return true; }, isTTY: false } as unknown as NodeJS.WriteStream);

function job(engine: ChildJob['engine'], modelPath = path.join(FIXTURE, 'model.onnx')): ChildJob {
  const { tensor } = readTensorPb(path.join(FIXTURE, 'test_data_set_0', 'input_0.pb'));
  const file = path.join(tmp, 'inputs.f32');
  fs.writeFileSync(file, new Uint8Array((tensor.data as Float32Array).buffer));
  return {
    model: 'resnet50', modelPath, engine, inputs: { file, count: 1, imageDims: tensor.dims.slice(1) },
    batches: [1, 2], runs: 2, warmup: 1, accuracy: 1, accuracyBatch: 1, profile: engine.kind === 'ocellus', soak: 0,
  };
}

describe('bench child', () => {
  it.each([{ kind: 'ocellus', threads: 1 }, { kind: 'ort-web', threads: 1 }] as const)('$kind: loads, times on request (twice), then profiles and gives outputs that match the reference', async engine => {
    const child = await startChild(job(engine), progress, false);
    expect(child.loadMs).toBeGreaterThan(0);
    const first = await child.time(1, 2, 1);
    const batch2 = await child.time(2, 3, 0);   // the inputs file holds one image: batch 2 repeats it
    const again = await child.time(1, 1, 1);
    expect([first.length, batch2.length, again.length]).toEqual([2, 3, 1]);
    for (const ms of [...first, ...batch2, ...again]) expect(ms).toBeGreaterThan(0);
    const res = await child.finish();
    expect(res.peakRssMiB).toBeGreaterThan(30);
    expect(res.profiles.map(p => p.batch)).toEqual(engine.kind === 'ocellus' ? [1, 2] : []);
    const want = readTensorPb(path.join(FIXTURE, 'test_data_set_0', 'output_0.pb')).tensor.data as Float32Array;
    expect(res.outputs!.classes).toBe(want.length);
    for (let i = 0; i < want.length; i++) expect(Math.abs(res.outputs!.data[i]! - want[i]!)).toBeLessThan(1e-4);
    // The child exits after finishing: a further request is refused, not left hanging.
    await expect(child.time(1, 1, 0)).rejects.toThrow(/exited|could not send/);
  });

  it('soaks: RSS and the V8 heap spaces sampled after full GCs, live tensors counted before and after', async () => {
    const child = await startChild({ ...job({ kind: 'ocellus', threads: 1 }), batches: [1], accuracy: 0, profile: false, soak: 4 }, progress, false);
    await child.time(1, 1, 0);
    const { soak } = await child.finish();
    expect(soak!.runs).toBe(4);
    expect(soak!.rssMiB.map(([i]) => i)).toEqual([0, 1, 2, 3, 4]);
    expect(soak!.heapMiB!.map(([i]) => i)).toEqual([0, 1, 2, 3, 4]);
    for (const [, rss] of soak!.rssMiB) expect(rss).toBeGreaterThan(30);
    for (const [, young, old, live] of soak!.heapMiB!) {
      expect(young).toBeGreaterThan(0);
      expect(old).toBeGreaterThan(young / 16);
      expect(live).toBeGreaterThan(1);   // the engine's and the bench's own objects
      expect(live).toBeLessThan(young * 3 + old + 64);
    }
    expect(soak!.tensors!.after).toBe(soak!.tensors!.before);
    expect(soak!.samplesMs).toHaveLength(4);
  });

  it('a long soak keeps nothing per run on the bench side: the V8 live heap after 2,000 runs as after 200', async () => {
    // A synchronous run() never yields to the event loop; without a turn between runs, each run's progress message
    // (its write request and callback) stayed alive until the soak ended, ~1 KB a run.
    const child = await startChild({ ...job({ kind: 'ocellus', threads: 1 }), batches: [1], accuracy: 0, profile: false, soak: 2000 }, progress, false);
    await child.time(1, 1, 0);
    const { soak } = await child.finish();
    const live = new Map(soak!.heapMiB!.map(([i, , , l]) => [i, l]));
    expect(live.get(2000)! - live.get(200)!).toBeLessThan(0.5);
    expect(soak!.tensors!.after).toBe(soak!.tensors!.before);
  }, 120_000);

  it('a child silent for longer than the limit while a request is pending is killed and the request rejected', async () => {
    const script = path.join(import.meta.dirname, 'stub-child.mjs');
    const silent = await startChild(job({ kind: 'silent', threads: 1 } as unknown as ChildJob['engine']), progress, false, { silenceS: 3, script });
    const t0 = Date.now();
    await expect(silent.time(1, 3, 0)).rejects.toThrow(/no word from the child for 3 s while waiting for 'samples' \(hung\?\); killed it/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2900);
    await expect(silent.time(1, 1, 0)).rejects.toThrow(/no word from the child/);   // dead for good
    // A child that keeps reporting progress is waited for, however long the request takes (40 × 100 ms against a
    // limit of 3 s; the limit also covers starting the child, so it cannot be much shorter).
    const chatty = await startChild(job({ kind: 'chatty', threads: 1 } as unknown as ChildJob['engine']), progress, false, { silenceS: 3, script });
    expect(await chatty.time(1, 40, 0)).toEqual(Array(40).fill(100));
    chatty.kill();
  });

  it('a model that cannot load rejects the start with the engine\'s error, naming the file', async () => {
    const missing = path.join(tmp, 'no-such-model.onnx');
    await expect(startChild(job({ kind: 'ocellus', threads: 1 }, missing), progress, false)).rejects.toThrow(/no-such-model\.onnx/);
  });
});
