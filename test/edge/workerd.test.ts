// The Worker inside real workerd, built by edge/build.mjs as `npx wrangler deploy -c edge/wrangler.jsonc` would upload
// it: the int8 ResNet-50 as a static asset read through the ASSETS binding (a workerd disk service here), the two
// precompiled WASM modules, the script minified. Sent photos over HTTP, its answers must equal Node's int8 pipeline
// (pipeline(…, { dtype: 'q8' })); its sizes are checked against Cloudflare's limits; after 100 classifications the
// isolate's memory by V8's own count (the inspector's Runtime.getHeapUsage) plus the WASM heap must be ≤ 128 MiB,
// and workerd's RSS less that of workerd serving a trivial Worker is reported beside it. `wrangler deploy --dry-run` runs
// when wrangler is installed. The fp32 build (--fp32, local only) is checked too: its model crosses in 4 parts.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pipeline, type ImageClassifier } from '../../src/index.js';   // the package root: it registers the quantizer (dtype q8)
import { WORKERS_AI_LABELS } from '../../src/server/workers-ai-labels.js';
import { postBytes, readPhoto, REPO } from '../server/helpers.js';
import { isolateHeap, memoryOf, mib, MiB, startWorkerd, writeTrivialWorker, type Workerd } from './workerd-process.js';

const TOKEN = 'workerd-test-token';
const auth = { authorization: `Bearer ${TOKEN}` };
const ROUTE = '/client/v4/accounts/acc/ai/run/@cf%2Fmicrosoft%2Fresnet-50';
/** Cloudflare's documented limits (developers.cloudflare.com/workers/platform/limits). */
const LIMITS = { scriptBytes: 64 * MiB, scriptGzipFree: 3 * MiB, scriptGzipPaidOld: 10 * MiB, assetBytes: 25 * MiB, isolateBytes: 128 * MiB };
const PHOTOS = ['darknet/dog.jpg', 'opencv-doc/orange.jpg', 'skimage/coffee.png', 'opencv-doc/HappyFish.jpg', 'darknet/eagle.jpg'];
const WRANGLER = process.env.OCELLUS_TEST_WRANGLER ?? path.join(REPO, 'node_modules/.bin/wrangler');

type Built = {
  outDir: string; config: string; assetsDir: string;
  manifest: { id: string; dtype: string; bytes: number; parts: { path: string; bytes: number }[] };
  script: { bytes: number; gzipBytes: number; modules: { name: string; bytes: number; gzipBytes: number }[] };
};
type Row = { label: string; score: number };

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-workerd-'));
const running: Workerd[] = [];
afterAll(async () => {
  await Promise.all(running.map(w => w.stop()));
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function build(opts: Record<string, unknown>): Promise<Built> {
  const { buildWorker } = await import(pathToFileURL(path.join(REPO, 'edge/build.mjs')).href);
  return buildWorker(opts);
}

async function start(config: string): Promise<Workerd> {
  const w = await startWorkerd(config, { env: { OCELLUS_API_TOKEN: TOKEN } });
  running.push(w);
  return w;
}

function expectSameAnswer(got: Row[], want: Row[], log: string): void {
  expect(got.map(x => x.label), log).toEqual(want.map(x => x.label));
  got.forEach((x, i) => expect(x.score).toBeCloseTo(want[i]!.score, 5));
}

describe('the int8 Worker in workerd, as deployed', () => {
  let built: Built;
  let w: Workerd;
  let direct: ImageClassifier;
  const want = new Map<string, Row[]>();
  const classify = (photo: string) => postBytes(`${w.base}${ROUTE}`, readPhoto(photo), auth);

  beforeAll(async () => {
    // Node's answers first: a long pause after workerd's readiness check would leave fetch a keep-alive connection
    // that workerd has since closed.
    direct = await pipeline('image-classification', undefined, { dtype: 'q8', labels: WORKERS_AI_LABELS });
    for (const p of PHOTOS) want.set(p, await direct(readPhoto(p), { topK: 5 }));
    built = await build({ entry: path.join(REPO, 'test/edge/binding-worker.ts'), outDir: path.join(tmp, 'q8', 'out'), cloudflareAi: true, minify: true });
    w = await start(built.config);
  });
  afterAll(async () => {
    await w?.stop();
    await direct?.dispose();
  });

  it('bundles the int8 model as one static asset under 25 MiB and a script within the upload limits', () => {
    expect(built.manifest.dtype).toBe('q8');
    expect(built.manifest.parts).toEqual([{ path: '/model/model_quantized.onnx', bytes: built.manifest.bytes }]);
    const asset = path.join(built.assetsDir, 'model/model_quantized.onnx');
    expect(fs.statSync(asset).size).toBe(built.manifest.bytes);
    expect(built.manifest.bytes).toBeLessThanOrEqual(LIMITS.assetBytes);
    // Nothing else is in the assets directory (everything there is uploaded and public to the binding).
    expect(fs.readdirSync(built.assetsDir, { recursive: true }).sort()).toEqual(['model', path.join('model', 'model_quantized.onnx')]);
    // The script and every module beside it, each of them in workerd's config as in wrangler's upload.
    const wasm = fs.readdirSync(built.outDir).filter(f => f.endsWith('.wasm')).sort();
    expect(built.script.modules.map(m => m.name).sort()).toEqual(['worker.js', ...wasm].sort());
    const capnp = fs.readFileSync(built.config, 'utf8');
    for (const f of wasm) expect(capnp).toContain(`wasm = embed "${f}"`);
    for (const m of built.script.modules) expect(fs.statSync(path.join(built.outDir, m.name)).size).toBe(m.bytes);
    expect(built.script.bytes).toBeLessThanOrEqual(LIMITS.scriptBytes);
    expect(built.script.gzipBytes).toBeLessThanOrEqual(LIMITS.scriptGzipFree);   // the strictest: the free plan's 3 MiB
    console.log(`int8 Worker: script + modules ${mib(built.script.bytes)} (gzip ${mib(built.script.gzipBytes)}), model asset ` +
      `${built.manifest.bytes} bytes (limit ${LIMITS.assetBytes}); global scope up (first /health) ${w.readyMs.toFixed(0)} ms after spawn`);
  });

  it('classifies photos exactly as Node\'s int8 pipeline does (the first request loads the model from ASSETS)', async () => {
    const t0 = performance.now();
    const first = await classify(PHOTOS[0]!);
    const firstMs = performance.now() - t0;
    expect(first.status, w.log()).toBe(200);
    expect(first.json).toMatchObject({ success: true, errors: [] });
    expectSameAnswer(first.json.result, want.get(PHOTOS[0]!)!, w.log());
    const t1 = performance.now();
    for (const p of PHOTOS.slice(1)) {
      const r = await classify(p);
      expect(r.status, JSON.stringify(r.json)).toBe(200);
      expectSameAnswer(r.json.result, want.get(p)!, p);
    }
    console.log(`int8 Worker: first request ${firstMs.toFixed(0)} ms (model fetched, planned, run); ` +
      `then ${((performance.now() - t1) / (PHOTOS.length - 1)).toFixed(0)} ms a photo`);
    // The int8 model ran: its products are the integer kernels, not ocellus's float GEMM, single-threaded tfjs SIMD.
    const health = await fetch(`${w.base}/health`).then(h => h.json()) as { engine: Record<string, unknown> };
    expect(health.engine, w.log()).toMatchObject({ backend: 'wasm', build: 'simd', threads: 1 });
  });

  it('@cloudflare/ai Ai over createAiBinding inside workerd answers what the HTTP route answers', async () => {
    const bytes = readPhoto('opencv-doc/orange.jpg');
    const viaBinding = await postBytes(`${w.base}/test/binding/${encodeURIComponent('@cf/microsoft/resnet-50')}`, bytes);
    expect(viaBinding.status, JSON.stringify(viaBinding.json)).toBe(200);
    expect(viaBinding.json.lastRequestId).toMatch(/^[0-9a-f-]{36}$/);
    const viaHttp = await postBytes(`${w.base}/ai/run/@cf/microsoft/resnet-50`, JSON.stringify({ image: Array.from(bytes) }), { ...auth, 'content-type': 'application/json' });
    expect(viaHttp.status).toBe(200);
    expect(viaBinding.json.result).toEqual(viaHttp.json.result);
    expectSameAnswer(viaBinding.json.result, want.get('opencv-doc/orange.jpg')!, 'binding');
  });

  it('answers errors in the envelope: 401 without the token, 400 for a truncated PNG, 404', async () => {
    const jpeg = readPhoto('opencv-doc/HappyFish.jpg');
    const noAuth = await postBytes(`${w.base}/ai/run/@cf/microsoft/resnet-50`, jpeg);
    expect(noAuth.status).toBe(401);
    const png = readPhoto('skimage/coffee.png');
    const cut = await postBytes(`${w.base}/ai/run/@cf/microsoft/resnet-50`, png.subarray(0, png.length >> 1), auth);
    expect(cut.status).toBe(400);
    expect(cut.json.errors[0].message).toMatch(/truncated PNG/);
    const unknown = await postBytes(`${w.base}/ai/run/@cf/unknown/model`, jpeg, auth);
    expect(unknown.status).toBe(404);
    expect(unknown.json.errors[0].code).toBe(5007);
  });

  it('after 100 classifications the isolate holds ≤ 128 MiB (V8 heap, ArrayBuffers, WASM heap); workerd\'s RSS less a trivial Worker\'s is measured', async () => {
    const trivial = await start(writeTrivialWorker(path.join(tmp, 'trivial')));
    for (let i = 0; i < 100; i++) expect((await fetch(trivial.base)).status).toBe(200);
    const base = memoryOf(trivial.pid);
    await trivial.stop();
    const fresh = await startWorkerd(built.config, { env: { OCELLUS_API_TOKEN: TOKEN }, inspector: true });
    running.push(fresh);
    const post = (p: string) => postBytes(`${fresh.base}${ROUTE}`, readPhoto(p), auth);
    /** What the isolate holds by V8's count, plus the tfjs WASM heap (a WebAssembly.Memory; counting it whole may count
     *  part of it twice: an upper bound), and workerd's RSS against the trivial Worker's. */
    const measure = async (what: string) => {
      const heap = await isolateHeap(fresh, 'ocellus');
      const inside = await fetch(`${fresh.base}/test/memory`).then(r => r.json()) as { wasmHeapBytes: number; tf: { numTensors: number } };
      const isolate = heap.totalSize + heap.backingStorageSize + inside.wasmHeapBytes;
      const mem = memoryOf(fresh.pid);
      console.log(`int8 Worker after ${what}: isolate ${mib(isolate)} (V8 heap ${mib(heap.totalSize)}, ${mib(heap.usedSize)} used; ArrayBuffers ` +
        `${mib(heap.backingStorageSize)}, the model's ${mib(built.manifest.bytes)} among them; tfjs WASM heap ${mib(inside.wasmHeapBytes)}; ` +
        `${inside.tf.numTensors} live tensors) | workerd VmRSS ${mib(mem.rss)} (VmHWM ${mib(mem.hwm)}), trivial Worker ${mib(base.rss)}: ` +
        `difference ${mib(mem.rss - base.rss)} (peak ${mib(mem.hwm - base.hwm)})`);
      return { isolate, rssOver: mem.rss - base.rss, tensors: inside.tf.numTensors };
    };
    const jpegs = PHOTOS.filter(p => p.endsWith('.jpg'));
    for (let n = 0; n < 100; n++) {
      const p = jpegs[n % jpegs.length]!;
      const r = await post(p);
      expect(r.status, JSON.stringify(r.json)).toBe(200);
      expect(r.json.result.map((x: Row) => x.label)).toEqual(want.get(p)!.map(x => x.label));
    }
    const jpeg = await measure('100 JPEG classifications');
    expect(jpeg.isolate).toBeLessThanOrEqual(LIMITS.isolateBytes);
    // PNGs too, measured but not held to the limit: after them the isolate's ArrayBuffers read 75–80 MiB even after the
    // inspector's collection (the inflater's short-lived buffers: 125–131 MiB in all on this machine, around the 128 MiB
    // line from run to run) — open in issue #22. Tensors must not leak either way.
    for (let i = 0; i < 10; i++) expect((await post('skimage/coffee.png')).status).toBe(200);
    const png = await measure('10 PNG classifications more');
    expect(png.tensors).toBe(jpeg.tensors);
    console.log(`first /health ${fresh.readyMs.toFixed(0)} ms after spawn (trivial Worker: ${trivial.readyMs.toFixed(0)} ms)`);
    await fresh.stop();
  }, 900_000);

  it.skipIf(!fs.existsSync(WRANGLER))('wrangler deploy --dry-run takes the build as is (offline): the same script and WASM modules, the ASSETS binding', async () => {
    // edge/wrangler.jsonc's paths are relative to it: beside a copy of it, `out/` is this build.
    const config = path.join(tmp, 'q8', 'wrangler.jsonc');
    fs.copyFileSync(path.join(REPO, 'edge/wrangler.jsonc'), config);
    const dry = path.join(tmp, 'q8', 'dry');
    const { stdout } = await promisify(execFile)(WRANGLER, ['deploy', '-c', config, '--dry-run', '--outdir', dry], {
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1', CI: '1' }, timeout: 120_000,
    });
    for (const m of built.script.modules) {
      expect(fs.readFileSync(path.join(dry, m.name)).equals(fs.readFileSync(path.join(built.outDir, m.name))), m.name).toBe(true);
    }
    expect(stdout).toMatch(/env\.ASSETS\s+Assets/);
    const upload = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(stdout);
    expect(upload, stdout).not.toBeNull();
    expect(Number(upload![2]) * 1024).toBeLessThanOrEqual(LIMITS.scriptGzipFree);
    console.log(`wrangler --dry-run: Total Upload ${upload![1]} KiB / gzip ${upload![2]} KiB`);
  });
});

describe('the fp32 Worker in workerd (--fp32, local only)', () => {
  let built: Built;
  let w: Workerd;
  let direct: ImageClassifier;
  let fp32Want: Row[];

  beforeAll(async () => {
    direct = await pipeline('image-classification', undefined, { labels: WORKERS_AI_LABELS });
    fp32Want = await direct(readPhoto('darknet/dog.jpg'), { topK: 5 });
    built = await build({ outDir: path.join(tmp, 'fp32', 'out'), dtype: 'fp32' });
    w = await start(built.config);
  });
  afterAll(async () => {
    await w?.stop();
    await direct?.dispose();
  });

  it('crosses as 4 asset parts under 25 MiB, joined by the Worker; answers as pipeline() does in Node, on ocellus\'s precompiled kernels', async () => {
    expect(built.manifest.dtype).toBe('fp32');
    expect(built.manifest.parts).toHaveLength(4);
    expect(built.manifest.parts.reduce((n, p) => n + p.bytes, 0)).toBe(built.manifest.bytes);
    for (const p of built.manifest.parts) {
      expect(p.bytes).toBeLessThanOrEqual(LIMITS.assetBytes);
      expect(fs.statSync(path.join(built.assetsDir, p.path)).size).toBe(p.bytes);
    }
    const bytes = readPhoto('darknet/dog.jpg');
    const r = await postBytes(`${w.base}${ROUTE}`, bytes, auth);
    expect(r.status, w.log()).toBe(200);
    expectSameAnswer(r.json.result, fp32Want, w.log());
    // ocellus's own kernels ran in the Worker, from the module the build compiled ahead of time (Workers compile no
    // WASM at run time), single-threaded on tfjs's SIMD build.
    const health = await fetch(`${w.base}/health`).then(h => h.json()) as { engine: Record<string, unknown> };
    expect(health.engine, w.log()).toMatchObject({ backend: 'wasm', build: 'simd', threads: 1, kernels: 'ocellus-wasm' });
    // Every product's weights packed for them: ResNet-50's 53 convolutions and its classifier (~25.6 M floats).
    expect((health.engine.packedWeights as { count: number }).count).toBe(54);
    expect((health.engine.packedWeights as { MiB: number }).MiB).toBeGreaterThan(90);
    const mem = memoryOf(w.pid);
    console.log(`fp32 Worker after 1 classification: workerd VmRSS ${mib(mem.rss)} (VmHWM ${mib(mem.hwm)}) — over Cloudflare's 128 MB`);
  });
});
