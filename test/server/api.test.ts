// The HTTP API over real sockets: routes (Cloudflare and short paths, raw and percent-encoded model ids, the
// Hugging Face form), both body forms, and every error status. Most tests use a stand-in pipeline whose answer
// follows from the decoded image size, so routing and label mapping are checked without a model; one checks the
// tiny real model against pipeline() directly.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineInfo } from '../../src/runtime/engine-info.js';
import { decodeImage } from '../../src/image/decode.js';
import { pipeline } from '../../src/pipeline/index.js';
import { startServer, type RunningServer } from '../../src/server/node.js';
import { WORKERS_AI_LABELS } from '../../src/server/workers-ai-labels.js';
import { fakePipeline, postBytes, readPhoto, TINY_LABELS, tinyModelDir } from './helpers.js';

const FISH = readPhoto('opencv-doc/HappyFish.jpg');
const { width, height } = decodeImage(FISH);
const FAKE_TOP = (width + height) % 1000;

describe('Workers AI routes', () => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await startServer({ port: 0, demo: false, loader: async () => fakePipeline() });
  });
  afterAll(() => s.close());

  const expectFishEnvelope = (r: { status: number; json: any }) => {
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ success: true, errors: [], messages: [] });
    expect(r.json.result).toHaveLength(5);
    expect(r.json.result[0]).toEqual({ label: WORKERS_AI_LABELS[FAKE_TOP], score: 0.9 });
    expect(r.json.result[1].label).toBe(WORKERS_AI_LABELS[FAKE_TOP === 1 ? 0 : 1]);
  };

  it.each([
    '/client/v4/accounts/abc123/ai/run/@cf/microsoft/resnet-50',
    '/client/v4/accounts/abc123/ai/run/@cf%2Fmicrosoft%2Fresnet-50',
    '/ai/run/@cf/microsoft/resnet-50',
    '/ai/run/%40cf%2Fmicrosoft%2Fresnet-50',
  ])('POST %s with raw bytes answers the envelope with Workers AI labels', async route => {
    expectFishEnvelope(await postBytes(s.url + route, FISH, { 'content-type': 'application/octet-stream' }));
  });

  it('takes JSON { image: number[] } (with or without a JSON content type) and base64', async () => {
    const body = JSON.stringify({ image: Array.from(FISH) });
    expectFishEnvelope(await postBytes(`${s.url}/ai/run/@cf/microsoft/resnet-50`, body, { 'content-type': 'application/json' }));
    expectFishEnvelope(await postBytes(`${s.url}/ai/run/@cf/microsoft/resnet-50`, body));
    const b64 = JSON.stringify({ image: Buffer.from(FISH).toString('base64') });
    expectFishEnvelope(await postBytes(`${s.url}/ai/run/@cf/microsoft/resnet-50`, b64, { 'content-type': 'application/json' }));
  });

  it('Hugging Face form: a bare array with the model config labels, top_k from JSON parameters', async () => {
    const r = await postBytes(`${s.url}/models/ocellus/resnet-50-keras`, FISH, { 'content-type': 'image/jpeg' });
    expect(r.status).toBe(200);
    expect(r.json).toHaveLength(5);
    expect(r.json[0]).toEqual({ label: `fake ${FAKE_TOP}`, score: 0.9 });
    const j = await postBytes(`${s.url}/models/@cf%2Fmicrosoft%2Fresnet-50`, JSON.stringify({ inputs: Buffer.from(FISH).toString('base64'), parameters: { top_k: 2 } }), { 'content-type': 'application/json' });
    expect(j.json).toEqual([{ label: `fake ${FAKE_TOP}`, score: 0.9 }, { label: `fake ${FAKE_TOP === 1 ? 0 : 1}`, score: 0.1 }]);
  });

  it('GET /models lists the served ids; /health reports them', async () => {
    const models = await (await fetch(`${s.url}/models`)).json() as any;
    expect(models.success).toBe(true);
    expect(models.result.map((m: any) => m.id)).toEqual(['@cf/microsoft/resnet-50', 'ocellus/resnet-50-keras']);
    expect(models.result[0]).toMatchObject({ labels: 'workers-ai', model: 'ocellus/resnet-50-keras' });
    const health = await fetch(`${s.url}/health`);
    expect(health.status).toBe(200);
    const h = (await health.json()) as any;
    expect(h.status).toBe('ok');
    // the engine's facts (these tests serve fake pipelines, so the backend may not have started)
    expect(h.engine).toEqual(engineInfo());
    expect(['wasm', 'none']).toContain(h.engine.backend);
  });
});

describe('error statuses', () => {
  let s: RunningServer;
  const logged: unknown[] = [];
  let failNext: Error | undefined;
  beforeAll(async () => {
    const inner = fakePipeline();
    const flaky = Object.create(inner, { scores: { value: async (imgs: never[]) => { const f = failNext; failNext = undefined; if (f) throw f; return inner.scores(imgs); } } });
    s = await startServer({ port: 0, demo: false, maxBodyBytes: 1024 * 1024, loader: async () => flaky, log: e => logged.push(e) });
  });
  afterAll(() => s.close());
  const run = (body: Uint8Array | string, headers: Record<string, string> = {}) => postBytes(`${s.url}/ai/run/@cf/microsoft/resnet-50`, body, headers);
  const expectError = (r: { status: number; json: any }, status: number, code: number, message: RegExp) => {
    expect(r.status).toBe(status);
    expect(r.json).toMatchObject({ success: false, result: null, messages: [] });
    expect(r.json.errors).toHaveLength(1);
    expect(r.json.errors[0].code).toBe(code);
    expect(r.json.errors[0].message).toMatch(message);
  };

  it('400: not an image, empty body, bad JSON, missing field', async () => {
    expectError(await run('hello, not an image'), 400, 5004, /not an image/);
    expectError(await run(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3])), 400, 5004, /JPEG/);
    expectError(await run(''), 400, 3003, /missing a body/);
    expectError(await run('{"image": [1, 2', { 'content-type': 'application/json' }), 400, 3003, /not valid JSON/);
    expectError(await run('{"picture": [1, 2]}'), 400, 3003, /no "image" field/);
    expectError(await run('[1, 2, 3]', { 'content-type': 'application/json' }), 400, 3003, /must be an object/);
  });

  it.each([
    [[255, 216, 300], 2, '300'], [[-1], 0, '-1'], [[0, 1.5], 1, '1.5'], [[1, 2, 3, '4'], 3, '"4"'], [[1, null], 1, 'null'],
  ])('400 names the first bad byte: %j → image[%i]', async (image, index, shown) => {
    const r = await run(JSON.stringify({ image }), { 'content-type': 'application/json' });
    expectError(r, 400, 5004, new RegExp(`^image\\[${index}\\] is ${shown.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')};`));
  });

  it('400 for an image given as a URL, and the URL is never fetched', async () => {
    let hits = 0;
    const target = http.createServer((_q, r) => { hits++; r.end('x'); });
    await new Promise<void>(r => target.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(target.address() as AddressInfo).port}/photo.jpg`;
    try {
      expectError(await run(JSON.stringify({ image: url }), { 'content-type': 'application/json' }), 400, 5004, /does not fetch URLs/);
      const hf = await postBytes(`${s.url}/models/ocellus/resnet-50-keras`, JSON.stringify({ inputs: url }), { 'content-type': 'application/json' });
      expect(hf.status).toBe(400);
      expect(hf.json.error).toMatch(/does not fetch URLs/);
    } finally {
      target.close();
    }
    expect(hits).toBe(0);
  });

  it('404 for an unknown model and an unknown route', async () => {
    expectError(await postBytes(`${s.url}/ai/run/@cf/meta/llama-3-8b-instruct`, FISH), 404, 5007, /No such model @cf\/meta\/llama-3-8b-instruct/);
    expectError(await postBytes(`${s.url}/models/google/vit-base-patch16-224`, FISH), 404, 5007, /No such model/);
    const r = await fetch(`${s.url}/v2/nothing`);
    expectError({ status: r.status, json: await r.json() }, 404, 7000, /No route for GET \/v2\/nothing/);
  });

  it('405 with Allow: POST for other methods on the run routes', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const r = await fetch(`${s.url}/client/v4/accounts/a/ai/run/@cf/microsoft/resnet-50`, { method });
      expect(r.status).toBe(405);
      expect(r.headers.get('allow')).toBe('POST');
      expect(((await r.json()) as any).success).toBe(false);
    }
    expect((await fetch(`${s.url}/models/ocellus/resnet-50-keras`)).status).toBe(405);
  });

  it('413 on a declared Content-Length over the limit, before any body byte is read', async () => {
    const r = await rawRequest(s.port, { 'content-length': String(50 * 1024 * 1024) }, async () => {});
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body).errors[0]).toMatchObject({ code: 3006 });
    expect(JSON.parse(r.body).errors[0].message).toMatch(/Content-Length is 50 MB, over the 1 MB limit/);
  });

  it('413 while streaming a chunked body: refused once 1 MB has arrived, long before the whole 32 MB', async () => {
    let written = 0;
    const r = await rawRequest(s.port, { 'transfer-encoding': 'chunked' }, async (req, answered) => {
      const chunk = Buffer.alloc(64 * 1024, 7);
      while (written < 32 * 1024 * 1024 && !answered()) {
        if (!req.write(chunk)) await new Promise(res => req.once('drain', res));
        written += chunk.length;
        await new Promise(res => setTimeout(res, 2));
      }
    });
    const answeredAt = written;   // bytes sent when the answer came
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body).errors[0].message).toMatch(/the body passed 1 MB/);
    expect(answeredAt).toBeGreaterThan(1024 * 1024);
    expect(answeredAt).toBeLessThan(24 * 1024 * 1024);   // socket buffers let the client run a few MB ahead
  });

  it('500 without internals for an engine failure; the server keeps serving', async () => {
    failNext = new Error('kernel exploded at /secret/path/session.ts:123');
    const r = await run(FISH);
    expectError(r, 500, 3001, /^Internal server error$/);
    expect(JSON.stringify(r.json)).not.toMatch(/secret|exploded/);
    expect(logged.some(e => (e as Error).message?.includes('exploded'))).toBe(true);
    expect((await run(FISH)).status).toBe(200);
  });
});

describe('authentication', () => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await startServer({ port: 0, demo: false, token: 'sekret-token', loader: async () => fakePipeline() });
  });
  afterAll(() => s.close());

  it('401 without or with a wrong bearer token; 200 with the right one; /health stays open', async () => {
    const url = `${s.url}/ai/run/@cf/microsoft/resnet-50`;
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: 'sekret-token' }, { authorization: 'Bearer sekret-toke' }] as Record<string, string>[]) {
      const r = await postBytes(url, FISH, headers);
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toBe('Bearer');
      expect(r.json.errors[0].code).toBe(10000);
    }
    expect((await fetch(`${s.url}/models`)).status).toBe(401);
    expect((await postBytes(url, FISH, { authorization: 'Bearer sekret-token' })).status).toBe(200);
    expect((await fetch(`${s.url}/health`)).status).toBe(200);
  });
});

describe('queue', () => {
  it('503 with Retry-After when the queue is full; the queued requests still succeed', async () => {
    let open!: () => void;
    const gate = new Promise<void>(r => { open = r; });
    const s = await startServer({ port: 0, demo: false, maxQueue: 2, maxBatch: 1, loader: async () => fakePipeline({ gate: () => gate }) });
    try {
      const url = `${s.url}/ai/run/@cf/microsoft/resnet-50`;
      const first = postBytes(url, FISH);
      await waitFor(() => s.app.registry.status()['@cf/microsoft/resnet-50']!.busy);
      const queued = [postBytes(url, FISH), postBytes(url, FISH)];
      await waitFor(() => s.app.registry.status()['@cf/microsoft/resnet-50']!.waiting === 2);
      const refused = await postBytes(url, FISH);
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(refused.json.errors[0].code).toBe(3040);
      open();
      for (const r of await Promise.all([first, ...queued])) expect(r.status).toBe(200);
    } finally {
      open();
      await s.close();
    }
  });

  it('micro-batches waiting requests; an undecodable image fails only its own request', async () => {
    let open!: () => void;
    const gate = new Promise<void>(r => { open = r; });
    const calls: number[][] = [];
    const s = await startServer({ port: 0, demo: false, maxBatch: 4, loader: async () => fakePipeline({ gate: () => gate, calls }) });
    try {
      const url = `${s.url}/ai/run/@cf/microsoft/resnet-50`;
      const first = postBytes(url, FISH);
      await waitFor(() => s.app.registry.status()['@cf/microsoft/resnet-50']!.busy);
      const rest = [postBytes(url, FISH), postBytes(url, 'not an image'), postBytes(url, FISH)];
      // Images are decoded before they queue: the undecodable one is answered while the queue is still held.
      expect((await rest[1]!).status).toBe(400);
      await waitFor(() => s.app.registry.status()['@cf/microsoft/resnet-50']!.waiting === 2);
      open();
      const [a, b, bad, c] = await Promise.all([first, ...rest]);
      for (const r of [a, b, c]) expect(r!.status).toBe(200);
      expect(bad!.status).toBe(400);
      expect(calls).toEqual([[width], [width, width]]);   // one run of 1, then one batch of the 2 good images
    } finally {
      open();
      await s.close();
    }
  });
});

describe('tiny real model', () => {
  it('the Hugging Face route answers what pipeline() gives for the same photo', async () => {
    const dir = tinyModelDir();
    const s = await startServer({ port: 0, demo: false, models: { tiny: dir } });
    const direct = await pipeline('image-classification', dir);
    try {
      const r = await postBytes(`${s.url}/models/tiny`, FISH);
      expect(r.status).toBe(200);
      const want = await direct(FISH, { topK: 5 });
      expect(r.json.map((x: any) => x.label)).toEqual(want.map(x => x.label));
      r.json.forEach((x: any, i: number) => expect(x.score).toBeCloseTo(want[i]!.score, 6));
      expect(TINY_LABELS).toContain(r.json[0].label);
    } finally {
      await s.close();
      await direct.dispose();
    }
  });
});

async function waitFor(cond: () => boolean, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await new Promise(r => setTimeout(r, 5));
  }
}

/** A POST to /ai/run/@cf/microsoft/resnet-50 over node:http, with `send` writing the body while the answer may arrive. */
function rawRequest(port: number, headers: Record<string, string>, send: (req: http.ClientRequest, answered: () => boolean) => Promise<void>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/ai/run/@cf/microsoft/resnet-50', headers }, res => {
      answered = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', d => { body += d; });
      res.on('end', () => {
        resolve({ status: res.statusCode!, body });
        req.destroy();
      });
    });
    req.on('error', e => (answered ? undefined : reject(e)));
    send(req, () => answered).then(() => { if (!answered) req.end(); }, reject);
  });
}
