// Normalisation: BatchNormalization (inference), LayerNormalization, InstanceNormalization. Channel axis 1 (NCHW).
// Also the fused transformer operators the passes write (src/passes/fuse-*.ts), in the 'local' domain: local:LayerNorm
// (over the trailing axes from `axis`, ·gamma +beta; on ocellus's WASM kernel where it can) and local:Gelu; GELU's
// tfjs form (gelu) is the one every fallback path uses (FusedMatMul, fused convs).
// BatchNorm folds its four parameter vectors into one scale and one shift ([C], cheap) and applies them with a
// multiply-add: tfjs-wasm's FusedBatchNorm only broadcasts along the last axis. Convs followed by a BatchNorm never
// get here: the fold-batchnorm pass merges them into the conv's weights at load.

import * as tf from '@tensorflow/tfjs-core';
import { op, type InferView, type NodeView, type OpDef, type ValueInfo } from './types.js';
import { floatInput } from './check.js';
import { dims, normAxis } from './util.js';
import { layerNormRows, ownGemm } from './wasm/gemm.js';

function expectShape(n: NodeView, v: ValueInfo | undefined, shape: readonly number[], what: string): void {
  const s = floatInput(n, v, what).shape;
  if (s.join() !== shape.join()) n.fail(`${what} has shape [${s.join(', ')}], expected [${shape.join(', ')}]`);
}

/** A [C] vector reshaped to broadcast over axis 1 of a rank-`rank` tensor: [C, 1, …, 1]. */
function perChannel(t: tf.Tensor, rank: number): tf.Tensor {
  return tf.reshape(t, [t.size, ...new Array<number>(Math.max(0, rank - 2)).fill(1)]);
}

/** Exact (erf) GELU, as nn.GELU() computes it: x·½·(1 + erf(x/√2)). */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
}

/** Axes from…rank−1 (the innermost: no transpose in wasm). */
const trailingAxes = (rank: number, from: number) => Array.from({ length: rank - from }, (_, i) => from + i);

/** x normalised over `axes` to mean 0 and variance 1 (the variance from the deviations), with the mean and 1/σ. */
function normalize(x: tf.Tensor, axes: number[], eps: number): { y: tf.Tensor; mean: tf.Tensor; invStd: tf.Tensor } {
  const mean = tf.mean(x, axes, true);
  const d = tf.sub(x, mean);
  const invStd = tf.rsqrt(tf.add(tf.mean(tf.square(d), axes, true), eps));
  return { y: tf.mul(d, invStd), mean, invStd };
}

// ---- BatchNormalization ----------------------------------------------------------------------------------------

interface BatchNormAttrs { eps: number; spatial: boolean }

/** Opsets 1–8: `spatial` (0 = parameters per activation [C, D1, …]); 9–13: always per channel; 14+: training_mode. */
function batchNorm(since: 1 | 9 | 14) {
  return op({
    opType: 'BatchNormalization', since, family: 'norm',
    parse: (n): BatchNormAttrs => {
      if (since === 14 && n.attrs.int('training_mode', 0) !== 0) n.fail('training_mode=1 is not supported (ocellus runs inference only)');
      if (n.outputs.slice(1).some(o => o)) n.fail(`outputs ${n.outputs.slice(1).filter(o => o).map(o => `'${o}'`).join(', ')} are training-mode statistics; only Y is supported`);
      return { eps: n.attrs.float('epsilon', 1e-5), spatial: since === 1 ? n.attrs.int('spatial', 1) !== 0 : true };
    },
    infer: (n, [x, ...params], a) => {
      const xi = floatInput(n, x, 'input X', { minRank: 2 });
      const shape = a.spatial ? [xi.shape[1]!] : xi.shape.slice(1);
      ['scale', 'B', 'input_mean', 'input_var'].forEach((what, i) => expectShape(n, params[i], shape, what));
      return [{ dtype: xi.dtype, shape: [...xi.shape] }];
    },
    run: ([x, scale, b, mean, variance], a, c) => {
      const k = tf.mul(scale!, tf.rsqrt(tf.add(variance!, a.eps)));   // y = x·k + (B − mean·k)
      const shift = tf.sub(b!, tf.mul(mean!, k));
      const rank = c.inputs[0]!.shape.length;
      const bc = (t: tf.Tensor) => (a.spatial ? perChannel(t, rank) : t);
      return [tf.add(tf.mul(x!, bc(k)), bc(shift))];
    },
  });
}

// ---- LayerNormalization ----------------------------------------------------------------------------------------

const layerNorm = op({
  opType: 'LayerNormalization', since: 17, family: 'norm',
  parse: n => {
    n.requireDefault('stash_type', 1);
    return { axis: n.attrs.int('axis', -1), eps: n.attrs.float('epsilon', 1e-5) };
  },
  infer: (n, [x, scale, b], a) => {
    const xi = floatInput(n, x, 'input X', { minRank: 1 });
    const axis = normAxis(n, a.axis, xi.shape.length);
    floatInput(n, scale, 'Scale');
    if (b) floatInput(n, b, 'B');
    const stat = { dtype: 'float32' as const, shape: xi.shape.map((d, i) => (i < axis ? d : 1)) };
    return [{ dtype: xi.dtype, shape: [...xi.shape] }, stat, stat];
  },
  run: ([x, scale, b], a, c) => {
    const rank = c.inputs[0]!.shape.length, from = a.axis < 0 ? a.axis + rank : a.axis;
    const { y, mean, invStd } = normalize(x!, trailingAxes(rank, from), a.eps);
    const scaled = tf.mul(y, scale!);
    return [b ? tf.add(scaled, b) : scaled, mean, invStd];
  },
});

// ---- local:LayerNorm(x, gamma?, beta?) ----------------------------------------------------------------------------

const localLayerNorm = op({
  opType: 'LayerNorm', domain: 'local', since: 1, family: 'norm',
  parse: n => ({ axis: n.attrs.int('axis', -1), epsilon: n.attrs.float('epsilon', 1e-5) }),
  infer: (n: InferView, [x, gamma, beta], a) => {
    const xi = floatInput(n, x, 'input x');
    const from = normAxis(n, a.axis, xi.shape.length);
    const normShape = xi.shape.slice(from);
    for (const [what, p] of [['gamma', gamma], ['beta', beta]] as const) {
      if (!p) continue;
      floatInput(n, p, what);
      const fits = p.shape.length <= normShape.length && p.shape.every((d, i) => d === 1 || d === normShape[normShape.length - p.shape.length + i]);
      n.check(fits, () => `${what} ${dims(p.shape)} does not broadcast over the normalised dims ${dims(normShape)} of x ${dims(xi.shape)}`);
    }
    return [{ dtype: xi.dtype, shape: [...xi.shape] }];
  },
  run: ([x, gamma, beta], a, c) => {
    const rank = c.inputs[0]!.shape.length, from = a.axis < 0 ? a.axis + rank : a.axis;
    const cols = c.inputs[0]!.shape.slice(from).reduce((p, d) => p * d, 1);
    const whole = (p: tf.Tensor | undefined) => !p || (p.size === cols && p.dtype === 'float32');
    if (x!.dtype === 'float32' && cols > 0 && whole(gamma) && whole(beta) && ownGemm()) return [layerNormRows(x!, cols, gamma, beta, a.epsilon)];
    const { y } = normalize(x!, trailingAxes(rank, from), a.epsilon);
    const scaled = gamma ? tf.mul(y, gamma) : y;
    return [beta ? tf.add(scaled, beta) : scaled];
  },
});

// ---- local:Gelu(x) = x·½·(1 + erf(x/√2)) --------------------------------------------------------------------------

const localGelu = op({
  opType: 'Gelu', domain: 'local', since: 1, elementwise: 'unary', family: 'act', activation: () => ({ kind: 'gelu' }),
  parse: n => {
    const approx = n.attrs.string('approximate', 'none');
    if (approx !== 'none') n.fail(`approximate='${approx}' is not supported (only the exact erf form, 'none')`);
    return {};
  },
  infer: (n, [x]) => {
    const xi = floatInput(n, x, 'input x');
    return [{ dtype: xi.dtype, shape: [...xi.shape] }];
  },
  run: ([x]) => [gelu(x!)],
});

// ---- InstanceNormalization -------------------------------------------------------------------------------------

const instanceNorm = op({
  opType: 'InstanceNormalization', since: 1, family: 'norm',   // opset 6 only dropped the legacy consumed_inputs attribute
  parse: n => ({ eps: n.attrs.float('epsilon', 1e-5) }),
  infer: (n, [x, scale, b]) => {
    const xi = floatInput(n, x, 'input X', { minRank: 3 });
    expectShape(n, scale, [xi.shape[1]!], 'scale');
    expectShape(n, b, [xi.shape[1]!], 'B');
    return [{ dtype: xi.dtype, shape: [...xi.shape] }];
  },
  run: ([x, scale, b], a, c) => {
    const rank = c.inputs[0]!.shape.length;
    const axes = Array.from({ length: rank - 2 }, (_, i) => i + 2);
    const { mean, variance } = tf.moments(x!, axes, true);
    const k = tf.mul(tf.rsqrt(tf.add(variance, a.eps)), perChannel(scale!, rank));
    return [tf.add(tf.mul(tf.sub(x!, mean), k), perChannel(b!, rank))];
  },
});

export const NORM_OPS: OpDef<any>[] = [batchNorm(1), batchNorm(9), batchNorm(14), layerNorm, instanceNorm, localLayerNorm, localGelu];
