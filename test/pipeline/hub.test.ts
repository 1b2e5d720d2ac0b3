// Model resolution: local folders, .onnx paths with sibling configs, and hub ids downloaded from a local server in the
// Hugging Face layout into a cache — progress events, the offline switch, size limits, 404s, truncated downloads.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveModel, type ProgressEvent } from '../../src/pipeline/hub.js';
import { startHubServer, type HubServer } from '../helpers/hub-server.js';
import { resnet50Dir } from '../helpers/models.js';
import { SHARED } from '../helpers/onnx-tests.js';

let repo: string;
let server: HubServer;
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-hub-'));

beforeAll(async () => {
  // A small model folder in the HF layout: the tiny ViT fixture with the real ViT configs.
  repo = tmp();
  fs.mkdirSync(path.join(repo, 'onnx'));
  fs.copyFileSync(path.join(SHARED, 'fixtures/vit-hf-tiny-op14/model.onnx'), path.join(repo, 'onnx/model.onnx'));
  fs.copyFileSync(path.join(SHARED, 'hf-configs/google-vit-base-patch16-224/config.json'), path.join(repo, 'config.json'));
  fs.copyFileSync(path.join(SHARED, 'hf-configs/google-vit-base-patch16-224/preprocessor_config.json'), path.join(repo, 'preprocessor_config.json'));
  server = await startHubServer({ 'Xenova/tiny-vit': repo });
});
afterAll(() => server?.close());

describe('local model ids', () => {
  it('resolves a folder in the Hugging Face layout', async () => {
    const m = await resolveModel(await resnet50Dir());
    expect(m.onnxPath).toMatch(/onnx[/\\]model\.onnx$/);
    expect(Object.keys(m.config!.id2label as object)).toHaveLength(1000);
    expect(m.preprocessorConfig!.crop_size).toEqual({ height: 224, width: 224 });
  });

  it('resolves a path to an .onnx file, finding configs one level up from onnx/', async () => {
    const m = await resolveModel(path.join(repo, 'onnx/model.onnx'));
    expect(m.dir).toBe(repo);
    expect(m.preprocessorConfig!.size).toBe(224);
  });

  it('names what is missing', async () => {
    await expect(resolveModel('./no/such/folder')).rejects.toThrow('./no/such/folder: no such file or folder');
    const empty = tmp();
    await expect(resolveModel(empty)).rejects.toThrow(/no onnx\/model\.onnx or model\.onnx in the folder/);
    await expect(resolveModel(repo, { dtype: 'q8' })).rejects.toThrow(/no onnx\/model_quantized\.onnx/);
  });
});

describe('hub ids', () => {
  it('downloads into the cache with progress events, then reuses the cache without requests', async () => {
    const cacheDir = tmp();
    const events: ProgressEvent[] = [];
    const m = await resolveModel('Xenova/tiny-vit', { remoteHost: server.url, cacheDir, onProgress: e => events.push(e) });
    expect(m.onnxPath).toBe(path.join(cacheDir, 'models/Xenova/tiny-vit/main/onnx/model.onnx'));
    expect(fs.readFileSync(m.onnxPath)).toEqual(fs.readFileSync(path.join(repo, 'onnx/model.onnx')));
    const done = events.filter(e => e.status === 'done').map(e => e.file);
    expect(done.sort()).toEqual(['config.json', 'onnx/model.onnx', 'preprocessor_config.json']);
    const last = events.filter(e => e.status === 'progress' && e.file === 'onnx/model.onnx').at(-1)!;
    expect(last.progress).toBe(100);
    expect(events.at(-1)!.status).toBe('ready');
    const count = server.requests.length;
    await resolveModel('Xenova/tiny-vit', { remoteHost: server.url, cacheDir });
    expect(server.requests.length).toBe(count);
  });

  it('uses the Hugging Face URL layout with the revision', async () => {
    await resolveModel('Xenova/tiny-vit', { remoteHost: server.url, cacheDir: tmp(), revision: 'v1.0' }).catch(() => undefined);
    expect(server.requests).toContain('/Xenova/tiny-vit/resolve/v1.0/onnx/model.onnx');
  });

  it('offline mode never requests and says the model is not cached', async () => {
    const count = server.requests.length;
    await expect(resolveModel('Xenova/tiny-vit', { remoteHost: server.url, cacheDir: tmp(), offline: true }))
      .rejects.toThrow(/Xenova\/tiny-vit: not in the cache .* offline mode is on/);
    expect(server.requests.length).toBe(count);
  });

  it('a missing repo or file is a clear 404 error, and nothing half-written stays in the cache', async () => {
    const cacheDir = tmp();
    await expect(resolveModel('Xenova/nope', { remoteHost: server.url, cacheDir })).rejects.toThrow(/Xenova\/nope: downloading onnx\/model\.onnx .* HTTP 404 \(no such model or file\)/);
    await expect(resolveModel('Xenova/tiny-vit', { remoteHost: server.url, cacheDir, dtype: 'q8' })).rejects.toThrow(/model_quantized\.onnx .* HTTP 404/);
    const leftovers = fs.readdirSync(cacheDir, { recursive: true }).map(String).filter(f => f.endsWith('.part'));
    expect(leftovers).toEqual([]);
  });

  it('refuses files over the size limit and downloads cut short', async () => {
    await expect(resolveModel('Xenova/tiny-vit', { remoteHost: server.url, cacheDir: tmp(), maxFileBytes: 1000 }))
      .rejects.toThrow(/over the 1000-byte limit/);
    const liar = await startHubServer({ 'Xenova/tiny-vit': repo }, { lieAboutLength: true });
    try {
      const cacheDir = tmp();
      await expect(resolveModel('Xenova/tiny-vit', { remoteHost: liar.url, cacheDir })).rejects.toThrow(/Xenova\/tiny-vit: .*(ended after|failed)/);
      expect(fs.existsSync(path.join(cacheDir, 'models/Xenova/tiny-vit/main/onnx/model.onnx'))).toBe(false);
    } finally {
      await liar.close();
    }
  });

  it('an unreachable host is a clear error', async () => {
    await expect(resolveModel('Xenova/tiny-vit', { remoteHost: 'http://127.0.0.1:9', cacheDir: tmp(), timeoutMs: 2000 }))
      .rejects.toThrow(/Xenova\/tiny-vit: cannot download onnx\/model\.onnx from http:\/\/127\.0\.0\.1:9/);
  });
});
