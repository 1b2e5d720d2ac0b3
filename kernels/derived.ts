// What a kernel derives once from a constant input and keeps (packed weights, a tensor or any disposable): cached
// per source tensor and disposed with it. The runtime calls sweepDerived() after it disposes uploaded constants
// (plan eviction, session release), so a released session leaves nothing behind.

import * as tf from '@tensorflow/tfjs-core';

/** Something derived and kept: disposed when its source is. */
export interface Derived { dispose(): void }

const bySource = new Map<tf.Tensor, Map<string, Derived>>();

/** What `make` builds from `source` under `key`, built on first use and kept (a tensor: outside any tidy scope).
 *  The caller keeps one type per key. */
export function derivedOf<T extends Derived>(source: tf.Tensor, key: string, make: () => T): T {
  let forSource = bySource.get(source);
  const hit = forSource?.get(key);
  if (hit) return hit as T;
  const made = make();
  if (made instanceof tf.Tensor) tf.keep(made);
  if (!forSource) bySource.set(source, (forSource = new Map()));
  forSource.set(key, made);
  return made;
}

/** Disposes what was derived from tensors that are disposed now. */
export function sweepDerived(): void {
  for (const [source, derived] of bySource) {
    if (!source.isDisposed) continue;
    for (const t of derived.values()) t.dispose();
    bySource.delete(source);
  }
}

/** How many derived things are kept (tests). */
export function derivedCount(): number {
  let n = 0;
  for (const d of bySource.values()) n += d.size;
  return n;
}
