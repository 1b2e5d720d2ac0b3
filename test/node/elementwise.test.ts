// Elementwise: the official node tests, then what they miss — integer wrapping and C division, the Cast matrix,
// Clip's attribute/input/integer forms, Pow's constant-exponent paths, broadcasting, PRelu slopes — each against
// onnxruntime-node; the integer wrapping and the opset < 7 broadcast form against plain-JS references; and the
// plan-time rejections.

import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor, type DType } from '../../src/index.js';
import { GraphBuilder, type AttrInput } from '../../src/ir/builder.js';
import type { ConstTensor, Model } from '../../src/ir/graph.js';
import { againstOrt, expectClose, randomTensor, runOcellus } from '../helpers/cnn-reference.js';
import { nodeSuite } from '../helpers/node-suite.js';
import { spec } from './specs/elementwise.js';

nodeSuite(spec);

/** A graph input (Tensor), an initializer (ConstTensor) or an omitted optional input (undefined). */
type In = [name: string, value: Tensor | ConstTensor | undefined];

function oneNode(opType: string, ins: In[], attrs: Record<string, AttrInput>, opset: number, outType: DType): { model: Model; feeds: Record<string, Tensor> } {
  const b = new GraphBuilder();
  const feeds: Record<string, Tensor> = {};
  const names = ins.map(([name, v]) => {
    if (!v) return '';
    if (v instanceof Tensor) { feeds[name] = v; return b.input(name, v.type, [...v.dims]); }
    return b.init(name, v);
  });
  b.node(opType, names, attrs, { outputs: ['y'] });
  b.output('y', outType);
  return { model: b.model(opset), feeds };
}

const T = (type: DType, values: number[], dims?: number[]) => new Tensor(type, values, dims);
const C = (t: Tensor): ConstTensor => ({ dtype: t.type, dims: [...t.dims], data: t.data });
const EXACT = { rtol: 0, atol: 0 };

describe('integer arithmetic wraps to the type width and divides toward zero (plain-JS C reference)', () => {
  const ARRAYS: Partial<Record<DType, { from(a: number[]): ArrayLike<number> }>> = {
    uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array, int16: Int16Array, int32: Int32Array,
  };
  // tfjs-wasm divides int32 through float32, so Div is exact while |a| < 2^24 (shape arithmetic stays far below).
  const CASES: [DType, number[], number[], string[]?][] = [
    ['uint8', [250, 3, 128, 0, 255, 7], [10, 5, 2, 1, 255, 3]],
    ['int8', [120, -120, 100, -128, 127, -7], [10, 10, 2, -1, 127, 2]],
    ['uint16', [65530, 3, 300, 0, 65535, 7], [10, 5, 300, 1, 65535, 3]],
    ['int16', [32760, -32760, 300, -32768, 200, -7], [10, 10, 300, -1, -200, 2]],
    ['int32', [7, -7, 7, -7, 0, 16000001], [2, 2, -2, -2, 3, 2]],
    ['int32', [2147483647, -2147483648, 65536, 46341], [1, 1, 65536, 46341], ['Add', 'Sub', 'Mul']],
  ];
  const REF: Record<string, (a: number, b: number) => number> = {
    Add: (a, b) => a + b, Sub: (a, b) => a - b, Mul: (a, b) => a * b, Div: (a, b) => Math.trunc(a / b),
  };
  for (const [dtype, a, b, ops = Object.keys(REF)] of CASES) {
    for (const opType of ops) {
      it(`${opType} ${dtype} [${a}] [${b}]`, async () => {
        const { model, feeds } = oneNode(opType, [['a', T(dtype, a)], ['b', T(dtype, b)]], {}, 14, dtype);
        const want = Array.from(ARRAYS[dtype]!.from(a.map((v, i) => REF[opType]!(v, b[i]!))));
        const { outputs } = await runOcellus(model, feeds, true);
        expect(outputs.y!.type).toBe(dtype);
        expect(Array.from(outputs.y!.data as ArrayLike<number>)).toEqual(want);
      });
    }
  }

  it('Div int64 and Mod agree with onnxruntime on mixed signs', async () => {
    const a = T('int64', [7, -7, 7, -7, 0, 9, -9]), b = T('int64', [2, 2, -2, -2, 3, -4, 4]);
    await againstOrt(oneNode('Div', [['a', a], ['b', b]], {}, 14, 'int64').model, { a, b }, EXACT);
    for (const fmod of [0, 1]) await againstOrt(oneNode('Mod', [['a', a], ['b', b]], { fmod }, 13, 'int64').model, { a, b }, EXACT);
  });
});

describe('Cast vs onnxruntime-node', () => {
  const signed = T('float32', [-3.7, -0.5, 0, 0.4, 2.9, 100.5, -100.2, 126.99]);
  const unsigned = T('float32', [0, 0.4, 2.9, 100.5, 254.99, 1.5, 65.2, 7]);
  const TO: [DType, Tensor][] = [
    ['int8', signed], ['int16', signed], ['int32', signed], ['int64', signed], ['uint8', unsigned], ['uint16', unsigned],
    ['uint32', unsigned], ['bool', T('float32', [-0.5, 0, 0.4, NaN, -0, 3, 1e-30, -2])], ['float64', signed], ['float32', signed],
  ];
  const CODE: Partial<Record<DType, number>> = { float32: 1, uint8: 2, int8: 3, uint16: 4, int16: 5, int32: 6, int64: 7, bool: 9, float64: 11, uint32: 12 };
  for (const [to, x] of TO) {
    it(`float32 → ${to} (truncates toward zero)`, async () => {
      await againstOrt(oneNode('Cast', [['x', x]], { to: CODE[to]! }, 13, to).model, { x }, to.startsWith('float') ? undefined : EXACT);
    });
  }
  const ints = T('int32', [300, -1, 65537, -129, 127, 0, -32769, 255]);
  for (const to of ['uint8', 'int8', 'uint16', 'int16', 'bool', 'float32'] as DType[]) {
    it(`int32 → ${to} (wraps)`, async () => {
      await againstOrt(oneNode('Cast', [['x', ints]], { to: CODE[to]! }, 13, to).model, { x: ints }, EXACT);
    });
  }
  it('bool → float32, int64 and uint8', async () => {
    const x = T('bool', [1, 0, 1, 1]);
    for (const to of ['float32', 'int64', 'uint8'] as DType[]) await againstOrt(oneNode('Cast', [['x', x]], { to: CODE[to]! }, 13, to).model, { x }, EXACT);
  });
  it('a folded Cast of an initializer wraps the same way', async () => {
    const { model } = oneNode('Cast', [['x', C(ints)]], { to: 2 }, 13, 'uint8');
    const { outputs, ops } = await runOcellus(model, {}, true);
    expect(ops).toEqual([]);
    expect(Array.from(outputs.y!.data as Uint8Array)).toEqual([44, 255, 1, 127, 127, 0, 255, 255]);
  });
  it('opset 1 names the target type as a string', async () => {
    const x = T('float32', [-2.5, 0, 3.9]);
    const { model, feeds } = oneNode('Cast', [['x', x]], { to: 'INT32' }, 1, 'int32');
    const { outputs } = await runOcellus(model, feeds, true);
    expect(Array.from(outputs.y!.data as Int32Array)).toEqual([-2, 0, 3]);
  });
});

describe('Clip forms vs onnxruntime-node', () => {
  const x = randomTensor([3, 4, 5], 7, -3, 3);
  const f = (v: number) => T('float32', [v], []);
  const CASES: [string, In[], number][] = [
    ['11: constant min and max', [['x', x], ['lo', C(f(-1))], ['hi', C(f(0.5))]], 11],
    ['13: constant min only', [['x', x], ['lo', C(f(-0.25))], ['hi', undefined]], 13],
    ['13: constant max only', [['x', x], ['lo', undefined], ['hi', C(f(1))]], 13],
    ['13: no bounds', [['x', x]], 13],
    ['13: min > max gives max', [['x', x], ['lo', C(f(1))], ['hi', C(f(-1))]], 13],
    ['13: runtime bounds', [['x', x], ['lo', f(-2)], ['hi', f(2)]], 13],
  ];
  for (const [what, ins, opset] of CASES) {
    it(what, async () => {
      const { model, feeds } = oneNode('Clip', ins, {}, opset, 'float32');
      await againstOrt(model, feeds);
    });
  }
  it('12: int32 with constant bounds, int8 with a runtime bound', async () => {
    const xi = T('int32', [-100, -5, 0, 5, 100, 7]);
    await againstOrt(oneNode('Clip', [['x', xi], ['lo', C(T('int32', [-6], []))], ['hi', C(T('int32', [6], []))]], {}, 12, 'int32').model, { x: xi }, EXACT);
    const x8 = T('int8', [-100, -5, 0, 5, 100, 7]), lo = T('int8', [-3], []);
    await againstOrt(oneNode('Clip', [['x', x8], ['lo', lo]], {}, 12, 'int8').model, { x: x8, lo }, EXACT);
  });
  it('6: bounds as attributes', async () => {
    const { model, feeds } = oneNode('Clip', [['x', x]], { min: -0.5, max: 1.25 }, 6, 'float32');
    await againstOrt(model, feeds);
  });
});

describe('arithmetic, broadcasting and activations vs onnxruntime-node', () => {
  const x = randomTensor([2, 3, 4], 1, 0.1, 3);
  for (const e of [2, 0.5, 1, 3, -1]) {
    it(`Pow with constant exponent ${e}`, async () => {
      const { model, feeds } = oneNode('Pow', [['x', x], ['e', C(T('float32', [e], []))]], {}, 15, 'float32');
      await againstOrt(model, feeds);
    });
  }
  it('Pow with a size-1 exponent that widens the rank', async () => {
    const s = T('float32', [1.5], []);
    await againstOrt(oneNode('Pow', [['s', s], ['e', C(T('float32', [2], [1]))]], {}, 15, 'float32').model, { s });
  });

  const BCAST: [string, number[], number[]][] = [
    ['Add', [2, 1, 4], [3, 1]], ['Mul', [1], [2, 3, 4]], ['Sub', [3, 1, 5], [1, 4, 1]], ['Div', [2, 3, 4], [4]],
    ['Greater', [2, 3, 1], [1, 5]], ['Equal', [4, 1], [4]],
  ];
  for (const [opType, sa, sb] of BCAST) {
    it(`${opType} [${sa}] with [${sb}]`, async () => {
      const a = randomTensor(sa, 2), b = randomTensor(sb, 3, 0.5, 1.5);
      if (opType === 'Equal') (b.data as Float32Array).set((a.data as Float32Array).subarray(0, 2));
      const out = ['Greater', 'Equal'].includes(opType) ? 'bool' : 'float32';
      await againstOrt(oneNode(opType, [['a', a], ['b', b]], {}, 14, out).model, { a, b });
    });
  }
  it('variadic Max, Min, Sum, Mean over three broadcasting inputs', async () => {
    const ins: In[] = [['a', randomTensor([2, 1, 3], 4)], ['b', randomTensor([4, 1], 5)], ['c', randomTensor([3], 6)]];
    for (const opType of ['Max', 'Min', 'Sum', 'Mean']) {
      const { model, feeds } = oneNode(opType, ins, {}, 13, 'float32');
      await againstOrt(model, feeds);
    }
  });
  it('Where broadcasting condition, x and y', async () => {
    const cond = T('bool', [1, 0, 0, 1, 1, 0], [2, 1, 3]), a = randomTensor([4, 1], 8), b = randomTensor([3], 9);
    await againstOrt(oneNode('Where', [['cond', cond], ['a', a], ['b', b]], {}, 16, 'float32').model, { cond, a, b });
  });
  for (const [what, slope] of [['per channel [4,1,1] (NCHW)', [4, 1, 1]], ['last dim [3]', [3]], ['scalar', [1]]] as [string, number[]][]) {
    it(`PRelu with slope ${what}`, async () => {
      const xs = randomTensor([2, 4, 3, 3], 10), s = C(randomTensor(slope, 11, 0.05, 0.5));
      await againstOrt(oneNode('PRelu', [['x', xs], ['s', s]], {}, 16, 'float32').model, { x: xs });
    });
  }
  const ACT: [string, Record<string, AttrInput>, number][] = [
    ['Elu', { alpha: 0.5 }, 6], ['Elu', {}, 6], ['Selu', { alpha: 1.5, gamma: { type: 'float', value: 2 } }, 6], ['Selu', {}, 6],
    ['HardSigmoid', { alpha: 0.3, beta: 0.4 }, 6], ['LeakyRelu', { alpha: 0.2 }, 16], ['HardSwish', {}, 14],
    ['Softsign', {}, 1], ['Softplus', {}, 1], ['Erf', {}, 13], ['Round', {}, 11], ['Sign', {}, 13],
  ];
  for (const [opType, attrs, opset] of ACT) {
    it(`${opType} ${JSON.stringify(attrs)}`, async () => {
      const xs = randomTensor([3, 7], 12, -5, 5);
      (xs.data as Float32Array).set([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0]);   // round-half-to-even and sign(0)
      await againstOrt(oneNode(opType, [['x', xs]], attrs, opset, 'float32').model, { x: xs });
    });
  }
  it('IsInf with each detect_* combination', async () => {
    const xs = T('float32', [-Infinity, Infinity, NaN, 0, -1, 3e38]);
    for (const [neg, pos] of [[1, 1], [1, 0], [0, 1], [0, 0]]) {
      await againstOrt(oneNode('IsInf', [['x', xs]], { detect_negative: neg!, detect_positive: pos! }, 10, 'bool').model, { x: xs }, EXACT);
    }
  });
  it('Abs and Neg on int8 wrap (-(-128) = -128)', async () => {
    const xs = T('int8', [-128, -5, 0, 127]);
    await againstOrt(oneNode('Abs', [['x', xs]], {}, 13, 'int8').model, { x: xs }, EXACT);
    await againstOrt(oneNode('Neg', [['x', xs]], {}, 13, 'int8').model, { x: xs }, EXACT);
  });
});

describe('opset < 7 broadcasting (plain-JS reference)', () => {
  const a = randomTensor([2, 3, 4], 13), av = a.data as Float32Array;
  const CASES: [string, number[], Record<string, AttrInput>, (i: number, j: number, k: number) => number][] = [
    ['broadcast=1 axis=1, B [3]', [3], { broadcast: 1, axis: 1 }, (_i, j) => j],
    ['broadcast=1 axis=0, B [2,3]', [2, 3], { broadcast: 1, axis: 0 }, (i, j) => i * 3 + j],
    ['broadcast=1 trailing, B [4]', [4], { broadcast: 1 }, (_i, _j, k) => k],
    ['broadcast=1, scalar B', [], { broadcast: 1 }, () => 0],
    ['broadcast=0, equal shapes', [2, 3, 4], {}, (i, j, k) => (i * 3 + j) * 4 + k],
  ];
  for (const [what, sb, attrs, bIndex] of CASES) {
    it(`Add-6 / Mul-6: ${what}`, async () => {
      const b = randomTensor(sb, 14), bv = b.data as Float32Array;
      for (const [opType, f] of [['Add', (p: number, q: number) => p + q], ['Mul', (p: number, q: number) => p * q]] as const) {
        const { model, feeds } = oneNode(opType, [['a', a], ['b', b]], attrs, 6, 'float32');
        const want = new Float32Array(24);
        for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) want[(i * 3 + j) * 4 + k] = f(av[(i * 3 + j) * 4 + k]!, bv[bIndex(i, j, k)]!);
        const { outputs } = await runOcellus(model, feeds, true);
        expectClose(outputs.y, new Tensor('float32', want, [2, 3, 4]), { rtol: 1e-6, atol: 0 }, opType);
      }
    });
  }
  it('rejects shapes that need broadcast=1', async () => {
    const { model } = oneNode('Add', [['a', a], ['b', randomTensor([4], 1)]], {}, 6, 'float32');
    await expect(InferenceSession.create(model)).rejects.toThrow(/shapes \[2,3,4\] and \[4\] differ and broadcast=0/);
  });
  it('rejects B that does not match A at axis', async () => {
    const { model } = oneNode('Add', [['a', a], ['b', randomTensor([4], 1)]], { broadcast: 1, axis: 1 }, 6, 'float32');
    await expect(InferenceSession.create(model)).rejects.toThrow(/B \[4\] does not match A \[2,3,4\] from axis 1/);
  });
});

describe('plan-time rejections name the node and the problem', () => {
  const x = T('float32', [1, 2, 3]);
  const CASES: [string, () => { model: Model }, RegExp][] = [
    ['Cast to STRING', () => oneNode('Cast', [['x', x]], { to: 8 }, 13, 'string'), /Cast 'Cast_0' \(opset 13\): casts to STRING are not supported/],
    ['Cast from STRING', () => oneNode('Cast', [['x', new Tensor('string', ['1'], [1])]], { to: 1 }, 13, 'float32'), /casts from STRING are not supported/],
    ['CastLike to STRING', () => oneNode('CastLike', [['x', x], ['like', new Tensor('string', ['a'], [1])]], {}, 15, 'string'), /casts to STRING are not supported/],
    ['Cast to an 8-bit float', () => oneNode('Cast', [['x', x]], { to: 17 }, 13, 'float32'), /to=17 \(FLOAT8E4M3FN\) is not a type ocellus can compute on/],
    ['uint64 input', () => oneNode('Max', [['a', T('uint64', [1])], ['b', T('uint64', [2])]], {}, 13, 'uint64'), /Max 'Max_0' \(opset 13\): input 0 is uint64/],
    ['non-broadcasting shapes', () => oneNode('Add', [['a', randomTensor([2, 3], 1)], ['b', randomTensor([4], 1)]], {}, 14, 'float32'), /input shapes \[2, 3\] and \[4\] do not broadcast/],
    ['mixed input types', () => oneNode('Add', [['a', x], ['b', T('int32', [1, 2, 3])]], {}, 14, 'float32'), /inputs must share one type, got float32 and int32/],
    ['Mod fmod=0 on floats', () => oneNode('Mod', [['a', x], ['b', x]], {}, 13, 'float32'), /fmod=0 on float32 inputs/],
    ['And on floats', () => oneNode('And', [['a', x], ['b', x]], {}, 7, 'bool'), /input 0 is float32 but And takes bool tensors/],
    ['Clip-11 on ints', () => oneNode('Clip', [['x', T('int32', [1])]], {}, 11, 'int32'), /input 0 is int32 but Clip takes float tensors/],
    ['Clip with a non-scalar bound', () => oneNode('Clip', [['x', x], ['lo', C(T('float32', [0, 1], [2]))]], {}, 13, 'float32'), /min must be a float32 scalar, got float32 \[2\]/],
    ['PRelu slope that does not broadcast to X', () => oneNode('PRelu', [['x', randomTensor([2, 3], 1)], ['s', C(randomTensor([2], 1))]], {}, 16, 'float32'), /slope \[2\] does not broadcast to X \[2,3\]/],
  ];
  for (const [what, make, message] of CASES) {
    it(what, async () => {
      await expect(InferenceSession.create(make().model)).rejects.toThrow(message);
    });
  }
});
