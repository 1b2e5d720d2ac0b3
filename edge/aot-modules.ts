// Node-only, run by edge/build.mjs through tsx: the WebAssembly modules ocellus's kernels would compile at run time,
// as bytes, for the Worker to import precompiled (see edge/compiled-modules.ts). Single-threaded (unshared memory).

import { kernelModuleBytes } from '../kernels/wasm/module.js';
import { int8ModuleBytes, relaxedDotProbeBytes } from '../kernels/wasm/int8-module.js';
import { fingerprint } from './compiled-modules.js';

export interface AotModule {
  /** File name beside worker.js (a CompiledWasm module). */
  name: string;
  bytes: Uint8Array;
  fingerprint: string;
}

export function aheadOfTimeModules(): AotModule[] {
  const memory = { shared: false, initialPages: 1 };
  const list: [string, Uint8Array][] = [
    ['ocellus-kernels.wasm', kernelModuleBytes(memory)],
    ['ocellus-int8.wasm', int8ModuleBytes(memory, false)],
    ['ocellus-int8-relaxed.wasm', int8ModuleBytes(memory, true)],
    ['ocellus-relaxed-probe.wasm', relaxedDotProbeBytes()],
  ];
  return list.map(([name, bytes]) => ({ name, bytes, fingerprint: fingerprint(bytes) }));
}
