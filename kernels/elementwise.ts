// Elementwise operators: unary maths and activations, numpy-broadcasting binary arithmetic and comparisons.
// Layout-agnostic: they work the same on NCHW and NHWC tensors.

import * as tf from '@tensorflow/tfjs-core';
import { op, type OpDef } from './types.js';
import { broadcastInfo, same } from './util.js';

const relu = op({
  opType: 'Relu', since: 6,
  parse: () => ({}),
  infer: (n, [x]) => [same(x, n)],
  run: ([x]) => [tf.relu(x!)],
});

const add = op({
  opType: 'Add', since: 7,
  parse: () => ({}),
  infer: (n, ins) => [broadcastInfo(n, ins)],
  run: ([a, b]) => [tf.add(a!, b!)],
});

export const ELEMENTWISE_OPS: OpDef<any>[] = [relu, add];
