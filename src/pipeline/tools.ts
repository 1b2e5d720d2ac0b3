// Model tools the pipeline uses but does not import: quantizing a float model to int8 on first use of
// `dtype: 'q8'` (and, see default-model.ts, preparing the bundled default model). Both live in weights-tools
// (offline tooling with heavy imports); the composition roots — the package entry (src/index.ts) and the CLI —
// register them through src/model-tools.ts, imported lazily on first use, so the pipeline stays a layer that
// only resolves, loads and runs models.

export interface QuantizeProgress { stage: string; done: number; total: number }

export interface ModelTools {
  /** Writes an int8 twin of the float ONNX file `input` at `output` (atomically). */
  quantize?(input: string, output: string, onProgress?: (e: QuantizeProgress) => void): Promise<void>;
}

let tools: ModelTools = {};

/** Adds (or replaces) tools; later registrations win per tool. */
export function registerModelTools(more: ModelTools): void {
  tools = { ...tools, ...more };
}

export function modelTools(): Readonly<ModelTools> {
  return tools;
}
