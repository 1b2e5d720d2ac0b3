// The Worker inside real workerd: bundled by edge/build.mjs (with a test route using @cloudflare/ai's Ai over
// createAiBinding), started as `workerd serve out/config.capnp` on a free loopback port with an API token in its
// environment, sent photos over HTTP; answers must equal pipeline()'s in Node.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pipeline, type ImageClassifier } from '../../src/pipeline/index.js';
import { WORKERS_AI_LABELS } from '../../src/server/workers-ai-labels.js';
import { postBytes, readPhoto, REPO } from '../server/helpers.js';

const TOKEN = 'workerd-test-token';
const auth = { authorization: `Bearer ${TOKEN}` };
let workerd: ChildProcess | undefined;
let base = '';
let log = '';
let direct: ImageClassifier;
let outDir = '';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    }).on('error', reject);
  });
}

beforeAll(async () => {
  const { buildWorker } = await import(pathToFileURL(path.join(REPO, 'edge/build.mjs')).href);
  outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-workerd-'));
  const built = await buildWorker({ entry: path.join(REPO, 'test/edge/binding-worker.ts'), outDir, cloudflareAi: true });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const bin = path.join(REPO, 'node_modules/.bin/workerd');
  workerd = spawn(bin, ['serve', built.config, '--socket-addr', `http=127.0.0.1:${port}`, '--verbose'], {
    env: { ...process.env, OCELLUS_API_TOKEN: TOKEN }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  workerd.stdout!.on('data', d => { log += d; });
  workerd.stderr!.on('data', d => { log += d; });
  direct = await pipeline('image-classification', undefined, { labels: WORKERS_AI_LABELS });
  const t0 = Date.now();
  for (;;) {
    if (workerd.exitCode !== null) throw new Error(`workerd exited with ${workerd.exitCode}: ${log}`);
    const ok = await fetch(`${base}/health`).then(r => r.ok, () => false);
    if (ok) break;
    if (Date.now() - t0 > 120_000) throw new Error(`workerd did not answer within 120 s: ${log}`);
    await new Promise(r => setTimeout(r, 250));
  }
});

afterAll(async () => {
  if (workerd && workerd.exitCode === null) {
    const exited = new Promise(r => workerd!.once('exit', r));
    workerd.kill('SIGTERM');
    await Promise.race([exited, new Promise(r => setTimeout(r, 5000))]);
    if (workerd.exitCode === null) workerd.kill('SIGKILL');
  }
  await direct?.dispose();
  if (outDir) fs.rmSync(outDir, { recursive: true, force: true });
});

describe('the Worker in workerd', () => {
  it('classifies a JPEG photo exactly as pipeline() does in Node', async () => {
    const bytes = readPhoto('darknet/dog.jpg');
    const r = await postBytes(`${base}/client/v4/accounts/acc/ai/run/@cf%2Fmicrosoft%2Fresnet-50`, bytes, auth);
    expect(r.status, log).toBe(200);
    expect(r.json).toMatchObject({ success: true, errors: [] });
    const want = await direct(bytes, { topK: 5 });
    expect(r.json.result.map((x: { label: string }) => x.label)).toEqual(want.map(x => x.label));
    r.json.result.forEach((x: { score: number }, i: number) => expect(x.score).toBeCloseTo(want[i]!.score, 5));
    // ocellus's own kernels ran in the Worker, from the module the build compiled ahead of time (Workers compile no
    // WASM at run time), single-threaded on tfjs's SIMD build.
    const health = await fetch(`${base}/health`).then(h => h.json()) as { engine: Record<string, unknown> };
    expect(health.engine, log).toMatchObject({ backend: 'wasm', build: 'simd', threads: 1, kernels: 'ocellus-wasm' });
    // Every product's weights packed for them: ResNet-50's 53 convolutions and its classifier (~25.6 M floats).
    expect((health.engine.packedWeights as { count: number }).count).toBe(54);
    expect((health.engine.packedWeights as { MiB: number }).MiB).toBeGreaterThan(90);
  });

  it('@cloudflare/ai Ai over createAiBinding inside workerd answers what the HTTP route answers', async () => {
    const bytes = readPhoto('opencv-doc/orange.jpg');
    const viaBinding = await postBytes(`${base}/test/binding/${encodeURIComponent('@cf/microsoft/resnet-50')}`, bytes);
    expect(viaBinding.status, JSON.stringify(viaBinding.json)).toBe(200);
    expect(viaBinding.json.lastRequestId).toMatch(/^[0-9a-f-]{36}$/);
    const viaHttp = await postBytes(`${base}/ai/run/@cf/microsoft/resnet-50`, JSON.stringify({ image: Array.from(bytes) }), { ...auth, 'content-type': 'application/json' });
    expect(viaHttp.status).toBe(200);
    expect(viaBinding.json.result).toEqual(viaHttp.json.result);
    const want = await direct(bytes, { topK: 5 });
    expect(viaBinding.json.result.map((x: { label: string }) => x.label)).toEqual(want.map(x => x.label));
  });

  it('classifies a PNG photo exactly as pipeline() does in Node (the PNG decoder needs no node:zlib)', async () => {
    const bytes = readPhoto('skimage/coffee.png');
    const r = await postBytes(`${base}/ai/run/@cf/microsoft/resnet-50`, bytes, auth);
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    const want = await direct(bytes, { topK: 5 });
    expect(r.json.result.map((x: { label: string }) => x.label)).toEqual(want.map(x => x.label));
    r.json.result.forEach((x: { score: number }, i: number) => expect(x.score).toBeCloseTo(want[i]!.score, 5));
  });

  it('answers errors in the envelope: 401 without the token, 400 for a truncated PNG, 404', async () => {
    const jpeg = readPhoto('opencv-doc/HappyFish.jpg');
    const noAuth = await postBytes(`${base}/ai/run/@cf/microsoft/resnet-50`, jpeg);
    expect(noAuth.status).toBe(401);
    const png = readPhoto('skimage/coffee.png');
    const cut = await postBytes(`${base}/ai/run/@cf/microsoft/resnet-50`, png.subarray(0, png.length >> 1), auth);
    expect(cut.status).toBe(400);
    expect(cut.json.errors[0].message).toMatch(/truncated PNG/);
    const unknown = await postBytes(`${base}/ai/run/@cf/unknown/model`, jpeg, auth);
    expect(unknown.status).toBe(404);
    expect(unknown.json.errors[0].code).toBe(5007);
  });
});
