// Preparing images apart from the pipeline (prepare.ts, prepare-pool.ts) must feed the model exactly what the
// pipeline's own preprocessing would: the float input captured from ImageClassificationPipeline.scores on the
// decoded photo is the reference, for several processor configs. The worker pool answers what the in-process path
// answers, keeps bad input a 400-class error, moves only buffers it is handed, and bounds its waiting line.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../../src/image/decode.js';
import { ImageProcessor, KERAS_RESNET50_CAFFE_CONFIG } from '../../src/image/preprocess.js';
import type { RawImage } from '../../src/image/types.js';
import { ImageClassificationPipeline } from '../../src/pipeline/index.js';
import { toApiError } from '../../src/server/errors.js';
import { PreparePool } from '../../src/server/prepare-pool.js';
import { prepareImage, scoresOfPrepared } from '../../src/server/prepare.js';
import { readPhoto, SHARED } from './helpers.js';

const hfConfig = (name: string) => JSON.parse(fs.readFileSync(path.join(SHARED, 'hf-configs', name, 'preprocessor_config.json'), 'utf8'));

const CONFIGS: [string, Record<string, unknown>][] = [
  ['microsoft/resnet-50 (ConvNext, crop_pct)', hfConfig('microsoft-resnet-50')],
  ['google/vit-base-patch16-224 (exact size)', hfConfig('google-vit-base-patch16-224')],
  ['Keras caffe (shortest edge, crop, BGR)', { ...KERAS_RESNET50_CAFFE_CONFIG }],
  ['CLIP (bicubic, crop)', { image_processor_type: 'CLIPImageProcessor' }],
];
const PHOTOS = ['opencv-doc/HappyFish.jpg', 'skimage/chelsea.png', 'darknet/person.jpg'];

/** A pipeline whose session records its input instead of running a model (scores() is the real method). */
function recordingPipeline(config: Record<string, unknown>): { p: ImageClassificationPipeline; inputs: Float32Array[] } {
  const inputs: Float32Array[] = [];
  const session = {
    inputNames: ['x'], outputNames: ['y'], inputMetadata: [{ shape: ['N', 3, 'H', 'W'] }],
    async run(feeds: Record<string, { data: Float32Array; dims: number[] }>) {
      inputs.push(feeds.x!.data.slice());
      const n = feeds.x!.dims[0]!;
      return { y: { dims: [n, 2], data: new Float32Array(n * 2).fill(0.5) } };
    },
  };
  const p = Object.create(ImageClassificationPipeline.prototype, {
    processor: { value: ImageProcessor.fromConfig(config) },
    session: { value: session },
    outputIsProbability: { value: true },
    model: { value: { id: 'recording', onnxPath: '', dir: '', preprocessorConfig: config } },
  }) as ImageClassificationPipeline;
  return { p, inputs };
}

describe('prepared images give the pipeline its own input, bit for bit', () => {
  it.each(CONFIGS)('%s', async (_name, config) => {
    for (const photo of PHOTOS) {
      const bytes = readPhoto(photo);
      const { p, inputs } = recordingPipeline(config);
      await p.scores([decodeImage(bytes)]);   // the reference: the pipeline preprocessing the decoded photo
      const prepared = prepareImage(bytes, { preprocessorConfig: config, name: 'image' }).image;
      await scoresOfPrepared(p, config, [prepared]);
      expect(inputs).toHaveLength(2);
      expect(inputs[1]!.length).toBe(inputs[0]!.length);
      expect(Buffer.from(inputs[1]!.buffer).equals(Buffer.from(inputs[0]!.buffer))).toBe(true);
    }
  });

  it('without a config the image is only decoded, and the pipeline scores it as it is', async () => {
    const bytes = readPhoto('opencv-doc/HappyFish.jpg');
    const img = prepareImage(bytes, { preprocessorConfig: null, name: 'image' });
    expect(img).toEqual({ image: decodeImage(bytes) });
  });
});

describe('PreparePool', () => {
  const pool = new PreparePool({ size: 1, maxQueue: 2 });
  afterAll(() => pool.close());
  const config = hfConfig('microsoft-resnet-50');

  it('answers what prepareImage answers in this thread', async () => {
    for (const photo of PHOTOS) {
      const bytes = readPhoto(photo);
      const here = prepareImage(bytes, { preprocessorConfig: config, name: 'image' }).image;
      const there: RawImage = (await pool.prepare(bytes, { preprocessorConfig: config, name: 'image' })).image;
      expect({ ...there, data: Buffer.from(there.data) }).toEqual({ ...here, data: Buffer.from(here.data) });
      expect(bytes.byteLength).toBeGreaterThan(0);   // not handed over: copied, still the caller's
    }
  });

  it('takes the buffer it is handed (transfer), and only a whole one', async () => {
    const owned = readPhoto('opencv-doc/HappyFish.jpg').slice();
    await pool.prepare(owned, { preprocessorConfig: null, name: 'image' }, { transfer: true });
    expect(owned.byteLength).toBe(0);   // detached: moved to the worker, not copied
    const whole = readPhoto('opencv-doc/HappyFish.jpg');
    const view = new Uint8Array(whole.buffer, 0, whole.byteLength);   // a view over a larger buffer is copied
    const padded = new Uint8Array(whole.byteLength + 8);
    padded.set(whole);
    const part = padded.subarray(0, whole.byteLength);
    await pool.prepare(part, { preprocessorConfig: null, name: 'image' }, { transfer: true });
    expect(part.byteLength).toBe(whole.byteLength);
    expect(view.byteLength).toBe(whole.byteLength);
  });

  it('reads the API body forms in the worker: the image out of JSON (with top_k), body errors as ApiError', async () => {
    const fish = readPhoto('opencv-doc/HappyFish.jpg');
    const want = prepareImage(fish, { preprocessorConfig: config, name: 'image' }).image;
    const json = new TextEncoder().encode(JSON.stringify({ inputs: Buffer.from(fish).toString('base64'), parameters: { top_k: 3 } }));
    const hf = await pool.prepare(json, { preprocessorConfig: config, name: 'image', body: { form: 'hugging-face', contentType: 'application/json' } });
    expect(hf.topK).toBe(3);
    expect(Buffer.from(hf.image.data).equals(Buffer.from(want.data))).toBe(true);
    const array = new TextEncoder().encode(JSON.stringify({ image: Array.from(fish) }));
    const wa = await pool.prepare(array, { preprocessorConfig: config, name: 'image', body: { form: 'workers-ai', contentType: null } });
    expect(Buffer.from(wa.image.data).equals(Buffer.from(want.data))).toBe(true);
    const bad = await pool.prepare(new TextEncoder().encode('{"image": [1, 2'), { preprocessorConfig: config, name: 'image', body: { form: 'workers-ai', contentType: 'application/json' } }).catch(x => x);
    expect(bad).toMatchObject({ name: 'ApiError', status: 400, code: 3003, message: expect.stringMatching(/^Request body is not valid JSON/) });
  });

  it('bad input comes back as an ImageInputError by name (a 400), naming the input', async () => {
    const e = await pool.prepare(new Uint8Array([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0, 0]), { preprocessorConfig: config, name: 'image' }).catch(x => x);
    expect(e.name).toBe('ImageInputError');
    expect(e.message).toBe('image: GIF images are not supported (JPEG and PNG are)');
    expect(toApiError(e)).toMatchObject({ status: 400, code: 5004 });
  });

  it('refuses jobs past maxQueue with 503, and drops a waiting job whose signal aborts without stopping the worker', async () => {
    const bytes = readPhoto('darknet/person.jpg');
    const job = { preprocessorConfig: config, name: 'image' };
    const before = { ...pool.stats };
    const running = pool.prepare(bytes, job);
    const ctl = new AbortController();
    const waiting = [pool.prepare(bytes, job, { signal: ctl.signal }), pool.prepare(bytes, job)];
    expect(pool.queued).toBe(2);
    const refused = await pool.prepare(bytes, job).catch(x => x);
    expect(refused).toMatchObject({ status: 503, code: 3040 });
    ctl.abort(new Error('gave up'));
    await expect(waiting[0]).rejects.toThrow('gave up');
    expect(pool.queued).toBe(1);
    await Promise.all([running, waiting[1]]);
    expect(pool.stats.terminated).toBe(before.terminated);
    expect(pool.stats.jobs - before.jobs).toBe(2);
  });
});
