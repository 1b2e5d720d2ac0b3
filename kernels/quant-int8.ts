// The quantized operators' way onto ocellus's int8 kernels (kernels/wasm/int8.ts) on the WASM backend: weights packed
// once when planning (derived from the host constant, kept with the session), and the run-time glue from tensors to
// heap buffers — float activations quantized as DynamicQuantizeLinear, 8-bit activations (tfjs keeps them as int32)
// narrowed to bytes. Used by kernels/quant.ts; undefined everywhere means "not here: take the exact float-chunk path".

import * as tf from '@tensorflow/tfjs-core';
import type { Geometry } from './conv.js';
import type { Derived, Inputs, NodeView, PlanCtx } from './types.js';
import { tensorOf, wasmBackend } from './wasm/heap.js';
import {
  convWeightsPerGroup, dynamicQuantizeU8, heapOffset, int8KernelsOnBackend, MAX_K, narrowToU8, packDepthwiseInt8, packInt8,
  type Int8Kernels, type Int8Packed, type Int8Window,
} from './wasm/int8.js';

/** A fused step's weights packed for the int8 kernels (one block per conv group, or a depthwise filter). */
export class Int8Set implements Derived {
  constructor(readonly kernels: Int8Kernels, readonly parts: Int8Packed[]) {}
  dispose(): void { for (const p of this.parts) p.dispose(); }
}

/**
 * Packs a fused step's weights (input 1, zero points 2, scales 3, float bias 4) for the int8 kernels when they run on
 * this backend and all of those are constant; undefined otherwise (the step keeps the exact float-chunk path).
 * Conv weights [M, C/group, kh, kw] (group: conv's; depthwise with one filter per channel on the direct kernel);
 * product weights [K, N].
 */
export function planInt8(n: NodeView, x: Inputs, c: PlanCtx, group?: number, [iw, iwz, isc, ib]: readonly (number | undefined)[] = [1, 2, 3, 4]): Int8Set | undefined {
  const k = int8KernelsOnBackend(), w = c.consts[iw!], zp = c.consts[iwz!], sc = isc === undefined ? undefined : c.consts[isc];
  if (!k || !w || (c.inputs[iwz!] && !zp) || (isc !== undefined && !sc) || (ib !== undefined && c.inputs[ib] && !x[ib])) return undefined;
  if (w.dims.length !== (group === undefined ? 2 : 4) || (zp && ![1, w.dims[group === undefined ? 1 : 0]].includes(zp.data.length))) return undefined;
  if (!(w.data instanceof Int8Array || w.data instanceof Uint8Array)) return undefined;
  const data = w.data, zeroPoint = zp ? Array.from(zp.data as ArrayLike<number>) : [0];
  const scale = sc ? Array.from(sc.data as ArrayLike<number>) : [1];
  const bias = ib !== undefined && x[ib] ? Float32Array.from(x[ib].dataSync() as Float32Array) : undefined;
  const per = <T extends ArrayLike<number>>(v: T, g: number, size: number): number[] => (v.length === 1 ? [v[0]!] : Array.from(v).slice(g * size, (g + 1) * size));
  if (group === undefined) {
    const [K, N] = w.dims as [number, number];
    if (K > MAX_K) return undefined;
    return c.derive(w, `int8/${n.inputs.slice(2).join('/')}`, () => new Int8Set(k, [packInt8(k, { data, K, N, zeroPoint, scale, bias })]));
  }
  const [M, Cg, kh, kw] = w.dims as [number, number, number, number], Ng = M / group;
  if (kh * kw * Cg > MAX_K) return undefined;
  return c.derive(w, `int8/${group}/${n.inputs.slice(2).join('/')}`, () => {
    if (Cg === 1 && Ng === 1 && group > 1) return new Int8Set(k, [packDepthwiseInt8(k, { data, C: M, kh, kw, zeroPoint, scale, bias })]);
    return new Int8Set(k, convWeightsPerGroup(data, M, Cg, kh, kw, group).map((m, g) => packInt8(k, {
      data: m, K: kh * kw * Cg, N: Ng, zeroPoint: per(zeroPoint, g, Ng), scale: per(scale, g, Ng), bias: bias && bias.slice(g * Ng, (g + 1) * Ng),
    })));
  });
}

/** An integer op's A (an 8-bit tensor, kept as int32) narrowed to bytes in a heap buffer, then `product` writes the
 *  int32 output; undefined when the kernels cannot take it (see runInt8). */
export function runInt8Integer(set: Int8Set | undefined, a: tf.Tensor, signed: boolean, shape: number[], product: (k: Int8Kernels, q: number, out: number) => void): tf.Tensor | undefined {
  const k = int8KernelsOnBackend(), b = wasmBackend();
  if (!set || !b || k !== set.kernels || a.dtype !== 'int32') return undefined;
  const q = k.heap.malloc(a.size + 16);
  if (!q) throw new Error(`the heap has no room for ${a.size} bytes of 8-bit activations`);
  try {
    narrowToU8(k, heapOffset(a), a.size, q, signed);
    const out = (b.makeOutput as (shape: number[], dtype: 'float32' | 'int32') => tf.TensorInfo)(shape, 'int32');
    product(k, q, b.getMemoryOffset(out.dataId));
    return tensorOf(out);
  } finally {
    k.heap.free(q);
  }
}

/** Runs a fused step on the int8 kernels: x (float32, in the heap) quantized as DynamicQuantizeLinear into a heap
 *  buffer, then `product` writes the float32 output; undefined when the kernels are gone (the backend was replaced). */
export function runInt8(set: Int8Set | undefined, x: tf.Tensor, shape: number[], product: (k: Int8Kernels, q: number, za: number, sa: number, out: number) => void): tf.Tensor | undefined {
  const k = int8KernelsOnBackend(), b = wasmBackend();
  if (!set || !b || k !== set.kernels || x.dtype !== 'float32') return undefined;
  const q = k.heap.malloc(x.size + 16);
  if (!q) throw new Error(`the heap has no room for ${x.size} bytes of quantized activations`);
  try {
    const d = dynamicQuantizeU8(k, heapOffset(x), x.size, q);
    const out = b.makeOutput(shape, 'float32');
    product(k, q, d.zp, d.scale, b.getMemoryOffset(out.dataId));
    return tensorOf(out);
  } finally {
    k.heap.free(q);
  }
}

/** A 2-D window geometry as the int8 kernels take it. */
export function windowOf(g: Geometry): Int8Window {
  const two = (v: number[]) => [v[0]!, v[1]!] as [number, number];
  return { kernel: two(g.kernel), strides: two(g.strides), dilations: two(g.dilations), padBegin: two(g.begin), out: two(g.out) };
}
