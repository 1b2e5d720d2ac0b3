// The image-classification pipeline end to end on the bundled ResNet-50: every input form, batches as one
// session run, topK, probabilities (softmax applied exactly once), labels, and bad inputs.

import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeImage } from '../../src/image/decode.js';
import { pipeline, type ImageClassifier } from '../../src/pipeline/index.js';
import { softmax } from '../../src/pipeline/labels.js';
import { Tensor } from '../../src/runtime/tensor.js';
import { resnet50Dir } from '../helpers/models.js';
import { SHARED } from '../helpers/onnx-tests.js';

const DOG = path.join(SHARED, 'images/photos/darknet/dog.jpg');
const COFFEE = path.join(SHARED, 'images/photos/skimage/coffee.png');
const REF: Record<string, { index: number; label: string; score: number }[]> =
  JSON.parse(fs.readFileSync(path.join(SHARED, 'reference/resnet50-keras-photos-top5.json'), 'utf8')).results;

let classify: ImageClassifier;
let server: http.Server;
let baseUrl: string;

beforeAll(async () => {
  classify = await pipeline('image-classification', await resnet50Dir());
  server = http.createServer((req, res) => {
    if (req.url === '/dog.jpg') res.writeHead(200, { 'content-type': 'image/jpeg' }).end(fs.readFileSync(DOG));
    else res.writeHead(404).end('not found');
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', () => r()));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await classify?.dispose();
  server?.closeAllConnections();
  server?.close();
});

const expectDog = (r: { label: string; score: number }[]) => {
  expect(r[0]!.label).toBe(REF['images/photos/darknet/dog.jpg']![0]!.label);
  expect(Math.abs(r[0]!.score - REF['images/photos/darknet/dog.jpg']![0]!.score)).toBeLessThan(0.01);
};

describe('pipeline inputs', () => {
  it('takes a path, a file: URL string, a URL object and an http URL', async () => {
    expectDog(await classify(DOG));
    expectDog(await classify(pathToFileURL(DOG).href));
    expectDog(await classify(pathToFileURL(DOG)));
    expectDog(await classify(`${baseUrl}/dog.jpg`));
  });

  it('takes encoded bytes as Uint8Array, Buffer, ArrayBuffer, number[] and Blob', async () => {
    const buf = fs.readFileSync(DOG);
    const u8 = new Uint8Array(buf);
    expectDog(await classify(u8));
    expectDog(await classify(buf));
    expectDog(await classify(u8.buffer.slice(0)));
    expectDog(await classify(Array.from(u8)));
    expectDog(await classify(new Blob([u8])));
  });

  it('takes a decoded RawImage', async () => {
    expectDog(await classify(decodeImage(new Uint8Array(fs.readFileSync(DOG)))));
  });

  it('runs an array of mixed inputs as ONE batched session call, one result array per input', async () => {
    const spy = vi.spyOn(classify.pipeline.session, 'run');
    const res = await classify([DOG, new Uint8Array(fs.readFileSync(COFFEE)), decodeImage(new Uint8Array(fs.readFileSync(DOG)))]);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(spy.mock.calls[0]![0].pixel_values!.dims).toEqual([3, 3, 224, 224]);
    spy.mockRestore();
    expect(res).toHaveLength(3);
    expectDog(res[0]!);
    expect(res[1]![0]!.label).toBe(REF['images/photos/skimage/coffee.png']![0]!.label);
    expect(res[2]).toEqual(res[0]);
  });
});

describe('results', () => {
  it('topK defaults to 5, topK: 1 is still an array, results are sorted highest first', async () => {
    const five = await classify(DOG);
    expect(five).toHaveLength(5);
    for (let i = 1; i < five.length; i++) expect(five[i - 1]!.score).toBeGreaterThanOrEqual(five[i]!.score);
    const one = await classify(DOG, { topK: 1 });
    expect(one).toEqual([five[0]]);
    await expect(classify(DOG, { topK: 0 })).rejects.toThrow('topK must be a positive integer, got 0');
  });

  it('scores are probabilities of all classes summing to 1, with labels from config.json', async () => {
    const all = await classify(COFFEE, { topK: 5000 });
    expect(all).toHaveLength(1000);
    expect(all.reduce((s, r) => s + r.score, 0)).toBeCloseTo(1, 4);
    expect(new Set(all.map(r => r.label)).size).toBeGreaterThan(990);
    expect(all.map(r => r.label)).toContain('tench, Tinca tinca');
  });

  it('does not apply softmax twice when the graph ends in Softmax, and applies it once when it ends in logits', async () => {
    expect(classify.pipeline.outputIsProbability).toBe(true);
    const img = decodeImage(new Uint8Array(fs.readFileSync(COFFEE)));
    const x = classify.pipeline.processor.process(img);
    const probs = (await classify.pipeline.session.run({ pixel_values: x })).probabilities!.data as Float32Array;
    const [top] = await classify(img, { topK: 1 });
    expect(top!.score).toBeCloseTo(Math.max(...probs), 6);

    // A logits model: the tiny ViT fixture in a Hugging Face folder.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-vit-'));
    fs.mkdirSync(path.join(dir, 'onnx'));
    fs.copyFileSync(path.join(SHARED, 'fixtures/vit-hf-tiny-op14/model.onnx'), path.join(dir, 'onnx/model.onnx'));
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ id2label: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [String(i), `class ${i}`])) }));
    fs.copyFileSync(path.join(SHARED, 'hf-configs/google-vit-base-patch16-224/preprocessor_config.json'), path.join(dir, 'preprocessor_config.json'));
    const vit = await pipeline('image-classification', dir);
    try {
      expect(vit.pipeline.outputIsProbability).toBe(false);
      const logits = (await vit.pipeline.session.run({ pixel_values: vit.pipeline.processor.process(img) })).logits!.data as Float32Array;
      const want = softmax(logits);
      const got = await vit(img, { topK: 10 });
      for (const r of got) expect(r.score).toBeCloseTo(want[Number(r.label.slice(6))]!, 6);
      expect(got.reduce((s, r) => s + r.score, 0)).toBeCloseTo(1, 5);
    } finally {
      await vit.dispose();
    }
  });

  it('leaks no tensors across calls', async () => {
    await classify(DOG);
    const before = tf.memory().numTensors;
    await classify([DOG, COFFEE]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('bad inputs', () => {
  it('a corrupt image, a non-image, a refused format and a missing file each get a clear error naming the input', async () => {
    const jpeg = new Uint8Array(fs.readFileSync(DOG));
    await expect(classify(jpeg.subarray(0, 3000))).rejects.toThrow(/JPEG/);
    await expect(classify(new TextEncoder().encode('<!DOCTYPE html><html></html>'))).rejects.toThrow(/not an image/);
    await expect(classify(new Uint8Array([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 1, 0, 1, 0]))).rejects.toThrow(/GIF images are not supported/);
    await expect(classify('/no/such/photo.jpg')).rejects.toThrow(/\/no\/such\/photo\.jpg/);
    await expect(classify([256, 1, 2])).rejects.toThrow("input: byte array element 0 is 256, expected an integer 0–255");
    await expect(classify(`${baseUrl}/missing.jpg`)).rejects.toThrow(/404/);
  });

  it('a bad image in a batch names its position, and the pipeline keeps working', async () => {
    await expect(classify([DOG, new Uint8Array([1, 2, 3, 4])])).rejects.toThrow(/input 1/);
    expectDog(await classify(DOG));
  });

  it('unknown tasks list the supported ones', async () => {
    await expect(pipeline('text-generation' as 'image-classification')).rejects.toThrow("Unsupported pipeline: 'text-generation'. Must be one of [image-classification]");
  });
});

describe('reference photos end to end', () => {
  it('gives the reference top-1 for every photo whose top-1 leads its runner-up by more than 0.02', async () => {
    const files = Object.keys(REF).filter(f => REF[f]![0]!.score - REF[f]![1]!.score > 0.02);
    expect(files.length).toBeGreaterThan(15);
    const results = await classify(files.map(f => path.join(SHARED, f)), { topK: 1 });
    const wrong = files.filter((f, i) => results[i]![0]!.label !== REF[f]![0]!.label);
    expect(wrong).toEqual([]);
  });
});

void Tensor;
