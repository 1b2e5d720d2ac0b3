/// <reference types="long" preserve="true" />
// (tfjs-core's declarations use the global `Long` of @types/long, its dependency: consumers need not list it in `types`.)
// The package root.
//  - pipeline('image-classification', model?) → classify(input, { topK }) → [{ label, score }]  (transformers.js shape)
//  - InferenceSession / Tensor                                                               (onnxruntime-web shape)
//  - loadImage / ImageProcessor                                                              (Python-exact preprocessing)
// As the composition root it also registers the offline tooling the pipeline uses but does not import (int8
// quantization on first use of dtype 'q8'; see src/model-tools.ts), imported lazily when first needed.

import { installModelTools } from './model-tools.js';

installModelTools();

export {
  pipeline, ImageClassificationPipeline, DEFAULT_MODEL_ID, resolveModel, ModelNotFoundError,
  type ImageClassifier, type ClassifyOptions, type PipelineOptions, type Classification, type HubOptions,
  type ProgressEvent, type ResolvedModel, type Task,
} from './pipeline/index.js';
export { InferenceSession, type SessionOptions, type ValueMetadata, type InputMetadata } from './runtime/session.js';
export { engineInfo, type EngineInfo } from './runtime/engine-info.js';
export { Tensor, type DType, type TensorData } from './runtime/tensor.js';
export { ModelError, UnsupportedOpsError, InputError } from './runtime/errors.js';
export { ModelLoadError } from './onnx/errors.js';
export {
  loadImage, decodeImage, ImageProcessor, ImageInputError, isRawImage,
  type RawImage, type ImageInput, type LoadOptions,
} from './image/index.js';

export { registerModelTools, type ModelTools } from './pipeline/tools.js';
