// What kernels derive from constant inputs and keep (packed weights, a filter tensor): a DerivedStore per session,
// filled by OpDef.plan through PlanCtx.derive, keyed per source tensor. The session sweeps it after it frees
// uploaded constants (plan eviction) and clears it on release, so a released session leaves nothing behind.

import * as tf from '@tensorflow/tfjs-core';
import type { ConstTensor } from '../src/ir/graph.js';
import type { Derived } from './types.js';

export class DerivedStore {
  private readonly bySource = new Map<tf.Tensor | ConstTensor, Map<string, Derived>>();

  /** What `make` builds from `source` under `key`, built on first use and kept (a tensor: outside any tidy scope). */
  get<T extends Derived>(source: tf.Tensor | ConstTensor, key: string, make: () => T): T {
    let forSource = this.bySource.get(source);
    const hit = forSource?.get(key);
    if (hit) return hit as T;
    const made = make();
    if (made instanceof tf.Tensor) tf.keep(made);
    if (!forSource) this.bySource.set(source, (forSource = new Map()));
    forSource.set(key, made);
    return made;
  }

  /** Disposes what was derived from tensors that are disposed now (host constants' derivations stay to clear()). */
  sweep(): void {
    for (const [source, derived] of this.bySource) {
      if (!(source instanceof tf.Tensor) || !source.isDisposed) continue;
      for (const d of derived.values()) d.dispose();
      this.bySource.delete(source);
    }
  }

  /** Disposes everything. */
  clear(): void {
    for (const derived of this.bySource.values()) for (const d of derived.values()) d.dispose();
    this.bySource.clear();
  }

  /** How many derived things are kept. */
  get size(): number {
    let n = 0;
    for (const d of this.bySource.values()) n += d.size;
    return n;
  }
}
