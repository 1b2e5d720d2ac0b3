// Public API of the server layer: the Workers AI-compatible Hono app, the Node server around it, and an object
// usable as a Worker's `AI` binding. Edge entry points import app.ts/binding.ts directly (no node: modules).

export { createApp, type AppOptions, type AppState, type OcellusApp } from './app.js';
export { createAiBinding, AiError, type AiBinding, type AiBindingOptions, type AiImageInput, type AiRunOptions } from './binding.js';
export { startServer, closeOnSignals, type ServeOptions, type RunningServer } from './node.js';
export {
  ModelRegistry, defaultModelTable, defaultLoader, WORKERS_AI_RESNET,
  type ModelTable, type ServedModel, type PipelineLoader, type RegistryOptions,
} from './registry.js';
export { InferenceQueue, QueueFullError, type QueueOptions } from './queue.js';
export { ApiError, CODES, type Envelope } from './errors.js';
export { DEFAULT_MAX_BODY_BYTES } from './body.js';
export { WORKERS_AI_LABELS } from './workers-ai-labels.js';
