// Run by threads.test.ts in a fresh process (the backend is per process): starts the backend as ocellus does, runs
// a convolution, a depthwise convolution and a matrix product on seeded data, prints the backend facts and the
// outputs as JSON, and returns without calling process.exit (so a worker that keeps the process alive shows).

import * as tf from '@tensorflow/tfjs-core';
import { backendInfo, ensureBackend } from '../../kernels/backend.js';
import { randomData } from '../helpers/random.js';

const seeded = randomData;   // uniform in [-1, 1), as threads.test.ts recomputes it

await ensureBackend();
const x = tf.tensor4d(seeded(1 * 20 * 20 * 16, 1), [1, 20, 20, 16]);
const w = tf.tensor4d(seeded(3 * 3 * 16 * 24, 2), [3, 3, 16, 24]);
const dw = tf.tensor4d(seeded(3 * 3 * 16 * 1, 3), [3, 3, 16, 1]);
const a = tf.tensor2d(seeded(40 * 96, 4), [40, 96]);
const b = tf.tensor2d(seeded(96 * 72, 5), [96, 72]);
const out = {
  info: backendInfo(),
  conv: Array.from(tf.conv2d(x, w, 1, 'same').dataSync()),
  depthwise: Array.from(tf.depthwiseConv2d(x, dw, 2, 'valid').dataSync()),
  matmul: Array.from(tf.matMul(a, b).dataSync()),
};
process.stdout.write(JSON.stringify(out));
