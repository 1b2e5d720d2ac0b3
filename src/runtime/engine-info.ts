// What the engine runs on, for health checks and reports: the tfjs backend, its build and threads, and whether
// ocellus's own WASM kernels or tfjs's run the products (kernels/backend.ts backendInfo).

import { backendInfo, type BackendInfo } from '../../kernels/backend.js';

export type EngineInfo = BackendInfo;

export function engineInfo(): EngineInfo {
  return backendInfo();
}
