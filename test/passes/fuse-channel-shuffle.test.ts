// fuse-channel-shuffle: ShuffleNetV2 block tails (Concat over channels → Reshape/Transpose/Reshape shuffle →
// channel Slices) run in NHWC — Concat on axis 3, local:NhwcChannelShuffle, Slice on axis 3 — so two blocks between
// convs keep one Transpose at each end. Outputs are checked against onnxruntime-node; shuffles that are not a
// channel shuffle (another perm, a value read elsewhere) are left as they are.

import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { againstOrt, randomConst, randomTensor, runOcellus } from '../helpers/cnn-reference.js';
import { ints } from './helpers.js';

interface Variant { perm?: number[]; leak?: boolean; groups?: number }

/** x [N, 8, 6, 6] → a 1×1 conv → two ShuffleNetV2-style blocks (the second splits its input with Slices) → 1×1 conv → y. */
function twoBlocks(batch: number, v: Variant = {}) {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [batch, 8, 6, 6]);
  const g = v.groups ?? 2;
  let seed = 1;
  const conv = (t: string, cin: number, cout: number, k: number, relu: boolean) => {
    const y = b.op('Conv', [t, b.init(`w${seed}`, randomConst([cout, cin, k, k], seed++)), b.init(`b${seed}`, randomConst([cout], seed++))],
      { pads: k === 3 ? [1, 1, 1, 1] : [0, 0, 0, 0] });
    return relu ? b.op('Relu', [y]) : y;
  };
  const shuffle = (t: string, c: number, tag: string) => {
    const r = b.op('Reshape', [t, b.init(`s5_${tag}`, ints([batch, g, c / g, 6, 6]))]);
    const p = b.op('Transpose', [r], { perm: v.perm ?? [0, 2, 1, 3, 4] });
    if (v.leak && tag === 'a') b.output(p);
    return b.op('Reshape', [p, b.init(`s4_${tag}`, ints([batch, c, 6, 6]))]);
  };
  // a stem conv, then block 1: both halves from the stem
  const s = conv(x, 8, 8, 1, true);
  const y1 = shuffle(b.op('Concat', [conv(s, 8, 8, 1, true), conv(conv(s, 8, 8, 3, false), 8, 8, 1, true)], { axis: 1 }), 16, 'a');
  // block 2: split, the second half through convs
  const lo = b.op('Slice', [y1, b.init('st0', ints([0])), b.init('en0', ints([8])), b.init('ax0', ints([1]))]);
  const hi = b.op('Slice', [y1, b.init('st1', ints([8])), b.init('en1', ints([16])), b.init('ax1', ints([-3]))]);
  const y2 = shuffle(b.op('Concat', [lo, conv(hi, 8, 8, 1, true)], { axis: 1 }), 16, 'b');
  b.node('Conv', [y2, b.init('w_out', randomConst([4, 16, 1, 1], 90))], {}, { outputs: ['y'] });
  b.graph.outputs.unshift({ name: 'y', dtype: 'float32' });
  return b.model(13);
}

/** Pass report of a session on `model` for `feeds`' shapes: the shaped plan's op types and this pass's count. */
async function planOf(model: ReturnType<typeof twoBlocks>, feeds: Parameters<typeof runOcellus>[1]) {
  const s = await InferenceSession.create(model, { checkShapes: true });
  try {
    const plan = s.plan(feeds);
    const ops = plan.steps.map(st => (st.node.domain ? `${st.node.domain}:` : '') + st.node.opType);
    return { ops, count: plan.passReport.find(r => r.pass === 'fuse-channel-shuffle')?.changes ?? 0 };
  } finally {
    await s.release();
  }
}

const TOL = { rtol: 1e-4, atol: 1e-5 };
const count = (ops: string[], op: string) => ops.filter(o => o === op).length;

describe('fuse-channel-shuffle', () => {
  for (const batch of [1, 2]) {
    it(`two blocks run in NHWC with one Transpose at each end, same results as ORT (batch ${batch})`, async () => {
      const model = twoBlocks(batch);
      const feeds = { x: randomTensor([batch, 8, 6, 6], 7 + batch) };
      await againstOrt(model, feeds, TOL);
      const { ops, count: n } = await planOf(model, feeds);
      expect(count(ops, 'Transpose'), ops.join()).toBe(2);
      expect(count(ops, 'local:NhwcChannelShuffle')).toBe(2);
      expect(count(ops, 'Reshape')).toBe(0);
      expect(count(ops, 'Concat')).toBe(2);
      expect(count(ops, 'Slice')).toBe(2);
      // 2 Concats + 2 shuffles + 2 Slices + the Transposes into the 2 convs that read block outputs (the Slice
      // into the conv on `hi`, the shuffle into the last conv)
      expect(n).toBe(8);
    });
  }

  it('shuffles in 4 groups too', async () => {
    const model = twoBlocks(1, { groups: 4 });
    const feeds = { x: randomTensor([1, 8, 6, 6], 3) };
    await againstOrt(model, feeds, TOL);
    expect(count((await planOf(model, feeds)).ops, 'local:NhwcChannelShuffle')).toBe(2);
  });

  it('leaves a Reshape/Transpose/Reshape alone when it is not a channel shuffle (both blocks) or its middle is read elsewhere (block 1, and so block 2, whose input then stays NCHW)', async () => {
    for (const [v, fused] of [[{ perm: [0, 1, 2, 4, 3] }, 0], [{ leak: true }, 0]] as [Variant, number][]) {
      const model = twoBlocks(1, v);
      const feeds = { x: randomTensor([1, 8, 6, 6], 5) };
      const want = await againstOrt(model, feeds, TOL);
      expect(want.dims).toEqual([1, 4, 6, 6]);
      const { ops } = await planOf(model, feeds);
      expect(count(ops, 'local:NhwcChannelShuffle'), JSON.stringify(v)).toBe(fused);
    }
  });
});
