// The served models: a table from the ids clients send ('@cf/microsoft/resnet-50') to pipeline models, each
// loaded once (lazily, or up front with warm()) and kept warm behind its own bounded, micro-batching queue.
// Entries naming the same pipeline model share one pipeline; each entry picks the labels it answers with.
// A request's image is prepared (decoded, resized, cropped: prepare.ts) before it queues, by the preparer: worker
// threads under Node (startServer), the calling thread elsewhere; only the small prepared images wait in the queue.

import type { RawImage } from '../image/types.js';
import { DEFAULT_MODEL_ID, pipeline, type ImageClassificationPipeline, type PipelineOptions } from '../pipeline/index.js';
import { topK, type Classification } from '../pipeline/labels.js';
import { noSuchModel } from './errors.js';
import { InProcessPreparer, preprocessorConfigOf, scoresOfPrepared, type ImagePreparer, type PrepareJob, type Prepared } from './prepare.js';
import { InferenceQueue, type QueueOptions } from './queue.js';
import { WORKERS_AI_LABELS } from './workers-ai-labels.js';

export interface ServedModel {
  /** What pipeline() loads: a local folder, an .onnx file or a hub id. Default: the bundled ResNet-50. */
  model?: string;
  /** Labels the Workers AI routes and the binding answer with: the Workers AI list, the model's config, or a list. */
  labels?: 'workers-ai' | 'config' | readonly string[];
  /** Passed to pipeline() (dtype, cacheDir, session options…). */
  options?: PipelineOptions;
}

/** Served id → entry; a string is shorthand for `{ model: string }`. */
export type ModelTable = Record<string, ServedModel | string>;

export const WORKERS_AI_RESNET = '@cf/microsoft/resnet-50';

/** The default table: the Workers AI id with Workers AI labels, and the bundled model's own id with its config labels. */
export function defaultModelTable(): ModelTable {
  return { [WORKERS_AI_RESNET]: { model: DEFAULT_MODEL_ID, labels: 'workers-ai' }, [DEFAULT_MODEL_ID]: { model: DEFAULT_MODEL_ID } };
}

/** Builds the pipeline for a model id. Node uses pipeline() (files, cache, hub); Workers build from bundled bytes. */
export type PipelineLoader = (model: string, options: PipelineOptions) => Promise<ImageClassificationPipeline>;

export const defaultLoader: PipelineLoader = async (model, options) => (await pipeline('image-classification', model, options)).pipeline;

export interface RegistryOptions extends QueueOptions {
  models?: ModelTable;
  loader?: PipelineLoader;
  /** Largest decoded image accepted, in pixels (default: the image layer's 40 megapixels). */
  maxPixels?: number;
  /**
   * Bytes → RawImage (default: the image layer's decodeImage); runtimes lacking a format plug in their own. A
   * function cannot cross to a worker thread: with it, images are prepared in the calling thread.
   */
  decode?: (bytes: Uint8Array, opts: { maxPixels?: number; name: string }) => RawImage;
  /** Where images are decoded and prepared (default: in the calling thread; startServer passes a worker pool). */
  preparer?: ImagePreparer;
}

export interface ClassifyOptions {
  topK?: number;
  /** 'served' uses the entry's labels (Workers AI), 'config' the model's. */
  labels?: LabelChoice;
  /** Gives up on the request: it leaves the queue, or its image worker is stopped; rejects with the signal's reason. */
  signal?: AbortSignal;
  /** The caller hands `image` over (its buffer may be moved to a worker thread and detached). */
  transfer?: boolean;
  /** `image` is a request body of this API form; its JSON is read where the image is prepared (top_k included). */
  body?: PrepareJob['body'];
}

export type LabelChoice = 'served' | 'config';

interface Warm {
  pipeline: ImageClassificationPipeline;
  /** Images being prepared for this queue. */
  preparing: number;
  /** What images are prepared with for this pipeline (null: decoded only). */
  config: Record<string, unknown> | null;
  queue: InferenceQueue<RawImage, number[]>;
}

export class ModelRegistry {
  private readonly table = new Map<string, Required<Pick<ServedModel, 'model'>> & ServedModel>();
  private readonly loaded = new Map<string, Promise<Warm>>();
  private readonly loader: PipelineLoader;
  readonly preparer: ImagePreparer;

  constructor(private readonly opts: RegistryOptions = {}) {
    this.preparer = opts.preparer ?? new InProcessPreparer(opts.decode);
    for (const [id, e] of Object.entries(opts.models ?? defaultModelTable())) {
      const entry = typeof e === 'string' ? { model: e } : e;
      this.table.set(id, { ...entry, model: entry.model ?? DEFAULT_MODEL_ID });
    }
    this.loader = opts.loader ?? defaultLoader;
  }

  ids(): string[] {
    return [...this.table.keys()];
  }

  has(id: string): boolean {
    return this.table.has(id);
  }

  /** The table entry (with the pipeline model id filled in) for a served id. */
  entry(id: string): ServedModel & { model: string } {
    const e = this.table.get(id);
    if (!e) throw noSuchModel(id, this.ids());
    return e;
  }

  /** Top-k for one encoded image (or a request body holding one: opts.body). */
  async classify(id: string, image: Uint8Array, opts: ClassifyOptions = {}): Promise<Classification[]> {
    const entry = this.entry(id);
    const warm = await this.load(entry);
    const job: PrepareJob = { preprocessorConfig: warm.config, maxPixels: this.opts.maxPixels, name: 'image', body: opts.body };
    let prepared: Prepared;
    warm.preparing++;
    try {
      prepared = await this.preparer.prepare(image, job, { signal: opts.signal, transfer: opts.transfer });
    } finally {
      warm.preparing--;
    }
    const row = await warm.queue.push(prepared.image, opts.signal);
    const labels = opts.labels === 'config' ? warm.pipeline.labels : labelsFor(entry, warm.pipeline);
    return topK(row, labels, opts.topK ?? prepared.topK ?? 5);
  }

  /** The warm pipeline behind a served id (loading it if needed). */
  async pipelineFor(id: string): Promise<ImageClassificationPipeline> {
    return (await this.load(this.entry(id))).pipeline;
  }

  /** Loads every served model (or the given ids) now instead of on first request. */
  async warm(ids: readonly string[] = this.ids()): Promise<void> {
    for (const id of ids) {
      const entry = this.entry(id);
      const w = await this.load(entry);
      labelsFor(entry, w.pipeline);   // a label list of the wrong length fails at start, not per request
    }
  }

  /** Per served id: loaded or not, requests waiting and running, batches run (`jobs` counts requests taken into batches). */
  status(): Record<string, { model: string; loaded: boolean; waiting: number; running: number; busy: boolean; batches: number; jobs: number; largestBatch: number }> {
    const out: ReturnType<ModelRegistry['status']> = {};
    for (const [id, e] of this.table) {
      const q = this.queues.get(keyOf(e));
      out[id] = { model: e.model, loaded: !!q, waiting: q?.waiting ?? 0, running: q?.inBatch ?? 0, busy: q?.busy ?? false, ...(q?.stats ?? { batches: 0, jobs: 0, largestBatch: 0 }) };
    }
    return out;
  }

  /** Waits until every queue is empty and idle. */
  async idle(): Promise<void> {
    await Promise.all([...this.queues.values()].map(q => q.idle()));
  }

  /** Waits for queued work, then releases every pipeline. */
  async close(): Promise<void> {
    await this.idle();
    const all = [...this.loaded.values()];
    this.loaded.clear();
    this.queues.clear();
    for (const p of all) {
      const w = await p.catch(() => undefined);
      await w?.pipeline.dispose();
    }
  }

  private readonly queues = new Map<string, InferenceQueue<RawImage, number[]>>();

  private load(entry: ServedModel & { model: string }): Promise<Warm> {
    const key = keyOf(entry);
    let p = this.loaded.get(key);
    if (!p) {
      p = this.loader(entry.model, entry.options ?? {}).then(pipeline => {
        const config = preprocessorConfigOf(pipeline);
        const warm: Warm = { pipeline, config, preparing: 0, queue: undefined! };
        warm.queue = new InferenceQueue<RawImage, number[]>(batch => this.runBatch(pipeline, config, batch), this.opts, () => warm.preparing);
        this.queues.set(key, warm.queue);
        return warm;
      });
      p.catch(() => this.loaded.delete(key));   // a failed load is retried by the next request
      this.loaded.set(key, p);
    }
    return p;
  }

  /** Scores the prepared images as one batch; if the batch fails, each on its own (a failure fails only its request). */
  private async runBatch(p: ImageClassificationPipeline, config: Record<string, unknown> | null, images: RawImage[]): Promise<(number[] | Error)[]> {
    try {
      return await scoresOfPrepared(p, config, images);
    } catch (e) {
      // One image the batch cannot take (a size the others don't preprocess to) fails only its own request.
      if (images.length === 1) return [e as Error];
      const rows: (number[] | Error)[] = [];
      for (const img of images) rows.push(await scoresOfPrepared(p, config, [img]).then(r => r[0]!, (err: Error) => err));
      return rows;
    }
  }
}

function keyOf(e: ServedModel & { model: string }): string {
  return e.options ? `${e.model}\u0000${JSON.stringify(e.options)}` : e.model;
}

function labelsFor(entry: ServedModel, p: ImageClassificationPipeline): readonly string[] {
  const l = entry.labels ?? 'config';
  if (l === 'config') return p.labels;
  const list = l === 'workers-ai' ? WORKERS_AI_LABELS : l;
  if (list.length !== p.labels.length) {
    throw new Error(`${entry.model}: the model has ${p.labels.length} classes but the label list has ${list.length}`);
  }
  return list;
}
