// All operator definitions, keyed by domain:opType, each key's definitions sorted by `since`.
// A node resolves to the definition with the highest `since` ≤ the model's opset for its domain.

import { ATTENTION_OPS } from './attention.js';
import { CONV_OPS } from './conv.js';
import { CONV_TRANSPOSE_OPS } from './conv-transpose.js';
import { EINSUM_OPS } from './einsum.js';
import { ELEMENTWISE_OPS } from './elementwise.js';
import { GEMM_OPS } from './gemm.js';
import { NORM_OPS } from './norm.js';
import { POOL_OPS } from './pool.js';
import { QUANT_OPS } from './quant.js';
import { REDUCE_OPS } from './reduce.js';
import { RESIZE_OPS } from './resize.js';
import { SCATTER_OPS } from './scatter.js';
import { SHAPE_OPS } from './shape.js';
import { SHUFFLE_OPS } from './shuffle.js';
import type { OpDef } from './types.js';

export const FAMILIES: Record<string, OpDef<any>[]> = {
  elementwise: ELEMENTWISE_OPS, conv: CONV_OPS, pool: POOL_OPS, norm: NORM_OPS, gemm: GEMM_OPS,
  shape: SHAPE_OPS, reduce: REDUCE_OPS, attention: ATTENTION_OPS, quant: QUANT_OPS,
  scatter: SCATTER_OPS, einsum: EINSUM_OPS, resize: RESIZE_OPS, 'conv-transpose': CONV_TRANSPOSE_OPS,
  shuffle: SHUFFLE_OPS,
};

export const ALL_OPS: OpDef<any>[] = Object.values(FAMILIES).flat();

const REGISTRY = new Map<string, OpDef<any>[]>();
for (const def of ALL_OPS) {
  const key = `${def.domain ?? ''}:${def.opType}`;
  const list = REGISTRY.get(key) ?? [];
  list.push(def);
  list.sort((a, b) => a.since - b.since);
  REGISTRY.set(key, list);
}

/** The definition for a node of (domain, opType) in a model importing `opset` for that domain, if any. */
export function resolveOp(domain: string, opType: string, opset: number): OpDef<any> | undefined {
  return REGISTRY.get(`${domain}:${opType}`)?.filter(d => d.since <= opset).at(-1);
}

/** The `since` versions ocellus has for an op (for error messages). */
export function versionsOf(domain: string, opType: string): number[] {
  return (REGISTRY.get(`${domain}:${opType}`) ?? []).map(d => d.since);
}

/** Every registered (domain, opType) with its versions. */
export function registeredOps(): { domain: string; opType: string; versions: number[] }[] {
  return [...REGISTRY].map(([key, defs]) => {
    const [domain, opType] = key.split(':') as [string, string];
    return { domain, opType, versions: defs.map(d => d.since) };
  });
}

/** The opset a domain gets when the model does not import it ('local' is ocellus's own, always version 1). */
export function opsetFor(opsets: ReadonlyMap<string, number>, domain: string): number | undefined {
  return domain === 'local' ? 1 : opsets.get(domain);
}
