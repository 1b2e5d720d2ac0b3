// Whether ocellus's WASM kernels are bound to the running backend, for reports (kernels/backend.ts backendInfo):
// written by kernels/wasm/gemm.ts, which cannot be imported from backend.ts (it starts the pool from backend info).

export const kernelStatus: { active: boolean; reason?: string } = { active: false };
