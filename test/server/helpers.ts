// Shared by the server and edge tests: paths, a tiny real model in the Hugging Face folder layout (from the
// shared fixtures), a controllable stand-in pipeline for queue/error tests, @cloudflare/ai loaded through
// esbuild (its published 1.2.2 imports two packages it does not declare), and small HTTP helpers.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import type { ImageClassificationPipeline } from '../../src/pipeline/index.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED = path.resolve(REPO, '../shared');
export const PHOTOS = path.join(SHARED, 'images/photos');
export const photo = (rel: string) => path.join(PHOTOS, rel);

export const TINY_LABELS = Array.from({ length: 10 }, (_, i) => `tiny class ${i}`);

/** resnet-tv-tiny-op13 (10 classes, dynamic batch) with a config.json and microsoft/resnet-50's preprocessor config. */
export function tinyModelDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-tiny-'));
  fs.copyFileSync(path.join(SHARED, 'fixtures/resnet-tv-tiny-op13/model.onnx'), path.join(dir, 'model.onnx'));
  fs.copyFileSync(path.join(SHARED, 'hf-configs/microsoft-resnet-50/preprocessor_config.json'), path.join(dir, 'preprocessor_config.json'));
  const id2label = Object.fromEntries(TINY_LABELS.map((l, i) => [String(i), l]));
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ id2label }));
  return dir;
}

/**
 * A stand-in pipeline: class = (width + height) mod classes gets 0.9, class 1 (or 0) gets 0.1. Each scores()
 * call waits for `gate()` when given (to hold the queue busy) and throws `fail` when given.
 */
export function fakePipeline(opts: { classes?: number; gate?: () => Promise<void>; fail?: Error; calls?: number[][] } = {}): ImageClassificationPipeline {
  const classes = opts.classes ?? 1000;
  return {
    labels: Array.from({ length: classes }, (_, i) => `fake ${i}`),
    model: { id: 'fake', onnxPath: '', dir: '' },
    async scores(images: { width: number; height: number }[]) {
      opts.calls?.push(images.map(i => i.width));
      await opts.gate?.();
      if (opts.fail) throw opts.fail;
      return images.map(im => {
        const row = new Array(classes).fill(0);
        const top = (im.width + im.height) % classes;
        row[top] = 0.9;
        row[top === 1 ? 0 : 1] = 0.1;
        return row;
      });
    },
    async dispose() {},
  } as unknown as ImageClassificationPipeline;
}

let cfAi: Promise<{ Ai: new (binding: unknown, options?: object) => { run(model: string, inputs: unknown): Promise<unknown>; lastRequestId: string; getLogs(): unknown } }> | undefined;

/** The real @cloudflare/ai@1.2.2, bundled with stand-ins for its undeclared base64-js/mustache imports. */
export function importCloudflareAi() {
  cfAi ??= (async () => {
    const { cloudflareAiShimPlugin } = await import(pathToFileURL(path.join(REPO, 'edge/build.mjs')).href);
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-cfai-')), 'cloudflare-ai.mjs');
    await esbuild.build({ stdin: { contents: "export { Ai } from '@cloudflare/ai';", resolveDir: REPO }, bundle: true, format: 'esm', platform: 'neutral', mainFields: ['module', 'main'], outfile: out, plugins: [cloudflareAiShimPlugin], logLevel: 'error' });
    return import(pathToFileURL(out).href);
  })();
  return cfAi;
}

export async function postBytes(url: string, body: Uint8Array | string, headers: Record<string, string> = {}): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', body: body as BodyInit, headers });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}

export function readPhoto(rel: string): Uint8Array {
  return new Uint8Array(fs.readFileSync(photo(rel)));
}
