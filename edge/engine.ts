// What every edge entry (Worker, browser page) does before using the engine: hand the tfjs WASM backend an
// already-compiled WebAssembly.Module (Workers refuse to compile WASM from bytes at run time; browsers can
// compile it streaming), and load models from bytes. edge/build.mjs wraps the backend's Emscripten factory so
// it instantiates the module given here (an `instantiateWasm` hook) instead of fetching a .wasm file.


export { pipelineFromParts, type ModelParts } from './pipeline-from-parts.js';
export { engineInfo } from '../src/runtime/engine-info.js';

/** The global the wrapped Emscripten factory (see edge/build.mjs) reads. */
export const WASM_MODULE_GLOBAL = '__ocellusWasmModule';

/** Must run before the first pipeline is created (the backend starts on first use). */
export function useCompiledWasm(module: WebAssembly.Module): void {
  (globalThis as Record<string, unknown>)[WASM_MODULE_GLOBAL] = module;
}

/** ocellus's own kernels (kernels/wasm), compiled ahead of time by edge/build.mjs as ocellus-kernels.wasm: where
 *  nothing may be compiled at run time, this is how convolutions and products get them. Same global as
 *  KERNELS_MODULE_GLOBAL in kernels/wasm/gemm.ts. */
export function useCompiledKernels(module: WebAssembly.Module): void {
  (globalThis as Record<string, unknown>)['__ocellusKernelsModule'] = module;
}
