// The Workers AI label list we ship must be the one @cloudflare/ai@1.2.2 maps class ids through (read from the
// installed package's own code, not from our copy's source), and the binding accepts what Workers code passes.

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAiBinding, AiError } from '../../src/server/binding.js';
import { WORKERS_AI_LABELS } from '../../src/server/workers-ai-labels.js';
import { fakePipeline, readPhoto, REPO } from './helpers.js';

describe('Workers AI labels', () => {
  it("equal the table in @cloudflare/ai's image-classification task", () => {
    const src = fs.readFileSync(path.join(REPO, 'node_modules/@cloudflare/ai/dist/index.js'), 'utf8');
    const table = /\["TENCH","GOLDFISH",[^\]]*\]/.exec(src);
    expect(table).not.toBeNull();
    expect(src).toMatch(/label:(\w+)\[e\]/);   // the task labels class e with that table
    expect(WORKERS_AI_LABELS).toEqual(JSON.parse(table![0]));
    expect(WORKERS_AI_LABELS).toHaveLength(1000);
    expect(WORKERS_AI_LABELS[283]).toBe('PERSIAN CAT');
  });
});

describe('createAiBinding', () => {
  const fish = readPhoto('opencv-doc/HappyFish.jpg');

  it('takes { image: number[] }, { image: Uint8Array }, raw bytes and a Blob alike', async () => {
    const ai = createAiBinding({ loader: async () => fakePipeline() });
    const a = await ai.run('@cf/microsoft/resnet-50', { image: Array.from(fish) });
    expect(a).toHaveLength(5);
    expect(await ai.run('@cf/microsoft/resnet-50', { image: fish })).toEqual(a);
    expect(await ai.run('@cf/microsoft/resnet-50', fish)).toEqual(a);
    expect(await ai.run('@cf/microsoft/resnet-50', new Blob([fish as BlobPart]))).toEqual(a);
    expect(WORKERS_AI_LABELS).toContain(a[0]!.label);
  });

  it('throws AiError "code: message" with the HTTP status; logs only with debug', async () => {
    const ai = createAiBinding({ loader: async () => fakePipeline() });
    const err = await ai.run('@cf/microsoft/resnet-50', { image: [1, 2, 999] }).catch(e => e);
    expect(err).toBeInstanceOf(AiError);
    expect(err.message).toBe('5004: image[2] is 999; every element must be an integer 0–255 (a byte of the encoded image)');
    expect(err.httpCode).toBe(400);
    expect((await ai.run('@cf/nope', fish).catch(e => e)).httpCode).toBe(404);
    expect(ai.getLogs()).toEqual([]);
    await ai.run('@cf/microsoft/resnet-50', fish, { debug: true });
    expect(ai.getLogs()).toHaveLength(1);
    expect(ai.getLogs()[0]).toContain(ai.lastRequestId);
  });
});
