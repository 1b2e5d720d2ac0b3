// The image-classification pipeline: any image input → preprocessing from preprocessor_config.json → one batched
// session run → softmax (unless the graph already ends in Softmax) → top-k { label, score } from config.json.

import { ImageProcessor } from '../image/preprocess.js';
import { loadImage, type ImageInput, type LoadOptions as LoadImageOptions } from '../image/load.js';
import type { RawImage } from '../image/types.js';
import { outputIsProbability } from '../runtime/outputs.js';
import { InferenceSession, type SessionOptions } from '../runtime/session.js';
import { Tensor } from '../runtime/tensor.js';
import { DEFAULT_MODEL_ID, resolveDefaultModel } from './default-model.js';
import { resolveModel, type HubOptions, type ResolvedModel } from './hub.js';
import { labelsFromConfig, softmax, topK, type Classification } from './labels.js';
import { IMAGENET_LABELS, imagenetPreprocessor } from './model-defaults.js';
import { ensureQuantized, wantsQuantized } from './quantized.js';

export interface PipelineOptions extends HubOptions {
  session?: SessionOptions;
  /** Replaces config.json's id2label (e.g. the Workers AI label list). */
  labels?: readonly string[];
  /** Options for reading inputs (pixel limit, fetch timeout and size limit). */
  image?: LoadImageOptions;
  /** A preprocessor_config.json object to use instead of the model's own (or of the ImageNet defaults). */
  preprocessor?: Record<string, unknown>;
  /** One-line notices, e.g. that a bare .onnx file gets the ImageNet defaults (default: console.warn). */
  onNotice?: (message: string) => void;
}

/** A model held in memory: what `fromParts` needs where there is no filesystem. */
export interface ModelParts {
  /** Name used in errors. */
  id: string;
  onnx: Uint8Array | ArrayBuffer;
  config?: Record<string, unknown>;
  preprocessorConfig: Record<string, unknown>;
}

export interface ClassifyOptions {
  /** How many classes to return, highest score first (default 5). */
  topK?: number;
}

export class ImageClassificationPipeline {
  readonly task = 'image-classification';

  private constructor(
    readonly model: ResolvedModel,
    readonly session: InferenceSession,
    readonly processor: ImageProcessor,
    readonly labels: readonly string[],
    /** True when the graph's output is already a probability (ends in Softmax): no second softmax. */
    readonly outputIsProbability: boolean,
    private readonly imageOptions: LoadImageOptions,
  ) {}

  static async create(modelId: string = DEFAULT_MODEL_ID, opts: PipelineOptions = {}): Promise<ImageClassificationPipeline> {
    const model = await resolvePipelineModel(modelId, opts);
    const session = await InferenceSession.create(model.onnxPath, opts.session);
    try {
      return ImageClassificationPipeline.assemble(withDefaults(model, session, opts), session, opts);
    } catch (e) {
      await session.release();
      throw e;
    }
  }

  /**
   * A pipeline from in-memory parts, for runtimes without a filesystem (Workers, browsers): the ONNX bytes,
   * config.json (labels) and preprocessor_config.json.
   */
  static async fromParts(parts: ModelParts, opts: PipelineOptions = {}): Promise<ImageClassificationPipeline> {
    const onnx = parts.onnx instanceof Uint8Array ? parts.onnx : new Uint8Array(parts.onnx);
    const session = await InferenceSession.create(onnx, { name: parts.id, ...opts.session });
    const model: ResolvedModel = { id: parts.id, onnxPath: `${parts.id} (in memory)`, dir: '', config: parts.config, preprocessorConfig: parts.preprocessorConfig };
    return ImageClassificationPipeline.assemble(model, session, opts);
  }

  private static assemble(model: ResolvedModel, session: InferenceSession, opts: PipelineOptions): ImageClassificationPipeline {
    const processor = ImageProcessor.fromConfig(model.preprocessorConfig!);
    const classes = Number(session.outputMetadata[0]?.shape?.at(-1));
    const labels = opts.labels ?? labelsFromConfig(model.config, Number.isFinite(classes) ? classes : Object.keys((model.config?.id2label ?? {}) as object).length);
    return new ImageClassificationPipeline(model, session, processor, labels, outputIsProbability(session.model), opts.image ?? {});
  }

  /** Classifies one image, or a batch (array) as one session run where the model's batch dimension allows. */
  async classify(input: ImageInput, opts?: ClassifyOptions): Promise<Classification[]>;
  async classify(input: readonly ImageInput[], opts?: ClassifyOptions): Promise<Classification[][]>;
  async classify(input: ImageInput | readonly ImageInput[], opts: ClassifyOptions = {}): Promise<Classification[] | Classification[][]> {
    const k = opts.topK ?? 5;
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`topK must be a positive integer, got ${k}`);
    const batch = Array.isArray(input) && !isByteArray(input);
    const inputs = (batch ? input : [input]) as ImageInput[];
    if (inputs.length === 0) return [];
    const images = await Promise.all(inputs.map((x, i) => loadImage(x, { ...this.imageOptions, name: batch ? `input ${i}` : undefined })));
    const rows = await this.scores(images);
    const results = rows.map(r => topK(r, this.labels, k));
    return batch ? results : results[0]!;
  }

  /** Class probabilities for decoded images, one array per image. */
  async scores(images: readonly RawImage[]): Promise<number[][]> {
    const inputName = this.session.inputNames[0]!;
    const fixedBatch = this.session.inputMetadata[0]?.shape?.[0];
    const groups = typeof fixedBatch === 'number' ? chunk(images, fixedBatch) : [images];
    const rows: number[][] = [];
    for (const group of groups) {
      const x = this.processor.processBatch([...group]);
      const out = await this.session.run({ [inputName]: x });
      const y = out[this.session.outputNames[0]!]!;
      const classes = y.dims.at(-1)!;
      const data = y.data as Float32Array;
      for (let i = 0; i < group.length; i++) {
        const row = data.subarray(i * classes, (i + 1) * classes);
        rows.push(this.outputIsProbability ? Array.from(row) : softmax(row));
      }
    }
    return rows;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/** Local files and the default model get an 8-bit twin made on first use; hub ids download the hub's own. */
async function resolvePipelineModel(modelId: string, opts: PipelineOptions): Promise<ResolvedModel> {
  const isDefault = modelId === DEFAULT_MODEL_ID;
  const resolve = (o: PipelineOptions) => (isDefault ? resolveDefaultModel(o) : resolveModel(modelId, o));
  if (!wantsQuantized(opts)) return resolve(opts);
  const fs = await import('node:fs');
  if (!isDefault && !fs.existsSync(modelId)) return resolve(opts);
  return ensureQuantized(await resolve({ ...opts, dtype: 'fp32' }), opts);
}

/**
 * A model without preprocessor_config.json (a bare .onnx file) gets torchvision's ImageNet preprocessing at its input
 * size, and a 1000-class one without config.json the ImageNet labels, each said in a one-line notice;
 * `opts.preprocessor` replaces whatever the model has.
 */
function withDefaults(model: ResolvedModel, session: InferenceSession, opts: PipelineOptions): ResolvedModel {
  if (opts.preprocessor) return { ...model, preprocessorConfig: opts.preprocessor };
  if (model.preprocessorConfig) return model;
  const [, , h, w] = session.inputMetadata[0]?.shape ?? [];
  const size = typeof h === 'number' && h === w ? h : 224;
  const classes = session.outputMetadata[0]?.shape?.at(-1);
  const imagenetLabels = !model.config && classes === IMAGENET_LABELS.length && !opts.labels;
  (opts.onNotice ?? console.warn)(`ocellus: ${model.id} has no preprocessor_config.json: using ImageNet defaults ` +
    `(resize ${Math.round((size * 256) / 224)}, centre crop ${size}×${size}, ImageNet mean/std${imagenetLabels ? ', ImageNet labels' : ''}); ` +
    'pass a preprocessor config (--preprocessor FILE) to override');
  return {
    ...model,
    preprocessorConfig: imagenetPreprocessor(size),
    config: imagenetLabels ? { id2label: Object.fromEntries(IMAGENET_LABELS.map((l, i) => [String(i), l])) } : model.config,
  };
}

function chunk<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/** A plain number[] of bytes is ONE encoded image (the Workers AI JSON form), not a batch. */
function isByteArray(x: readonly unknown[]): boolean {
  return x.length > 0 && typeof x[0] === 'number';
}

export { Tensor };
