// The pipeline API, in the transformers.js shape:
//
//   import { pipeline } from 'ocellus';
//   const classify = await pipeline('image-classification');            // bundled default model
//   const top5 = await classify('photos/cat.jpg', { topK: 5 });        // [{ label, score }, …] highest first
//   const batch = await classify([url, bytes, rawImage]);              // one result array per input

import type { ImageInput } from '../image/load.js';
import { ImageClassificationPipeline, type ClassifyOptions, type ModelParts, type PipelineOptions } from './image-classification.js';
import type { Classification } from './labels.js';

export interface ImageClassifier {
  (input: ImageInput, opts?: ClassifyOptions): Promise<Classification[]>;
  (input: readonly ImageInput[], opts?: ClassifyOptions): Promise<Classification[][]>;
  readonly task: 'image-classification';
  readonly pipeline: ImageClassificationPipeline;
  dispose(): Promise<void>;
}

export const SUPPORTED_TASKS = ['image-classification'] as const;
export type Task = (typeof SUPPORTED_TASKS)[number];

/**
 * Creates a pipeline for `task` with `model` (a local folder, an .onnx file, or a hub id; default: the bundled
 * ResNet-50). Example: `const classify = await pipeline('image-classification', 'Xenova/vit-base-patch16-224')`.
 */
export async function pipeline(task: Task, model?: string, opts: PipelineOptions = {}): Promise<ImageClassifier> {
  if (task !== 'image-classification') {
    throw new Error(`Unsupported pipeline: '${task as string}'. Must be one of [${SUPPORTED_TASKS.join(', ')}]`);
  }
  const p = await ImageClassificationPipeline.create(model, opts);
  const fn = ((input: ImageInput | readonly ImageInput[], o?: ClassifyOptions) => p.classify(input as ImageInput, o)) as ImageClassifier;
  return Object.assign(fn, { task: 'image-classification' as const, pipeline: p, dispose: () => p.dispose() });
}

export { ImageClassificationPipeline, type ClassifyOptions, type ModelParts, type PipelineOptions, type Classification };
export { DEFAULT_MODEL_ID } from './default-model.js';
export { resolveModel, type HubOptions, type ProgressEvent, type ResolvedModel, ModelNotFoundError } from './hub.js';
