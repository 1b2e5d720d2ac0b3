// Load and lifecycle: 200 concurrent requests on the tiny real model all succeed with pipeline()'s answers and
// leave tf.memory().numTensors where it was; concurrent ResNet-50 requests are micro-batched and still correct;
// close() and SIGTERM (the real CLI process) finish in-flight requests before stopping.

import { spawn } from 'node:child_process';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pipeline, type ImageClassifier } from '../../src/pipeline/index.js';
import { startServer, type RunningServer } from '../../src/server/node.js';
import { WORKERS_AI_LABELS } from '../../src/server/workers-ai-labels.js';
import { fakePipeline, postBytes, readPhoto, REPO, tinyModelDir } from './helpers.js';

const SMALL = ['opencv-doc/HappyFish.jpg', 'opencv-doc/butterfly.jpg', 'opencv-doc/orange.jpg'];

describe('200 concurrent requests (tiny model, real engine)', () => {
  let s: RunningServer;
  let direct: ImageClassifier;
  const dir = tinyModelDir();
  beforeAll(async () => {
    s = await startServer({ port: 0, demo: false, models: { tiny: dir }, maxQueue: 256, maxBatch: 4 });
    direct = await pipeline('image-classification', dir);
  });
  afterAll(async () => {
    await s?.close();
    await direct?.dispose();
  });

  const burst = (n: number) => Promise.all(Array.from({ length: n }, (_, i) => postBytes(`${s.url}/models/tiny`, readPhoto(SMALL[i % SMALL.length]!))));

  it('all succeed with the direct answers, in batches, and numTensors stays flat', async () => {
    const want = await Promise.all(SMALL.map(p => direct(readPhoto(p), { topK: 5 })));
    await burst(24);   // warm-up: plans for every batch size 1–4
    const tensorsBefore = tf.memory().numTensors;
    const t0 = performance.now();
    const results = await burst(200);
    const ms = performance.now() - t0;
    results.forEach((r, i) => {
      expect(r.status).toBe(200);
      const w = want[i % SMALL.length]!;
      expect(r.json.map((x: { label: string }) => x.label)).toEqual(w.map(x => x.label));
      r.json.forEach((x: { score: number }, k: number) => expect(x.score).toBeCloseTo(w[k]!.score, 5));
    });
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    const st = s.app.registry.status().tiny!;
    expect(st.largestBatch).toBeGreaterThan(1);
    expect(st.jobs).toBe(224);
    console.log(`200 concurrent (tiny model): ${ms.toFixed(0)} ms, ${st.batches} batches in all, numTensors ${tensorsBefore} → ${tf.memory().numTensors}`);
  });
});

describe('concurrent ResNet-50 requests', () => {
  it("each get their own photo's top-5, also when run together as one batch", async () => {
    const s = await startServer({ port: 0, demo: false, warm: true, maxBatch: 4 });
    const direct = await pipeline('image-classification', undefined, { labels: WORKERS_AI_LABELS });
    try {
      const photos = ['darknet/dog.jpg', 'opencv-doc/orange.jpg'];
      const want = await Promise.all(photos.map(p => direct(readPhoto(p), { topK: 5 })));
      const check = (got: { label: string; score: number }[], i: number) => {
        expect(got.map(x => x.label)).toEqual(want[i % 2]!.map(x => x.label));
        got.forEach((x, k) => expect(x.score).toBeCloseTo(want[i % 2]![k]!.score, 5));
      };
      const t0 = performance.now();
      const results = await Promise.all(Array.from({ length: 4 }, (_, i) => postBytes(`${s.url}/ai/run/@cf/microsoft/resnet-50`, readPhoto(photos[i % 2]!))));
      const ms = performance.now() - t0;
      results.forEach((r, i) => {
        expect(r.status).toBe(200);
        check(r.json.result, i);
      });
      // Three calls in one tick: the first runs at once, the other two queue behind it and run as one batch.
      const reg = s.app.registry;
      await reg.idle();
      const before = reg.status()['@cf/microsoft/resnet-50']!.batches;
      const together = await Promise.all([0, 1, 0].map(i => reg.classify('@cf/microsoft/resnet-50', readPhoto(photos[i]!))));
      together.forEach((got, k) => check(got, [0, 1, 0][k]!));
      const st = reg.status()['@cf/microsoft/resnet-50']!;
      expect(st.batches - before).toBe(2);
      expect(st.largestBatch).toBeGreaterThanOrEqual(2);
      console.log(`4 concurrent ResNet-50 requests over HTTP: ${ms.toFixed(0)} ms; ${st.batches} batches in all (largest ${st.largestBatch})`);
    } finally {
      await s.close();
      await direct.dispose();
    }
  });
});

describe('graceful shutdown', () => {
  it('close() stops accepting, finishes the running and queued requests, then releases the models', async () => {
    let open!: () => void;
    const gate = new Promise<void>(r => { open = r; });
    let disposed = false;
    const fake = fakePipeline({ gate: () => gate });
    fake.dispose = async () => { disposed = true; };
    const s = await startServer({ port: 0, demo: false, maxBatch: 1, loader: async () => fake });
    const url = `${s.url}/ai/run/@cf/microsoft/resnet-50`;
    const inFlight = Array.from({ length: 5 }, () => postBytes(url, readPhoto('opencv-doc/HappyFish.jpg')));
    const st = () => s.app.registry.status()['@cf/microsoft/resnet-50']!;
    while (st().waiting + st().jobs < 5) await new Promise(r => setTimeout(r, 5));
    const closing = s.close();
    await expect(fetch(`${s.url}/health`)).rejects.toThrow();   // no longer accepting
    expect(disposed).toBe(false);
    open();
    for (const r of await Promise.all(inFlight)) expect(r.status).toBe(200);
    await closing;
    expect(disposed).toBe(true);
  });

  it('SIGTERM to `ocellus serve` finishes in-flight requests and exits 0', async () => {
    const dir = tinyModelDir();
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'src/cli/main.ts'), 'serve', '--port', '0', '--no-demo', '--max-batch', '2', '--model', `tiny=${dir}`], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', d => { stdout += d; });
    child.stderr.on('data', d => { stderr += d; });
    const exited = new Promise<number | null>(r => child.on('exit', code => r(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const t = setInterval(() => {
          const m = /listening on (http:\/\/\S+)/.exec(stdout);
          if (m) { clearInterval(t); resolve(m[1]!); }
        }, 20);
        void exited.then(code => { clearInterval(t); reject(new Error(`serve exited with ${code}: ${stderr}`)); });
      });
      const big = readPhoto('darknet/giraffe.jpg');
      const inFlight = Array.from({ length: 8 }, () => postBytes(`${url}/models/tiny`, big));
      for (;;) {   // until the server holds all 8 (waiting or taken into batches)
        const st = (await (await fetch(`${url}/health`)).json() as any).models.tiny;
        if (st.waiting + st.jobs >= 8) break;
        await new Promise(r => setTimeout(r, 10));
      }
      child.kill('SIGTERM');
      for (const r of await Promise.all(inFlight)) expect(r.status).toBe(200);
      expect(await exited).toBe(0);
      expect(stderr).toMatch(/SIGTERM: finishing in-flight requests/);
      expect(stderr).toMatch(/stopped/);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
