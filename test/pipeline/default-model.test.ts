// The default model's preparer hook, with a stand-in preparer that writes a small model folder (the tiny ViT fixture
// with ViT configs) instead of converting ResNet-50: called only when the cached folder is missing or broken, a
// broken folder set aside whole with a notice, its errors passed through (not swallowed), offline passed on.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_ID, resolveDefaultModel, type DefaultModelContext } from '../../src/pipeline/default-model.js';
import { SHARED } from '../helpers/onnx-tests.js';

const made: string[] = [];
const tmp = () => { const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-default-')); made.push(d); return d; };
const ONNX = path.join(SHARED, 'fixtures/vit-hf-tiny-op14/model.onnx');
const CONFIGS = path.join(SHARED, 'hf-configs/google-vit-base-patch16-224');

afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

function standIn(calls: DefaultModelContext[]) {
  return async (ctx: DefaultModelContext) => {
    calls.push(ctx);
    fs.mkdirSync(path.join(ctx.dir, 'onnx'), { recursive: true });
    fs.copyFileSync(ONNX, path.join(ctx.dir, 'onnx/model.onnx'));
    for (const f of ['config.json', 'preprocessor_config.json']) fs.copyFileSync(path.join(CONFIGS, f), path.join(ctx.dir, f));
  };
}

describe('the default model preparer', () => {
  it('prepares an empty cache once, then uses the cache', async () => {
    const cacheDir = tmp();
    const calls: DefaultModelContext[] = [];
    const m = await resolveDefaultModel({ cacheDir, prepare: standIn(calls), timeoutMs: 1234 });
    const dir = path.join(cacheDir, 'models', DEFAULT_MODEL_ID, 'main');
    expect(m.dir).toBe(dir);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ id: DEFAULT_MODEL_ID, dir, offline: false, hub: { timeoutMs: 1234, cacheDir } });
    await resolveDefaultModel({ cacheDir, prepare: standIn(calls) });
    expect(calls).toHaveLength(1);
  });

  it('a cached folder with a file that fails its check is set aside whole and prepared again, with a notice', async () => {
    const cacheDir = tmp();
    const calls: DefaultModelContext[] = [];
    await resolveDefaultModel({ cacheDir, prepare: standIn(calls) });
    const dir = path.join(cacheDir, 'models', DEFAULT_MODEL_ID, 'main');
    fs.truncateSync(path.join(dir, 'onnx/model.onnx'), 5000);   // cut short after it was checked
    const notices: string[] = [];
    const m = await resolveDefaultModel({ cacheDir, prepare: standIn(calls), onNotice: n => notices.push(n) });
    expect(calls).toHaveLength(2);
    expect(fs.readFileSync(m.onnxPath)).toEqual(fs.readFileSync(ONNX));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/ocellus\/resnet-50-keras: in the cached folder onnx\/model\.onnx is unusable \(not an ONNX model: protobuf decoding failed.*\); moved it to .*main\.corrupt-.* and preparing it again/);
    const aside = fs.readdirSync(path.dirname(dir)).filter(f => f.startsWith('main.corrupt-'));
    expect(aside).toHaveLength(1);
    expect(fs.statSync(path.join(path.dirname(dir), aside[0]!, 'onnx/model.onnx')).size).toBe(5000);
    // A folder missing a file is as broken as one with a bad file.
    fs.rmSync(path.join(dir, 'preprocessor_config.json'));
    await resolveDefaultModel({ cacheDir, prepare: standIn(calls), onNotice: n => notices.push(n) });
    expect(calls).toHaveLength(3);
    expect(notices[1]).toMatch(/in the cached folder preprocessor_config\.json is missing/);
    expect(fs.readdirSync(path.dirname(dir)).filter(f => f.startsWith('main.corrupt-'))).toHaveLength(1);   // only the latest is kept
  });

  it("passes the preparer's errors through and the offline switch on", async () => {
    const seen: boolean[] = [];
    await expect(resolveDefaultModel({
      cacheDir: tmp(), offline: true,
      prepare: async ctx => { seen.push(ctx.offline); throw new Error('registry unreachable: ECONNREFUSED'); },
    })).rejects.toThrow('registry unreachable: ECONNREFUSED');
    expect(seen).toEqual([true]);
  });
});
