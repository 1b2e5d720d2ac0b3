// Module types of what edge/worker.ts imports: precompiled WASM modules (CompiledWasm in wrangler.jsonc's rules,
// `wasm` modules in edge/workerd.capnp), and the module edge/build.mjs generates with the model's manifest and configs.
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
declare module 'ocellus:edge-model' {
  import type { ModelManifest } from './model-assets.js';
  /** Which ONNX file the build put in the assets, and its parts. */
  export const manifest: ModelManifest;
  export const config: Record<string, unknown>;
  export const preprocessorConfig: Record<string, unknown>;
}
declare module 'ocellus:edge-wasm' {
  import type { CompiledModule } from './compiled-modules.js';
  /** Every module ocellus's kernels compile, precompiled (edge/aot-modules.ts lists them). */
  export const compiled: CompiledModule[];
}
