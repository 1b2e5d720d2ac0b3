// Tensors a kernel derives once from a constant input and keeps (packed weights): cached per source tensor and
// disposed with it. The runtime calls sweepDerived() after it disposes uploaded constants (plan eviction, session
// release), so a released session leaves no tensors behind.

import * as tf from '@tensorflow/tfjs-core';

const bySource = new Map<tf.Tensor, Map<string, tf.Tensor>>();

/** The tensor `make` builds from `source` under `key`, built on first use and kept (outside any tidy scope). */
export function derivedOf(source: tf.Tensor, key: string, make: () => tf.Tensor): tf.Tensor {
  let forSource = bySource.get(source);
  const hit = forSource?.get(key);
  if (hit) return hit;
  const made = tf.keep(make());
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

/** How many derived tensors are kept (tests). */
export function derivedCount(): number {
  let n = 0;
  for (const d of bySource.values()) n += d.size;
  return n;
}
