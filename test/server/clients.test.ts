// Real clients against `ocellus serve` running the bundled ResNet-50: curl (spawned), the official `cloudflare`
// SDK, @cloudflare/ai's Ai class over createAiBinding, and @huggingface/inference. Each answer must equal
// pipeline()'s own top-5 for that photo (run separately, class ids mapped to Workers AI or config labels), and
// one photo is also checked against the onnxruntime reference in ../shared/reference.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import Cloudflare from 'cloudflare';
import { InferenceClient } from '@huggingface/inference';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pipeline, type ImageClassifier } from '../../src/pipeline/index.js';
import { createAiBinding } from '../../src/server/binding.js';
import { startServer, type RunningServer } from '../../src/server/node.js';
import { WORKERS_AI_LABELS } from '../../src/server/workers-ai-labels.js';
import { importCloudflareAi, photo, postBytes, readPhoto, SHARED } from './helpers.js';

const TOKEN = 'test-token-0123';
const RESNET = '@cf/microsoft/resnet-50';

let server: RunningServer;
/** The same model through pipeline(), labelled with class ids so either label list can be applied. */
let byIndex: ImageClassifier;
let configLabels: string[];

beforeAll(async () => {
  server = await startServer({ port: 0, demo: false, token: TOKEN, warm: true });
  byIndex = await pipeline('image-classification', undefined, { labels: WORKERS_AI_LABELS.map((_, i) => String(i)) });
  const id2label = byIndex.pipeline.model.config!.id2label as Record<string, string>;
  configLabels = WORKERS_AI_LABELS.map((_, i) => id2label[String(i)]!);
});

afterAll(async () => {
  await server?.close();
  await byIndex?.dispose();
});

type Top = { label: string; score: number }[];

async function expected(rel: string, labels: readonly string[]): Promise<Top> {
  const top = await byIndex(readPhoto(rel), { topK: 5 });
  return top.map(t => ({ label: labels[Number(t.label)]!, score: t.score }));
}

function expectSameTop5(actual: Top, want: Top): void {
  expect(actual.map(r => r.label)).toEqual(want.map(r => r.label));
  actual.forEach((r, i) => expect(r.score).toBeCloseTo(want[i]!.score, 5));
}

describe('clients of the Workers AI API', () => {
  it('curl --data-binary @photo', async () => {
    const { stdout } = await promisify(execFile)('curl', ['-s', '-S', '--data-binary', `@${photo('darknet/dog.jpg')}`,
      '-H', `Authorization: Bearer ${TOKEN}`, '-H', 'Content-Type: image/jpeg', `${server.url}/client/v4/accounts/acc/ai/run/${RESNET}`]);
    const body = JSON.parse(stdout);
    expect(body).toMatchObject({ success: true, errors: [], messages: [] });
    expectSameTop5(body.result, await expected('darknet/dog.jpg', WORKERS_AI_LABELS));
    // Independent reference (onnxruntime on the same Keras weights): class 249 at 0.80855.
    const ref = JSON.parse(fs.readFileSync(path.join(SHARED, 'reference/resnet50-keras-photos-top5.json'), 'utf8')).results['images/photos/darknet/dog.jpg'];
    expect(body.result[0].label).toBe(WORKERS_AI_LABELS[ref[0].index]);
    expect(body.result[0].label).toBe('MALAMUTE');
    expect(body.result[0].score).toBeCloseTo(ref[0].score, 3);
  });

  it("the cloudflare SDK's client.ai.run with baseURL pointed here", async () => {
    const client = new Cloudflare({ apiToken: TOKEN, baseURL: `${server.url}/client/v4`, maxRetries: 0 });
    const result = await client.ai.run(RESNET, { account_id: 'acc', image: Array.from(readPhoto('darknet/eagle.jpg')) });
    expectSameTop5(result as Top, await expected('darknet/eagle.jpg', WORKERS_AI_LABELS));
  });

  it("@cloudflare/ai's Ai over createAiBinding answers what the HTTP API answers", async () => {
    const { Ai } = await importCloudflareAi();
    const binding = createAiBinding({ registry: server.app.registry });
    const ai = new Ai(binding, { debug: true });
    const bytes = readPhoto('opencv-doc/squirrel_cls.jpg');
    const viaBinding = await ai.run(RESNET, { image: Array.from(bytes) }) as Top;
    expect(ai.lastRequestId).toBe(binding.lastRequestId);
    expect(ai.lastRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(String(ai.getLogs())).toContain(RESNET);
    const viaHttp = await postBytes(`${server.url}/ai/run/${RESNET}`, bytes, { authorization: `Bearer ${TOKEN}` });
    expect(viaBinding).toEqual(viaHttp.json.result);
    expectSameTop5(viaBinding, await expected('opencv-doc/squirrel_cls.jpg', WORKERS_AI_LABELS));
    await expect(ai.run('@cf/unknown/model', { image: Array.from(bytes) })).rejects.toThrow(/^5007: No such model/);
  });

  it('@huggingface/inference imageClassification with endpointUrl (config labels, PNG input)', async () => {
    const client = new InferenceClient(TOKEN);
    const data = new Blob([readPhoto('skimage/chelsea.png') as BlobPart], { type: 'image/png' });
    const result = await client.imageClassification({ endpointUrl: `${server.url}/models/ocellus/resnet-50-keras`, data });
    expectSameTop5(result, await expected('skimage/chelsea.png', configLabels));
  });
});
