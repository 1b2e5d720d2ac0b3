// Hub downloads against a misbehaving host (issue #18, items 4–5): nothing unusable may land in the cache — a body cut
// short without Content-Length, an HTML page answered with 200, a sha256 or size that differs from what the hub's
// x-linked-* headers say — a poisoned file already in the cache is moved aside and fetched again, and the timeouts
// bound the wait for a response to start and for a silent body, never the length of a slow but steady download.

import fs from 'node:fs';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveModel } from '../../src/pipeline/hub.js';
import { startHubServer, type HubServer, type HubServerOptions } from '../helpers/hub-server.js';
import { SHARED } from '../helpers/onnx-tests.js';

const ID = 'Xenova/tiny-vit';
let repo: string;
let model: Buffer;
const made: string[] = [];
const tmp = () => { const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-hub-hard-')); made.push(d); return d; };
const servers: HubServer[] = [];
const serve = async (opts: HubServerOptions) => {
  const s = await startHubServer({ [ID]: repo }, opts);
  servers.push(s);
  return s;
};
const cachedOnnx = (cacheDir: string) => path.join(cacheDir, 'models', ID, 'main', 'onnx', 'model.onnx');
/** Every file under the cache folder, so a test can say nothing at all was left behind. */
const filesIn = (dir: string) => fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter(e => e.isFile()).map(e => e.name);
/** Answers only model.onnx with `fn`; other files are served normally. */
const onModel = (fn: (body: Buffer, res: http.ServerResponse) => void) =>
  (file: string, body: Buffer, res: http.ServerResponse) => (file === 'onnx/model.onnx' ? (fn(body, res), true) : false);

beforeAll(() => {
  repo = tmp();
  fs.mkdirSync(path.join(repo, 'onnx'));
  fs.copyFileSync(path.join(SHARED, 'fixtures/vit-hf-tiny-op14/model.onnx'), path.join(repo, 'onnx/model.onnx'));
  fs.copyFileSync(path.join(SHARED, 'hf-configs/google-vit-base-patch16-224/config.json'), path.join(repo, 'config.json'));
  fs.copyFileSync(path.join(SHARED, 'hf-configs/google-vit-base-patch16-224/preprocessor_config.json'), path.join(repo, 'preprocessor_config.json'));
  model = fs.readFileSync(path.join(repo, 'onnx/model.onnx'));
});
afterAll(async () => {
  for (const s of servers) await s.close();
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

describe('content that is not what it claims never reaches the cache', () => {
  it('a close-delimited body cut short (no Content-Length) is refused', async () => {
    const s = await serve({
      serve: onModel((body, res) => {
        // HTTP/1.1 without Content-Length or chunking: the body ends when the server closes, here after half the model.
        res.socket!.end(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-type: application/octet-stream\r\n\r\n'), body.subarray(0, body.length >> 1)]));
      }),
    });
    const cacheDir = tmp();
    await expect(resolveModel(ID, { remoteHost: s.url, cacheDir })).rejects.toThrow(/onnx\/model\.onnx from .* is not what it claims to be: not an ONNX model: protobuf decoding failed/);
    expect(fs.existsSync(cachedOnnx(cacheDir))).toBe(false);
    expect(filesIn(cacheDir).filter(f => f.includes('model.onnx'))).toEqual([]);
  });

  it('an HTML page answered with 200 is refused, by its content type or by its content', async () => {
    const page = Buffer.from('<!DOCTYPE html><html><body>Sign in to continue</body></html>');
    for (const type of ['text/html; charset=utf-8', 'application/octet-stream']) {
      const s = await serve({ serve: onModel((_, res) => res.writeHead(200, { 'content-type': type, 'content-length': page.length }).end(page)) });
      const cacheDir = tmp();
      await expect(resolveModel(ID, { remoteHost: s.url, cacheDir }))
        .rejects.toThrow(type.startsWith('text/html') ? /answered with an HTML page \(content-type text\/html/ : /not an ONNX model/);
      expect(fs.existsSync(cachedOnnx(cacheDir))).toBe(false);
    }
    // config.json as an HTML page with a neutral content type: the JSON check refuses it.
    const s = await serve({ serve: (file, _, res) => file === 'config.json' ? (res.writeHead(200, { 'content-length': page.length }).end(page), true) : false });
    const cacheDir = tmp();
    await expect(resolveModel(ID, { remoteHost: s.url, cacheDir })).rejects.toThrow(/config\.json from .* not valid JSON .*looks like an HTML/);
    expect(fs.existsSync(path.join(cacheDir, 'models', ID, 'main', 'config.json'))).toBe(false);
  });

  it("a model.onnx over the loader's message budget is refused by the check without decoding it", async () => {
    // ModelProto { ir_version: 8, opset_import: [{ version: 13 }], graph: { initializer × (2^20 + 1), each empty } }:
    // 2 MB that protobufjs would decode, without complaint, into ~300 MB of objects.
    const n = 2 ** 20 + 1;
    const inits = Buffer.alloc(2 * n);
    for (let i = 0; i < n; i++) inits[2 * i] = 0x2a;   // field 5 (initializer), wire type 2, length 0
    const varint = (v: number) => { const b: number[] = []; while (v > 127) { b.push((v & 127) | 128); v >>>= 7; } b.push(v); return b; };
    const bomb = Buffer.concat([Buffer.from([0x08, 8, 0x42, 2, 0x10, 13, 0x3a, ...varint(inits.length)]), inits]);
    const s = await serve({ serve: onModel((_, res) => res.writeHead(200, { 'content-length': bomb.length }).end(bomb)) });
    const cacheDir = tmp();
    await expect(resolveModel(ID, { remoteHost: s.url, cacheDir })).rejects.toThrow(/is not what it claims to be: holds more than 1048576 protobuf messages/);
    expect(fs.existsSync(cachedOnnx(cacheDir))).toBe(false);
  });

  it('follows the hub redirect and checks x-linked-size and x-linked-etag (sha256)', async () => {
    const good = await serve({ lfs: true });
    const cacheDir = tmp();
    const m = await resolveModel(ID, { remoteHost: good.url, cacheDir });
    expect(fs.readFileSync(m.onnxPath).equals(model)).toBe(true);
    expect(good.requests.some(r => r.startsWith('/cdn/'))).toBe(true);

    const wrongHash = 'ab'.repeat(32);
    const badSha = await serve({ lfs: true, lfsHeaders: b => ({ 'x-linked-size': String(b.length), 'x-linked-etag': `"${wrongHash}"` }) });
    const c1 = tmp();
    await expect(resolveModel(ID, { remoteHost: badSha.url, cacheDir: c1 }))
      .rejects.toThrow(new RegExp(`sha256 mismatch: expected ${wrongHash} \\(the hub's x-linked-size/x-linked-etag\\), got [0-9a-f]{64}`));
    expect(fs.existsSync(cachedOnnx(c1))).toBe(false);

    const badSize = await serve({ lfs: true, lfsHeaders: b => ({ 'x-linked-size': String(b.length + 4096) }) });
    const c2 = tmp();
    await expect(resolveModel(ID, { remoteHost: badSize.url, cacheDir: c2 }))
      .rejects.toThrow(new RegExp(`Content-Length is ${model.length} bytes but the hub's x-linked-size/x-linked-etag says ${model.length + 4096}`));
    expect(fs.existsSync(cachedOnnx(c2))).toBe(false);
  });
});

describe('a poisoned cache heals', () => {
  it('a cached model.onnx that does not parse is moved aside, fetched again, and said so', async () => {
    const s = await serve({});
    const cacheDir = tmp();
    const dir = path.join(cacheDir, 'models', ID, 'main');
    fs.mkdirSync(path.join(dir, 'onnx'), { recursive: true });
    for (const f of ['config.json', 'preprocessor_config.json']) fs.copyFileSync(path.join(repo, f), path.join(dir, f));
    fs.writeFileSync(path.join(dir, 'onnx/model.onnx'), model.subarray(0, 1000));   // what an older version saved
    const notices: string[] = [];
    const m = await resolveModel(ID, { remoteHost: s.url, cacheDir, onNotice: n => notices.push(n) });
    expect(fs.readFileSync(m.onnxPath).equals(model)).toBe(true);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/Xenova\/tiny-vit: the cached onnx\/model\.onnx is unusable \(not an ONNX model.*\); moved it to .*model\.onnx\.corrupt-.* and downloading it again/);
    const aside = fs.readdirSync(path.join(dir, 'onnx')).filter(f => f.startsWith('model.onnx.corrupt-'));
    expect(aside).toHaveLength(1);
    expect(fs.statSync(path.join(dir, 'onnx', aside[0]!)).size).toBe(1000);
    expect(s.requests).toEqual([`/${ID}/resolve/main/onnx/model.onnx`]);
    // Checked once: the next resolve neither warns nor requests.
    await resolveModel(ID, { remoteHost: s.url, cacheDir, onNotice: n => notices.push(n) });
    expect(notices).toHaveLength(1);
    expect(s.requests).toHaveLength(1);
  });

  it('offline, a poisoned cache is still moved aside and the error says why the model is missing', async () => {
    const cacheDir = tmp();
    const dir = path.join(cacheDir, 'models', ID, 'main');
    fs.mkdirSync(path.join(dir, 'onnx'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'config.json'), '<html>502 Bad Gateway</html>');
    fs.copyFileSync(path.join(repo, 'onnx/model.onnx'), path.join(dir, 'onnx/model.onnx'));
    fs.copyFileSync(path.join(repo, 'preprocessor_config.json'), path.join(dir, 'preprocessor_config.json'));
    const notices: string[] = [];
    await expect(resolveModel(ID, { cacheDir, offline: true, onNotice: n => notices.push(n) }))
      .rejects.toThrow(/not in the cache .* offline mode is on; missing config\.json \(config\.json failed verification\)/);
    expect(notices[0]).toMatch(/cached config\.json is unusable \(not valid JSON/);
  });
});

describe('timeouts bound waiting, not downloading', () => {
  it('a slow but steady body that takes far longer than the start timeout completes', async () => {
    const chunks = 12;
    const s = await serve({
      serve: onModel((body, res) => {
        res.writeHead(200, { 'content-length': body.length });
        const step = Math.ceil(body.length / chunks);
        let i = 0;
        const tick = setInterval(() => {
          res.write(body.subarray(i * step, (i + 1) * step));
          if (++i === chunks) { clearInterval(tick); res.end(); }
        }, 150);
      }),
    });
    const cacheDir = tmp();
    const m = await resolveModel(ID, { remoteHost: s.url, cacheDir, timeoutMs: 400, idleTimeoutMs: 10_000 });
    expect(fs.readFileSync(m.onnxPath).equals(model)).toBe(true);
  });

  it('a body that stalls is abandoned after the idle timeout, leaving nothing behind', async () => {
    const s = await serve({
      serve: onModel((body, res) => {
        res.writeHead(200, { 'content-length': body.length });
        res.write(body.subarray(0, 4096));   // then nothing, with the connection left open
      }),
    });
    const cacheDir = tmp();
    await expect(resolveModel(ID, { remoteHost: s.url, cacheDir, timeoutMs: 10_000, idleTimeoutMs: 300 }))
      .rejects.toThrow(/Xenova\/tiny-vit: downloading onnx\/model\.onnx from .* failed after 4096 bytes \(no data for 300 ms after 4096 bytes\)/);
    expect(filesIn(cacheDir).filter(f => f.includes('model.onnx'))).toEqual([]);
  }, 30_000);

  it('a response that never starts is abandoned after the start timeout', async () => {
    const s = await serve({ serve: onModel(() => undefined) });   // headers never come
    await expect(resolveModel(ID, { remoteHost: s.url, cacheDir: tmp(), timeoutMs: 300 }))
      .rejects.toThrow(/cannot download onnx\/model\.onnx from .* \(no response within 300 ms\)/);
  }, 30_000);
});
