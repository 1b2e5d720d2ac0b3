// Starts tfjs-core on the WASM backend once per process. In Node the threaded build cannot start its workers
// (it spawns them from blob: URLs), so it runs the single-threaded SIMD build there.

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';

let ready: Promise<void> | undefined;

export function isNode(): boolean {
  return typeof process !== 'undefined' && !!process.versions?.node;
}

/** Resolves when the WASM backend is active. `OCELLUS_BACKEND=cpu` selects tfjs's plain JS backend (debugging). */
export function ensureBackend(): Promise<void> {
  ready ??= (async () => {
    const wanted = (isNode() && process.env.OCELLUS_BACKEND) || 'wasm';
    if (isNode()) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    if (wanted === 'cpu') await import('@tensorflow/tfjs-core/dist/backends/cpu/index.js' as string).catch(() => undefined);
    const ok = await tf.setBackend(wanted);
    if (!ok) throw new Error(`ocellus: could not start the tfjs '${wanted}' backend`);
    await tf.ready();
  })();
  return ready;
}

export function backendInfo(): { backend: string; simd: boolean; threads: boolean } {
  return {
    backend: tf.getBackend(),
    simd: !!tf.env().getBool('WASM_HAS_SIMD_SUPPORT'),
    threads: !!tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT'),
  };
}
