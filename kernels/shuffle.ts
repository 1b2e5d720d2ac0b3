// Channel shuffle in NHWC (ShuffleNet's Reshape [N, g, C/g, H, W] → Transpose [0, 2, 1, 3, 4] → Reshape [N, C, H, W],
// which fuse-channel-shuffle turns into local:NhwcChannelShuffle): output channel j·g + i is input channel
// i·(C/g) + j. In NHWC that is one transpose of the innermost [g, C/g] block — a single copy, no layout change.

import * as tf from '@tensorflow/tfjs-core';
import { op, type OpDef } from './types.js';

const channelShuffle = op({
  opType: 'NhwcChannelShuffle', domain: 'local', since: 1,
  parse: n => {
    const groups = n.attrs.int('groups');
    if (!(groups >= 1)) n.fail(`groups must be ≥ 1, got ${groups}`);
    return { groups };
  },
  infer: (n, [x], { groups }) => {
    if (!x || x.shape.length !== 4) return n.fail(`input must be 4-D NHWC, got ${x ? `[${x.shape.join(', ')}]` : 'nothing'}`);
    const c = x.shape[3]!;
    if (c % groups !== 0) n.fail(`${c} channels do not split into ${groups} groups`);
    return [{ dtype: x.dtype, shape: [...x.shape] }];
  },
  run: ([x], { groups }, c) => {
    const [nb, h, w, ch] = c.inputs[0]!.shape as [number, number, number, number];
    // x: (N·H·W, groups, C/groups) → (N·H·W, C/groups, groups)
    const t = tf.transpose(tf.reshape(x!, [nb * h * w, groups, ch / groups]), [0, 2, 1]);
    return [tf.reshape(t, [nb, h, w, ch])];
  },
});

export const SHUFFLE_OPS: OpDef<any>[] = [channelShuffle];
