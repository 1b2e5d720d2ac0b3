// fuse-conv-residual: a residual block's end (NhwcConv → Add of a same-shaped value → Relu) becomes one NhwcConv
// with the summand as input Z; a broadcasting addend, a conv output read twice and a conv with its own activation
// are left alone. Compared with onnxruntime with all passes on (the plan's op list shows the fusion happened).

import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import { fuseConvResidual } from '../../src/passes/fuse-conv-residual.js';
import { opFacts } from '../../src/runtime/op-facts.js';
import { checkAgainstOrt, randomConst, randomTensor } from '../helpers/cnn-reference.js';

const dims = [2, 4, 6, 6];
const feeds = { x: randomTensor(dims, 1, -2, 2) };

/**
 * x → Conv → Relu = h → Conv(3×3, pad 1) → Add(·, addend) [→ Relu]: the addend is the shortcut h (so the sum is
 * in NHWC, as in ResNet) unless given.
 */
function block(opts: { relu?: boolean; swap?: boolean; addend?: 'h' | 'per-channel'; alsoOutput?: boolean; convRelu?: boolean } = {}) {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', dims);
  const h = b.op('Relu', [b.op('Conv', [x, b.init('w0', randomConst([4, 4, 1, 1], 5)), b.init('b0', randomConst([4], 6))])]);
  let y = b.op('Conv', [h, b.init('w', randomConst([4, 4, 3, 3], 2)), b.init('b', randomConst([4], 3))], { pads: [1, 1, 1, 1] });
  if (opts.convRelu) y = b.op('Relu', [y]);
  const z = opts.addend === 'per-channel' ? b.init('c', randomConst([4, 1, 1], 4)) : h;
  const sum = b.op('Add', opts.swap ? [z, y] : [y, z]);
  b.output(opts.relu ? b.op('Relu', [sum]) : sum);
  if (opts.alsoOutput) b.output(y);
  return b.model(13);
}

const fused = (ops: string[]) => ops.filter(o => o === 'local:NhwcConv').length === 2 && !ops.includes('Add');

describe('fuse-conv-residual', () => {
  it('fuses conv + shortcut Add + Relu, either Add order, and without the Relu', async () => {
    for (const opts of [{ relu: true }, { relu: true, swap: true }, { relu: false }]) {
      const { optimized } = await checkAgainstOrt(block(opts), feeds);
      expect(fused(optimized.ops), optimized.ops.join(' ')).toBe(true);
      expect(optimized.ops.includes('Relu'), optimized.ops.join(' ')).toBe(false);
    }
  });

  it('leaves a broadcasting addend, a conv output read twice and a conv with its own activation alone', async () => {
    for (const opts of [{ addend: 'per-channel' as const, relu: true }, { alsoOutput: true, relu: true }, { convRelu: true }]) {
      const { optimized } = await checkAgainstOrt(block(opts), feeds);
      expect(optimized.ops, JSON.stringify(opts)).toContain('Add');
    }
  });

  it('is a no-op without shapes', () => {
    const g = block({ relu: true }).graph;
    expect(fuseConvResidual.run(g, { opsets: new Map([['', 13]]), facts: opFacts(new Map([['', 13]])) })).toBe(0);
  });
});
