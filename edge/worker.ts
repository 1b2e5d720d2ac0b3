// The Worker: the same Hono app as `ocellus serve`, with the bundled ResNet-50 read from module bindings (see
// edge/workerd.capnp): the tfjs WASM binary and ocellus's own kernels as CompiledWasm modules, the ONNX bytes as a
// Data module and the configs as Text modules. The model loads on the first request and stays warm in the isolate.
// Memory: fp32 ResNet-50 is ~100 MB of weights, held twice while loading (module bytes + WASM heap), so it
// exceeds Cloudflare's 128 MB isolate limit; local workerd does not enforce it (an 8-bit model would fit).

import wasmModule from './tfjs-backend-wasm-simd.wasm';
import kernelsModule from './ocellus-kernels.wasm';
import onnx from './model/model.onnx';
import configText from './model/config.json.txt';
import preprocessorText from './model/preprocessor_config.json.txt';
import { DEFAULT_MODEL_ID } from '../src/pipeline/default-model.js';
import { createApp, type OcellusApp } from '../src/server/app.js';
import { defaultModelTable, ModelRegistry } from '../src/server/registry.js';
import { parseJsonText, pipelineFromParts, useCompiledKernels, useCompiledWasm } from './engine.js';

export interface Env {
  /** Optional: require Authorization: Bearer <token> on the API. */
  OCELLUS_API_TOKEN?: string;
}

useCompiledWasm(wasmModule);
useCompiledKernels(kernelsModule);

/** One registry per isolate: the model loads once and serves every request after. */
export const registry = new ModelRegistry({
  models: defaultModelTable(),
  inline: true,   // no queue shared across requests: workerd cancels requests waiting on another request's work
  loader: async (model, options) => {
    if (model !== DEFAULT_MODEL_ID) throw new Error(`${model}: this Worker bundles only ${DEFAULT_MODEL_ID}`);
    return pipelineFromParts({
      id: model, onnx,
      config: parseJsonText(configText, 'model/config.json.txt'),
      preprocessorConfig: parseJsonText(preprocessorText, 'model/preprocessor_config.json.txt'),
    }, options);
  },
});

let app: OcellusApp | undefined;

export default {
  fetch(request: Request, env: Env, ctx: unknown): Response | Promise<Response> {
    app ??= createApp({ registry, token: env.OCELLUS_API_TOKEN || undefined });
    return app.fetch(request, env, ctx as never);
  },
};
