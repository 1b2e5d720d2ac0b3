// Builds an ImageClassificationPipeline from in-memory parts (ONNX bytes + config.json + preprocessor_config.json)
// for runtimes without a filesystem (Workers, browsers).

import { ImageClassificationPipeline, type ModelParts, type PipelineOptions } from '../src/pipeline/index.js';

export type { ModelParts };

export function pipelineFromParts(parts: ModelParts, opts: PipelineOptions = {}): Promise<ImageClassificationPipeline> {
  return ImageClassificationPipeline.fromParts(parts, opts);
}
