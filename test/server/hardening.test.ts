// Issue #18's low items: hostile JSON gets a short 400 (deep nesting refused before parsing, bad elements quoted by
// a short prefix), a client that disconnects mid-body is no server error, every route answers other methods (OPTIONS
// too) with 405 and Allow, the Node server's own timeouts close slow clients, and the deadline covers a slow body.

import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { checkJsonDepth, MAX_JSON_DEPTH } from '../../src/server/body.js';
import { SERVER_TIMEOUTS, startServer, type RunningServer } from '../../src/server/node.js';
import { fakePipeline, postBytes } from './helpers.js';

const RUN = '/ai/run/@cf/microsoft/resnet-50';
const HF = '/models/ocellus/resnet-50-keras';

/** Writes `chunks` on a raw socket (then keeps it open, or destroys it); resolves with what came back once closed. */
function rawExchange(port: number, chunks: string[], opts: { destroyAfterWrite?: boolean; watchdogMs?: number } = {}): Promise<{ data: string; closed: boolean }> {
  return new Promise(resolve => {
    let data = '';
    const sock = net.connect(port, '127.0.0.1', () => {
      for (const c of chunks) sock.write(c);
      if (opts.destroyAfterWrite) setTimeout(() => sock.destroy(), 50);
    });
    const watchdog = setTimeout(() => { sock.destroy(); resolve({ data, closed: false }); }, opts.watchdogMs ?? 10_000);
    sock.setEncoding('utf8');
    sock.on('data', d => { data += d; });
    sock.on('error', () => {});
    sock.on('close', () => { clearTimeout(watchdog); resolve({ data, closed: true }); });
  });
}

describe('hostile JSON and long values', () => {
  let s: RunningServer;
  const logged: unknown[] = [];
  beforeAll(async () => {
    s = await startServer({ port: 0, demo: false, loader: async () => fakePipeline(), log: e => logged.push(e) });   // bodies read in the worker
  });
  afterAll(() => s.close());
  afterEach(() => expect(logged).toEqual([]));

  it('200,000 levels of nesting → 400 with a short message, on both API forms', async () => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    for (const [route, body] of [[RUN, `{"image":${deep}}`], [HF, `{"inputs":${deep}}`]] as const) {
      const r = await postBytes(s.url + route, body, { 'content-type': 'application/json' });
      expect(r.status).toBe(400);
      const message: string = r.json.errors?.[0]?.message ?? r.json.error;
      expect(message).toBe(`JSON body is nested deeper than ${MAX_JSON_DEPTH} levels; the API takes { "image": [bytes…] }`);
      expect(JSON.stringify(r.json).length).toBeLessThan(400);
    }
  });

  it('the depth check counts brackets outside strings only, and lets the API forms through', () => {
    expect(() => checkJsonDepth(new TextEncoder().encode(`{"image":"${'['.repeat(100)}\\"[[["}`))).not.toThrow();
    expect(() => checkJsonDepth(new TextEncoder().encode(`{"inputs":"x","parameters":{"top_k":[[1]]}}`))).not.toThrow();
    expect(() => checkJsonDepth(new TextEncoder().encode('['.repeat(MAX_JSON_DEPTH + 1)))).toThrow(/nested deeper/);
  });

  it('a bad element of 300,000 numbers, or a megabyte string, is named by kind and a short prefix', async () => {
    const cases: [string, RegExp][] = [
      [`{"image":[255,216,[${Array(300_000).fill(7).join(',')}]]}`, /^image\[2\] is an array \(300000 elements\); every element must be/],
      [`{"image":[1,"${'A'.repeat(1_000_000)}"]}`, /^image\[1\] is "AAAAAAAAAAAAAAAAAAAAAAAA…" \(1000000 characters\); every element/],
      [`{"image":[1,{"a":[${Array(1000).fill(1).join(',')}]}]}`, /^image\[1\] is an object; every element/],
    ];
    for (const [body, message] of cases) {
      const r = await postBytes(s.url + RUN, body, { 'content-type': 'application/json' });
      expect(r.status).toBe(400);
      expect(r.json.errors[0].code).toBe(5004);
      expect(r.json.errors[0].message).toMatch(message);
      expect(JSON.stringify(r.json).length).toBeLessThan(400);
    }
    const topK = await postBytes(s.url + HF, JSON.stringify({ inputs: 'AAAA', parameters: { top_k: 'k'.repeat(100_000) } }), { 'content-type': 'application/json' });
    expect(topK.status).toBe(400);
    expect(topK.json.error).toMatch(/^parameters\.top_k must be a positive integer, got "k{24}…" \(100000 characters\)$/);
  });

  it('a long model id or path is cut short in the 404', async () => {
    const long = 'x'.repeat(5000);
    const model = await postBytes(`${s.url}/ai/run/@cf/${long}`, 'abc');
    expect(model.status).toBe(404);
    expect(model.json.errors[0].message.length).toBeLessThan(300);
    const route = await fetch(`${s.url}/${long}`);
    expect(route.status).toBe(404);
    expect(((await route.json()) as any).errors[0].message.length).toBeLessThan(200);
  });
});

describe('a client that disconnects mid-body', () => {
  it('is not logged as a server error', async () => {
    const logged: unknown[] = [];
    const consoleCalls = (['error', 'warn', 'info', 'log'] as const).map(m => vi.spyOn(console, m));
    const s = await startServer({ port: 0, demo: false, imageWorkers: 0, loader: async () => fakePipeline(), log: e => logged.push(e) });
    try {
      const head = `POST ${RUN} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\nContent-Length: 1000000\r\n\r\n`;
      for (let i = 0; i < 3; i++) {
        const r = await rawExchange(s.port, [head, 'x'.repeat(20_000)], { destroyAfterWrite: true });
        expect(r.closed).toBe(true);
      }
      // The server has seen every socket close (its handlers run on that event); then nothing may have been logged.
      for (let i = 0; ; i++) {
        const open = await new Promise<number>(r => s.server.getConnections((_e, n) => r(n)));
        if (open === 0) break;
        if (i > 200) throw new Error('connections never closed');
        await new Promise(r => setTimeout(r, 10));
      }
      await new Promise(r => setTimeout(r, 100));
      expect(logged).toEqual([]);
      for (const spy of consoleCalls) expect(spy.mock.calls.map(c => String(c[0]))).toEqual([]);
      expect((await fetch(`${s.url}/health`)).status).toBe(200);
    } finally {
      for (const spy of consoleCalls) spy.mockRestore();
      await s.close();
    }
  });
});

describe('methods', () => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await startServer({ port: 0, imageWorkers: 0, loader: async () => fakePipeline() });   // with the demo page's assets
  });
  afterAll(() => s.close());

  it.each([
    [RUN, 'POST'], [`/client/v4/accounts/a${RUN}`, 'POST'], [HF, 'POST'], ['/health', 'GET, HEAD'], ['/models', 'GET, HEAD'], ['/', 'GET, HEAD'],
  ])('OPTIONS and other methods on %s → 405 with Allow: %s', async (route, allow) => {
    for (const method of ['OPTIONS', 'PUT', 'DELETE', 'PATCH', ...(allow === 'POST' ? ['GET'] : ['POST'])]) {
      const r = await fetch(s.url + route, { method });
      expect([method, r.status]).toEqual([method, 405]);
      expect(r.headers.get('allow')).toBe(allow);
      const body = (await r.json()) as any;
      expect(body).toMatchObject({ success: false, errors: [{ code: 7001 }] });
      expect(body.errors[0].message).toBe(`Method ${method} not allowed here; use ${allow.replace(', ', ' or ')}`);
    }
  });

  it('a path nothing serves is still 404 for every method', async () => {
    for (const method of ['OPTIONS', 'GET', 'POST']) expect((await fetch(`${s.url}/v2/nothing`, { method })).status).toBe(404);
  });
});

describe('Node server timeouts', () => {
  it('are set explicitly (headers 10 s, request 60 s, keep-alive 5 s)', async () => {
    const s = await startServer({ port: 0, demo: false, imageWorkers: 0, loader: async () => fakePipeline() });
    try {
      expect(SERVER_TIMEOUTS).toMatchObject({ headersTimeoutMs: 10_000, requestTimeoutMs: 60_000, keepAliveTimeoutMs: 5_000 });
      expect([s.server.headersTimeout, s.server.requestTimeout, s.server.keepAliveTimeout]).toEqual([10_000, 60_000, 5_000]);
    } finally {
      await s.close();
    }
  });

  it('a client that never finishes its headers, or its body, is answered 408 and closed (Node alone would wait 60 / 300 s)', async () => {
    const logged: unknown[] = [];
    const s = await startServer({ port: 0, demo: false, imageWorkers: 0, headersTimeoutMs: 500, requestTimeoutMs: 1000, deadlineMs: 60_000, loader: async () => fakePipeline(), log: e => logged.push(e) });
    try {
      const headers = await rawExchange(s.port, [`POST ${RUN} HTTP/1.1\r\nHost: 127.0.0.1\r\n`]);
      expect(headers.closed).toBe(true);
      expect(headers.data).toMatch(/^HTTP\/1\.1 408 /);
      const body = await rawExchange(s.port, [`POST ${RUN} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5000\r\n\r\n`, 'x'.repeat(100)]);
      expect(body.closed).toBe(true);
      expect(body.data).toMatch(/^HTTP\/1\.1 408 /);
      expect(logged).toEqual([]);
    } finally {
      await s.close();
    }
  });

  it('the per-request deadline covers a body that stops arriving: 408 with code 3007 in the envelope', async () => {
    const s = await startServer({ port: 0, demo: false, imageWorkers: 0, deadlineMs: 300, loader: async () => fakePipeline() });
    try {
      const r = await rawExchange(s.port, [`POST ${RUN} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 5000\r\n\r\n`, 'x'.repeat(100)]);
      expect(r.data).toMatch(/^HTTP\/1\.1 408 /);
      const json = JSON.parse(r.data.slice(r.data.indexOf('\r\n\r\n') + 4));
      expect(json).toMatchObject({ success: false, result: null, errors: [{ code: 3007 }] });
    } finally {
      await s.close();
    }
  });
});
