// What ocellus's own WASM kernels need from the engine, decided once per process: relaxed SIMD (f32x4.relaxed_madd).
// It ships in V8 from 11.4 (Chrome 114, Node 22, workerd); Node 20's V8 11.3 has it behind
// --experimental-wasm-relaxed-simd, which we turn on for the process (it only adds instructions).
// OCELLUS_OWN_GEMM=0 (read when the backend starts) or setOwnGemm(false) leaves products to tfjs/XNNPACK.

import { envVar } from '../../src/env.js';
import { relaxedSimdProbe } from './emit.js';

let relaxed: boolean | undefined;
let override: boolean | undefined;

/** Whether the JS engine runs relaxed SIMD (turning it on in Node 20, where it is behind a flag). */
export function hasRelaxedSimd(): boolean {
  if (relaxed !== undefined) return relaxed;
  const probe = relaxedSimdProbe();
  relaxed = WebAssembly.validate(probe);
  if (!relaxed && typeof process !== 'undefined' && process.versions?.node) {
    const v8 = (process as unknown as { getBuiltinModule?: (id: string) => typeof import('node:v8') }).getBuiltinModule?.('node:v8');
    v8?.setFlagsFromString('--experimental-wasm-relaxed-simd');
    relaxed = WebAssembly.validate(probe);
  }
  return relaxed;
}

/** Whether products should run on ocellus's GEMM: wanted (not switched off) and possible on this engine. */
export function ownGemmWanted(): boolean {
  const off = override !== undefined ? !override : envVar('OCELLUS_OWN_GEMM') === '0';
  return !off && hasRelaxedSimd();
}

/** Forces the choice (undefined: back to OCELLUS_OWN_GEMM). Used through setOwnGemm (kernels/wasm/gemm.ts). */
export function overrideOwnGemm(enabled: boolean | undefined): void {
  override = enabled;
}
