/// <reference types="long" preserve="true" />
// (tfjs-core's declarations use the global `Long` of @types/long, its dependency: consumers need not list it in `types`.)
// Public API of the server layer: the Workers AI-compatible Hono app, the Node server around it, and an object
// usable as a Worker's `AI` binding. Edge entry points import app.ts/binding.ts directly (no node: modules).

// An entry point of the package, so a composition root: it registers the offline tooling the pipeline uses (the default
// model's preparer, the int8 quantizer; src/model-tools.ts), imported lazily when first needed.
import { installModelTools } from '../model-tools.js';

installModelTools();

export { createApp, DEFAULT_DEADLINE_MS, type AppOptions, type AppState, type OcellusApp } from './app.js';
export { createAiBinding, AiError, type AiBinding, type AiBindingOptions, type AiImageInput, type AiRunOptions } from './binding.js';
export { startServer, closeOnSignals, SERVER_TIMEOUTS, type ServeOptions, type RunningServer } from './node.js';
export { PreparePool, type PreparePoolOptions } from './prepare-pool.js';
export { InProcessPreparer, prepareImage, type ImagePreparer, type PrepareJob, type Prepared, type PrepareOptions } from './prepare.js';
export {
  ModelRegistry, defaultModelTable, defaultLoader, WORKERS_AI_RESNET,
  type ModelTable, type ServedModel, type PipelineLoader, type RegistryOptions, type ClassifyOptions,
} from './registry.js';
export { InferenceQueue, QueueFullError, type QueueOptions } from './queue.js';
export { ApiError, CODES, type Envelope } from './errors.js';
export { DEFAULT_MAX_BODY_BYTES } from './body.js';
export { WORKERS_AI_LABELS } from './workers-ai-labels.js';
