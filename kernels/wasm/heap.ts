// The one place that knows the tfjs WASM backend's internals: its Emscripten heap (malloc/free, the memory),
// where a tensor's data lives in it, and tensors made in place there. ocellus's GEMM (gemm.ts) and the quantized
// ops' weight widening (kernels/quant.ts) read and write tensors through these views instead of copying them out.

import * as tf from '@tensorflow/tfjs-core';

export interface EmscriptenHeap {
  HEAPU8: Uint8Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  asm?: { memory?: WebAssembly.Memory };
  wasmMemory?: WebAssembly.Memory;
}

/** What ocellus uses of tfjs-backend-wasm's BackendWasm (not part of its typed API). */
export interface WasmBackend {
  wasm: EmscriptenHeap;
  getMemoryOffset(dataId: object): number;
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  /** A view of a float32 tensor's heap memory. */
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

/** The current backend as the WASM backend, or undefined on any other. */
export function wasmBackend(): WasmBackend | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const b = tf.backend() as unknown as Partial<WasmBackend>;
  return b.makeOutput && b.typedArrayFromHeap ? b as WasmBackend : undefined;
}

/** The backend's memory, whichever name its Emscripten build gives it. */
export function heapMemory(b: WasmBackend): WebAssembly.Memory | undefined {
  return b.wasm?.wasmMemory ?? b.wasm?.asm?.memory;
}

/** The tensor a heap output made by makeOutput becomes. */
export const tensorOf = (info: tf.TensorInfo): tf.Tensor => tf.engine().makeTensorFromTensorInfo(info);
