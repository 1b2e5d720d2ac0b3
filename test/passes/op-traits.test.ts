// Op traits (kernels/types.ts OpDef: elementwise, activation, gate) drive the passes, so these tests take their cases
// from the registry: a new op is covered the moment it is registered. (1) Every single-input ONNX op that, run on
// its own, behaves elementwise and layout-agnostically (each output element depends on the same input element only,
// and it commutes with a transpose) says so, and nothing else does. (2) cancel-transposes removes an inverse
// Transpose pair around every op marked unary. (3) Every ONNX op with an `activation` trait fuses into a conv and
// still computes what onnxruntime computes.

import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBackend } from '../../kernels/backend.js';
import { ALL_OPS, resolveOp } from '../../kernels/registry.js';
import type { OpDef } from '../../kernels/types.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import type { ConstTensor, Node } from '../../src/ir/graph.js';
import { cancelTransposes } from '../../src/passes/cancel-transposes.js';
import { fuseConvActivation } from '../../src/passes/fuse-conv-activation.js';
import { toNhwc } from '../../src/passes/to-nhwc.js';
import { opFacts } from '../../src/runtime/op-facts.js';
import { evaluateNode } from '../../src/runtime/plan.js';
import { applyPasses, checkAgainstOrt, opTypesOf, randomConst, randomTensor } from '../helpers/cnn-reference.js';

const OPSET = 18;
const onnxOps = ALL_OPS.filter(d => (d.domain ?? '') === '');
const latest = [...new Set(onnxOps.map(d => d.opType))].map(t => resolveOp('', t, OPSET)).filter((d): d is OpDef<any> => !!d);
const label = (d: OpDef<any>) => `${d.opType} (since ${d.since})`;

const node = (opType: string, inputs: string[]): Node => ({ name: 'n', opType, domain: '', inputs, outputs: ['y'], attrs: {} });

/** The op's output on one constant input, or undefined when it does not run that way (needs inputs or attributes). */
function evaluate(d: OpDef<any>, x: ConstTensor): ConstTensor | undefined {
  try {
    return evaluateNode(node(d.opType, ['x']), [x], new Map([['', OPSET]]))?.[0];
  } catch {
    return undefined;
  }
}

/** Ops that pass the elementwise probe on one input but are not layout-agnostic in general. */
const NOT_ELEMENTWISE: Record<string, string> = {
  Dropout: 'its optional second output (the mask) would keep the old layout',
  Split: 'one output is a copy, but more split along an axis',
};

const DIMS = [2, 3, 1, 4];
const PERM = [0, 2, 3, 1];

function transposeData(x: ConstTensor, perm: number[]): ConstTensor {
  const dims = perm.map(p => x.dims[p]!), data = new Float32Array(x.data.length);
  const stride = x.dims.map((_, i) => x.dims.slice(i + 1).reduce((a, b) => a * b, 1));
  const idx = new Array<number>(dims.length).fill(0);
  for (let o = 0; o < data.length; o++) {
    data[o] = Number(x.data[idx.reduce((s, v, k) => s + v * stride[perm[k]!]!, 0)]);
    for (let k = dims.length - 1; k >= 0 && ++idx[k]! === dims[k]; k--) idx[k] = 0;
  }
  return { dtype: x.dtype, dims, data };
}

const same = (a: ConstTensor, b: ConstTensor) =>
  a.dims.join() === b.dims.join() && Array.from(a.data, Number).every((v, i) => Object.is(v, Number(b.data[i])) || v === Number(b.data[i]));

/** True when op d, on a float input, maps each element on its own (changing one input element changes at most that
 *  output element) and commutes with a transpose. */
function behavesUnary(d: OpDef<any>): boolean | undefined {
  const x = randomConst(DIMS, 11, 0.1, 0.9);
  const y = evaluate(d, x);
  if (!y || y.dims.join() !== DIMS.join()) return y ? false : undefined;
  const k = 5, x2 = { ...x, data: Float32Array.from(x.data as Float32Array, (v, i) => (i === k ? v + 0.37 : v)) };
  const y2 = evaluate(d, x2)!;
  if (!Array.from(y.data, Number).every((v, i) => i === k || Object.is(v, Number(y2.data[i])))) return false;
  const yt = evaluate(d, transposeData(x, PERM));
  return !!yt && same(yt, transposeData(y, PERM));
}

describe('op traits (from the registry)', () => {
  beforeAll(async () => { await ensureBackend(); });

  it('every single-input op that behaves elementwise is marked unary, and every one marked unary that runs so behaves so', () => {
    const facts = opFacts(new Map([['', OPSET]]));
    const missing: string[] = [], wrong: string[] = [];
    let ran = 0;
    for (const d of latest) {
      const b = behavesUnary(d);
      if (b === undefined) continue;
      ran++;
      if (NOT_ELEMENTWISE[d.opType]) {
        expect(d.elementwise, label(d)).toBeUndefined();
        continue;
      }
      const marked = facts.elementwise(node(d.opType, ['x'])) !== undefined;   // variadic ones (Max, Sum…) are 'binary'
      if (b && !marked) missing.push(label(d));
      if (!b && marked) wrong.push(label(d));
    }
    expect(ran, 'ops that ran on one float input').toBeGreaterThan(25);
    expect(missing, 'behave elementwise but have no `elementwise` trait').toEqual([]);
    expect(wrong, 'marked elementwise but do not behave so').toEqual([]);
  });

  const unaryOps = onnxOps.filter(d => d.elementwise === 'unary');
  it(`cancel-transposes removes the inverse pair around each of the ${unaryOps.length} unary definitions`, () => {
    expect(unaryOps.map(d => d.opType)).toEqual(expect.arrayContaining(['Relu', 'Sigmoid', 'Clip', 'HardSwish', 'Cast', 'Erf']));
    for (const d of unaryOps) {
      const b = new GraphBuilder();
      const t = b.op('Transpose', [b.input('x', 'float32', [1, 3, 4, 5])], { perm: [0, 2, 3, 1] });
      b.output(b.op('Transpose', [b.op(d.opType, [t])], { perm: [0, 3, 1, 2] }));
      const { counts, model } = applyPasses(b.model(Math.max(d.since, 7)), [cancelTransposes]);
      expect(counts[0], label(d)).toBeGreaterThan(0);
      expect(opTypesOf(model.graph), label(d)).toEqual([d.opType]);
    }
  });

  const activations = onnxOps.filter(d => d.activation);
  for (const d of activations) {
    it(`${label(d)} fuses into a conv (its activation trait) and matches onnxruntime`, async () => {
      const opset = Math.max(d.since, 7);
      expect(resolveOp('', d.opType, opset), 'the model resolves to this definition').toBe(d);
      const b = new GraphBuilder();
      const x = b.input('x', 'float32', [1, 3, 8, 8]);
      const y = b.op('Conv', [x, b.init('w', randomConst([4, 3, 3, 3], 2)), b.init('b', randomConst([4], 3))], { pads: [1, 1, 1, 1] });
      b.output(b.op(d.opType, [y]));
      const model = b.model(opset);
      const { counts, model: after } = applyPasses(model, [toNhwc, cancelTransposes, fuseConvActivation]);
      expect(counts[2]).toBe(1);
      expect(opTypesOf(after.graph)).toEqual(['Transpose', 'local:NhwcConv', 'Transpose']);
      const want = opFacts(model.opsets).activation(model.graph.nodes[1]!, model.graph.initializers)!.kind;
      expect(after.graph.nodes[1]!.attrs['activation']?.value).toBe(want);
      const { optimized } = await checkAgainstOrt(model, { x: randomTensor([1, 3, 8, 8], 5, -6, 6) });
      expect(optimized.ops).toEqual(['Transpose', 'local:NhwcConv', 'Transpose']);
    });
  }

  it('the activation traits cover what conv models use', () => {
    expect(new Set(activations.map(d => d.opType))).toEqual(new Set(['Relu', 'Sigmoid', 'LeakyRelu', 'Elu', 'HardSigmoid', 'HardSwish', 'Clip']));
  });
});
