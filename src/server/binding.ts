// An object usable as a Worker's `AI` binding (env.AI), backed by ocellus. It has what @cloudflare/ai's `Ai`
// class uses (1.2.2: `binding.run(model, inputs, options)`, then `binding.lastRequestId`, and `binding.getLogs()`
// when `debug` is set) and answers what Workers AI answers for image classification: [{ label, score }] × 5.

import type { Classification } from '../pipeline/labels.js';
import { imageBytesFromJson } from './body.js';
import { ApiError, CODES, toApiError } from './errors.js';
import { ModelRegistry, type RegistryOptions } from './registry.js';

export type AiImageInput = { image: readonly number[] | Uint8Array | ArrayBuffer | Blob } | Uint8Array | ArrayBuffer | Blob;

export interface AiRunOptions {
  /** Record what the run did; read it with getLogs() (what @cloudflare/ai's `debug` option asks for). */
  debug?: boolean;
  [key: string]: unknown;
}

export interface AiBindingOptions extends RegistryOptions {
  /** Share warm models with an HTTP app (createApp({ registry })). */
  registry?: ModelRegistry;
  /** Log every run, not only those whose options say debug. */
  debug?: boolean;
}

export interface AiBinding {
  run(model: string, inputs: AiImageInput, options?: AiRunOptions): Promise<Classification[]>;
  /** Id of the last run (what @cloudflare/ai copies into its own lastRequestId). */
  lastRequestId: string;
  /** Log lines of the last run made with debug on. */
  getLogs(): string[];
  readonly registry: ModelRegistry;
}

/** The binding's errors carry Workers AI's "code: message" form and the HTTP status the API would answer. */
export class AiError extends Error {
  override readonly name = 'AiError';
  constructor(readonly code: number, readonly httpCode: number, message: string) {
    super(`${code}: ${message}`);
  }
}

export function createAiBinding(opts: AiBindingOptions = {}): AiBinding {
  const registry = opts.registry ?? new ModelRegistry(opts);
  let logs: string[] = [];
  const binding: AiBinding = {
    lastRequestId: '',
    registry,
    getLogs: () => [...logs],
    async run(model, inputs, options = {}) {
      const id = crypto.randomUUID();
      binding.lastRequestId = id;
      const debug = !!(options.debug ?? opts.debug);
      const t0 = Date.now();
      try {
        const bytes = await inputBytes(inputs);
        const result = await registry.classify(model, bytes, { labels: 'served' });
        if (debug) logs = [`${id} ${model}: ${bytes.length}-byte image → ${result[0]?.label ?? '?'} in ${Date.now() - t0} ms`];
        return result;
      } catch (e) {
        const err = toApiError(e);
        if (debug) logs = [`${id} ${model}: failed with ${err.status} ${err.code}: ${err.message}`];
        throw new AiError(err.code, err.status, err.message);
      }
    },
  };
  return binding;
}

async function inputBytes(inputs: AiImageInput): Promise<Uint8Array> {
  const value = isObject(inputs) && 'image' in inputs ? inputs.image : inputs;
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (typeof Blob !== 'undefined' && value instanceof Blob) return new Uint8Array(await value.arrayBuffer());
  if (!isObject(inputs) || !('image' in inputs)) throw new ApiError(400, CODES.incompleteRequest, 'inputs must be { image: number[] } (the bytes of an encoded image)');
  return imageBytesFromJson(value, 'image');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}
