// Turning a request's body into what the model's queue takes, the costly part of serving (decoding and resizing a
// 40-megapixel image takes seconds; parsing a 10 MB JSON array of bytes ~0.3 s): the image bytes out of the API's
// body form (JSON or raw), decode, then the model's own convert/resize/crop, giving a small
// RGB image (224×224×3 for ResNet-50) that `scoresOfPrepared` turns into the float input exactly as the pipeline
// would have. Portable (no node: modules): Node runs `prepareImage` in worker threads (prepare-pool.ts),
// Workers run it in-process (InProcessPreparer).

import { huggingFaceImage, workersAiImage } from './body.js';
import { decodeImage } from '../image/decode.js';
import { ImageProcessor } from '../image/preprocess.js';
import type { RawImage } from '../image/types.js';
import type { ImageClassificationPipeline } from '../pipeline/index.js';

/** What preparing needs besides the bytes; plain data, so it crosses to a worker thread. */
export interface PrepareJob {
  /** The model's preprocessor_config.json; null = decode only (the pipeline then preprocesses itself). */
  preprocessorConfig: Record<string, unknown> | null;
  maxPixels?: number;
  /** How errors name the input. */
  name: string;
  /** The bytes are a request body of this API form (raw image or JSON), not the image itself. */
  body?: { form: 'workers-ai' | 'hugging-face'; contentType: string | null };
}

/** A prepared image, and the top_k a Hugging Face JSON body asked for. */
export interface Prepared {
  image: RawImage;
  topK?: number;
}

export interface PrepareOptions {
  /** Aborting gives up on the job (a worker running it is stopped); the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** The caller hands the bytes over: a worker may take their buffer instead of a copy (it is detached here). */
  transfer?: boolean;
}

/** Runs prepareImage somewhere: in this thread, or in a worker thread. */
export interface ImagePreparer {
  prepare(bytes: Uint8Array, job: PrepareJob, opts?: PrepareOptions): Promise<Prepared>;
  /** Releases threads, if any. */
  close?(): Promise<void>;
  /** For /health: worker threads and their jobs, where there are any. */
  status?(): Record<string, number>;
}

const processors = new Map<string, ImageProcessor>();

/** One processor per distinct config, kept (a server serves a handful of models). */
function processorFor(config: Record<string, unknown>, pixelsOnly: boolean): ImageProcessor {
  const key = `${pixelsOnly ? 1 : 0}${JSON.stringify(config)}`;
  let p = processors.get(key);
  if (!p) {
    // Without resize and crop, an already prepared image only gets rescaled, normalised and laid out as CHW: the
    // same arithmetic (ImageProcessor.writeCHW) the full processor applies after its own prepare().
    p = ImageProcessor.fromConfig(pixelsOnly ? { ...config, do_resize: false, do_center_crop: false } : config);
    if (processors.size > 64) processors.clear();
    processors.set(key, p);
  }
  return p;
}

export type Decode = (bytes: Uint8Array, opts: { maxPixels?: number; name: string }) => RawImage;

/**
 * Encoded bytes (or a request body holding them) → the RGB image the model's preprocessing resizes and crops to
 * (only decoded, without a config). Bad input throws ApiError (the body) or ImageInputError (the image).
 */
export function prepareImage(bytes: Uint8Array, job: PrepareJob, decode: Decode = decodeImage): Prepared {
  let topK: number | undefined;
  if (job.body) {
    const got = job.body.form === 'workers-ai' ? { image: workersAiImage(bytes, job.body.contentType) } : huggingFaceImage(bytes, job.body.contentType);
    bytes = got.image;
    topK = got.topK;
  }
  const image = decode(bytes, { maxPixels: job.maxPixels, name: job.name });
  return { image: job.preprocessorConfig ? processorFor(job.preprocessorConfig, false).prepare(image) : image, ...(topK === undefined ? {} : { topK }) };
}

/** The config preparing uses for a pipeline: its preprocessor_config.json when it has one and a processor. */
export function preprocessorConfigOf(p: ImageClassificationPipeline): Record<string, unknown> | null {
  const config = (p as Partial<ImageClassificationPipeline>).model?.preprocessorConfig;
  return config && (p as Partial<ImageClassificationPipeline>).processor ? config : null;
}

/**
 * Scores images prepared by prepareImage with `config`: the pipeline's own scores() on a view whose processor
 * skips the resize and crop already done (without a config the images are only decoded: the pipeline as it is).
 */
export function scoresOfPrepared(p: ImageClassificationPipeline, config: Record<string, unknown> | null, images: RawImage[]): Promise<number[][]> {
  if (!config) return p.scores(images);
  const view = Object.create(p, { processor: { value: processorFor(config, true) } }) as ImageClassificationPipeline;
  return view.scores(images);
}

/** Prepares in the calling thread (Workers, or Node without worker threads); `decode` replaces the image layer's. */
export class InProcessPreparer implements ImagePreparer {
  constructor(private readonly decode?: Decode) {}

  async prepare(bytes: Uint8Array, job: PrepareJob, opts: PrepareOptions = {}): Promise<Prepared> {
    opts.signal?.throwIfAborted();
    return prepareImage(bytes, job, this.decode);
  }
}
