// fuse-gelu: erf-GELU in the forms torch exports (x/√2 or x·(1/√2); ·x then ·0.5, or (x·0.5)·(1+erf)) becomes
// local:Gelu with the same outputs; a tanh-free near-miss (wrong constant) is left alone.

import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import { fuseGelu } from '../../src/passes/fuse-gelu.js';
import { applyShaped, checkPass, opTypes, randomTensor, scalar } from './helpers.js';

interface Variant { scaleByMul?: boolean; halfFirst?: boolean; swapped?: boolean; sqrt2?: number; one?: number; leakErf?: boolean }

function gelu(v: Variant = {}) {
  const b = new GraphBuilder();
  const x = b.op('Identity', [b.input('x', 'float32', [3, 7, 16])]);   // x comes from a node, as in a real graph
  const k = (name: string, value: number) => b.init(name, scalar(value));
  const t = v.scaleByMul ? b.op('Mul', [k('inv_sqrt2', Math.SQRT1_2), x]) : b.op('Div', [x, k('sqrt2', v.sqrt2 ?? Math.SQRT2)]);
  const e = b.op('Erf', [t]);
  const plus = b.op('Add', v.swapped ? [k('one', v.one ?? 1), e] : [e, k('one', v.one ?? 1)]);
  let y: string;
  if (v.halfFirst) {
    const h = b.op('Mul', [x, k('half', 0.5)]);
    y = b.op('Mul', v.swapped ? [plus, h] : [h, plus]);
  } else {
    const xm = b.op('Mul', v.swapped ? [plus, x] : [x, plus]);
    y = b.op('Mul', v.swapped ? [k('half', 0.5), xm] : [xm, k('half', 0.5)]);
  }
  b.graph.outputs.push({ name: y, dtype: 'float32' });
  if (v.leakErf) b.graph.outputs.push({ name: e, dtype: 'float32' });
  return b.model(14);
}

const feeds = { x: randomTensor([3, 7, 16], 2) };

describe('fuse-gelu', () => {
  it('fuses x·(1 + erf(x/√2))·0.5', async () => {
    const m = await checkPass(gelu(), fuseGelu, feeds, { count: 1, ops: ['Identity', 'local:Gelu'] });
    expect(m.graph.nodes[1]!.inputs).toEqual([m.graph.nodes[0]!.outputs[0]]);
    expect(m.graph.nodes[1]!.outputs).toEqual(gelu().graph.outputs.map(o => o.name));
  });

  it('fuses the other operand orders, x·(1/√2), and (x·0.5)·(1 + erf)', async () => {
    for (const v of [{ swapped: true }, { scaleByMul: true }, { halfFirst: true }, { halfFirst: true, swapped: true, scaleByMul: true }]) {
      await checkPass(gelu(v), fuseGelu, feeds, { count: 1, ops: ['Identity', 'local:Gelu'] });
    }
  });

  it('leaves near-misses alone: wrong divisor, wrong offset, erf read elsewhere', () => {
    for (const v of [{ sqrt2: 1.5 }, { one: 2 }, { leakErf: true }] as Variant[]) {
      const r = applyShaped(gelu(v), fuseGelu, feeds);
      expect(r.count, JSON.stringify(v)).toBe(0);
      expect(opTypes(r.model.graph)).toContain('Erf');
    }
  });
});
