// Large float constants live on the device once uploaded: the session drops their host arrays and, should
// planning ever read a value again (folding, a pass, a kernel's `consts`), reads it back from the uploaded
// tensor once. Float32 round-trips exactly (float16/bfloat16 were widened to float32 at load); other types stay.

import type * as tf from '@tensorflow/tfjs-core';
import type { ConstTensor } from '../ir/graph.js';

/** Smallest host array the session gives up after upload (biases and shape vectors stay on the host). */
export const RELEASE_MIN_BYTES = 64 * 1024;

const released = new WeakSet<ConstTensor>();
let readBacks = 0;

/** How many released constants have been read back from the device in this process (planning should need none). */
export function readBackCount(): number {
  return readBacks;
}

/** True when `c`'s host data may be replaced by its uploaded copy: a large float32 array, not yet released. */
export function canRelease(c: ConstTensor): boolean {
  return (c.dtype === 'float32' || c.dtype === 'float16' || c.dtype === 'bfloat16')
    && !released.has(c) && c.data instanceof Float32Array && c.data.byteLength >= RELEASE_MIN_BYTES;
}

/** True while `c.data` is not on the host (reading it would read the device copy back). */
export function isReleased(c: ConstTensor): boolean {
  return released.has(c);
}

/**
 * Drops `c`'s host array: `c.data` becomes a getter that reads `uploaded` back, stores the result as plain data
 * again and returns it. `what` names the constant in the error raised once `uploaded` has been disposed.
 */
export function releaseHostData(c: ConstTensor, uploaded: tf.Tensor, what: string): void {
  released.add(c);
  Object.defineProperty(c, 'data', {
    configurable: true,
    enumerable: true,
    get(): Float32Array {
      if (uploaded.isDisposed) throw new Error(`${what}: its values were on the device only and were freed with the session (released)`);
      const data = new Float32Array(uploaded.dataSync() as Float32Array);
      readBacks++;
      restore(c, data);
      return data;
    },
    set(data: ConstTensor['data']) {
      restore(c, data);
    },
  });
}

function restore(c: ConstTensor, data: ConstTensor['data']): void {
  Object.defineProperty(c, 'data', { value: data, writable: true, configurable: true, enumerable: true });
  released.delete(c);
}

/**
 * One full garbage collection, in Node only (through the inspector protocol, which collects as for low memory
 * and needs no --expose-gc). Loading a model drops hundreds of MB of host arrays at once: the file's bytes, the
 * copies the passes replaced, the host copies of the uploaded weights. V8 frees array buffers when its heuristics
 * see memory pressure, and a threaded WASM heap (a SharedArrayBuffer that grows in place) creates none, so without
 * this they would stay in the process's memory through the first runs, on top of the activations.
 * Resolves false when not possible (browsers, Workers).
 */
export async function collectGarbage(): Promise<boolean> {
  await Promise.resolve();   // lets the caller's frame suspend first: a running frame keeps its dead locals reachable
  if (typeof process === 'undefined' || !process.versions?.node) return false;
  try {
    const { Session } = await import('node:inspector');
    const session = new Session();
    session.connect();
    try {
      await new Promise<void>((resolve, reject) => session.post('HeapProfiler.collectGarbage', e => (e ? reject(e) : resolve())));
    } finally {
      session.disconnect();
    }
    return true;
  } catch {
    const exposed = (globalThis as { gc?: () => void }).gc;
    exposed?.();
    return !!exposed;
  }
}
