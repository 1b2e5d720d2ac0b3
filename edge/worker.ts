// The Worker: the same Hono app as `ocellus serve`, serving the bundled ResNet-50 — int8 by default (fp32 with
// `node edge/build.mjs --fp32`, for local workerd only: it does not fit Cloudflare's 128 MB). The tfjs WASM binary
// and ocellus's own kernels (float GEMM, int8) are precompiled WebAssembly modules (Workers compile no WASM at run
// time: the build's 'ocellus:edge-wasm' module and edge/compiled-modules.ts); the model is a
// static asset read through the ASSETS binding (edge/model-assets.ts) and its configs are compiled into the script
// (the build's 'ocellus:edge-model' module). The global scope only wires these up: the model is fetched and planned
// on the first request that needs it and stays warm in the isolate.

import wasmModule from './tfjs-backend-wasm-simd.wasm';
import { config, manifest, preprocessorConfig } from 'ocellus:edge-model';
import { compiled } from 'ocellus:edge-wasm';
import { DEFAULT_MODEL_ID } from '../src/pipeline/default-model.js';
import { createApp, type OcellusApp } from '../src/server/app.js';
import { defaultModelTable, ModelRegistry } from '../src/server/registry.js';
import { serveCompiledModules } from './compiled-modules.js';
import { pipelineFromParts, useCompiledKernels, useCompiledWasm } from './engine.js';
import { fetchModelBytes, type AssetFetcher } from './model-assets.js';

export interface Env {
  /** The static assets (wrangler.jsonc `assets.binding`; in local workerd, a disk service: edge/workerd.capnp). */
  ASSETS?: AssetFetcher;
  /** Optional: require Authorization: Bearer <token> on the API. */
  OCELLUS_API_TOKEN?: string;
}

useCompiledWasm(wasmModule);
serveCompiledModules(compiled);   // ocellus's kernels' modules (float GEMM, int8), compiled ahead of time by the build
useCompiledKernels(compiled.find(m => m.name === 'ocellus-kernels.wasm')!.module);

/** Where the model's assets are read from: the first request's binding and origin. */
let source: { assets: AssetFetcher; origin: string } | undefined;

/** One registry per isolate: the model loads once and serves every request after. */
export const registry = new ModelRegistry({
  models: defaultModelTable(),
  inline: true,   // no queue shared across requests: workerd cancels requests waiting on another request's work
  loader: async (model, options) => {
    if (model !== DEFAULT_MODEL_ID) throw new Error(`${model}: this Worker bundles only ${DEFAULT_MODEL_ID}`);
    if (!source) throw new Error('the Worker has no ASSETS binding: the model is a static asset (see edge/wrangler.jsonc)');
    const onnx = await fetchModelBytes(source.assets, manifest, source.origin);
    return pipelineFromParts({ id: model, onnx, config, preprocessorConfig }, options);
  },
});

let app: OcellusApp | undefined;

export default {
  fetch(request: Request, env: Env, ctx: unknown): Response | Promise<Response> {
    if (!source && env.ASSETS) source = { assets: env.ASSETS, origin: new URL(request.url).origin };
    app ??= createApp({ registry, token: env.OCELLUS_API_TOKEN || undefined });
    return app.fetch(request, env, ctx as never);
  },
};
