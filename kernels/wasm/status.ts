// Whether ocellus's WASM kernels are bound to the running backend, for reports (kernels/backend.ts backendInfo):
// written by kernels/wasm/gemm.ts, which cannot be imported from backend.ts (it starts the pool from backend info).

export const kernelStatus: { active: boolean; reason?: string; packed: { count: number; bytes: number } } = {
  active: false,
  /** Packed weight blocks alive in the heap (kernels/wasm/gemm.ts PackedWeights): not tensors, so not in tf.memory(). */
  packed: { count: 0, bytes: 0 },
};
