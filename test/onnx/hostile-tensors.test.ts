// Hostile tensor sizes (issue #18, item 2): dims far past the data present must be refused by name before anything
// of their size is allocated — for every data type and storage form, initializers and tensor attributes alike. The
// heap-abort case runs in a child with a small heap, so a regression shows as a crash of that child, not of vitest.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DTYPE_BY_CODE } from '../../src/ir/dtype.js';
import { decodeModel } from '../../src/onnx/decode.js';
import { ModelLoadError } from '../../src/onnx/errors.js';
import { onnx } from '../../src/onnx/proto.js';
import { MAX_TENSOR_ELEMENTS } from '../../src/onnx/tensor-proto.js';
import { loadInChild } from './child-load.js';

const T = onnx.TensorProto.DataType;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-hostile-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** `Y = Identity(W)` with W given as a TensorProto. */
function modelWith(w: onnx.ITensorProto): Uint8Array {
  return onnx.ModelProto.encode({
    irVersion: 8, opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'g', node: [{ opType: 'Identity', input: ['W'], output: ['Y'], name: 'id' }],
      initializer: [{ name: 'W', ...w }],
      output: [{ name: 'Y', type: { tensorType: { elemType: w.dataType } } }],
    },
  }).finish();
}

/** The error decodeModel throws (failing the test if it returns). */
function refusal(bytes: Uint8Array, name = 'h.onnx'): Error {
  try {
    decodeModel(bytes, { name });
  } catch (e) {
    return e as Error;
  }
  return expect.fail('the model was accepted');
}

describe('tensor sizes are checked against the data present before allocating', () => {
  it('a 59-byte STRING initializer of 2^28 elements without data is refused by name in a 64 MiB heap (it aborted the process)', () => {
    const files = [28, 26].map(k => {
      const f = path.join(tmp, `strings-2^${k}.onnx`);
      fs.writeFileSync(f, modelWith({ dims: [2 ** k], dataType: T.STRING }));
      return f;
    });
    expect(fs.statSync(files[0]!).size).toBeLessThan(70);
    const r = loadInChild(files);
    expect(r.signal, r.stderr.slice(-2000)).toBeNull();
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    expect(r.lines).toEqual([
      `${files[0]}\tModelLoadError\t${files[0]}: initializer 'W': has no data (neither raw_data nor string_data), but dims [268435456] need 268435456`,
      `${files[1]}\tModelLoadError\t${files[1]}: initializer 'W': has no data (neither raw_data nor string_data), but dims [67108864] need 67108864`,
    ]);
  });

  it('every data type, in every storage form, with dims past the cap is a ModelLoadError naming the tensor (was a raw RangeError)', () => {
    const forms: Record<string, onnx.ITensorProto> = {
      'no data': {}, raw_data: { rawData: new Uint8Array(8) }, float_data: { floatData: [1] }, int32_data: { int32Data: [1] },
      int64_data: { int64Data: [1] }, double_data: { doubleData: [1] }, uint64_data: { uint64Data: [1] }, string_data: { stringData: [new Uint8Array(1)] },
    };
    let checked = 0;
    for (const code of Object.keys(DTYPE_BY_CODE).map(Number)) {
      for (const [form, data] of Object.entries(forms)) {
        for (const dims of [[2 ** 40], [2 ** 20, 2 ** 20], [MAX_TENSOR_ELEMENTS + 1]]) {
          const err = refusal(modelWith({ dims, dataType: code, ...data }));
          expect(err, `${DTYPE_BY_CODE[code]} ${form} [${dims}]: ${err.message}`).toBeInstanceOf(ModelLoadError);
          expect(err.message).toBe(`h.onnx: initializer 'W': dims [${dims.join(', ')}] make more than ${MAX_TENSOR_ELEMENTS} elements, the most one tensor may have`);
          checked++;
        }
      }
    }
    expect(checked).toBe(14 * 8 * 3);
  });

  it('under the cap, each data type without enough data is refused with expected vs actual counts', () => {
    const n = 2 ** 24;
    const field: Record<string, string> = {
      float32: 'float_data', float64: 'double_data', int64: 'int64_data', uint32: 'uint64_data', uint64: 'uint64_data', string: 'string_data',
    };
    for (const [code, dtype] of Object.entries(DTYPE_BY_CODE)) {
      const f = field[dtype] ?? 'int32_data';
      expect(refusal(modelWith({ dims: [n], dataType: Number(code) })).message, dtype)
        .toBe(`h.onnx: initializer 'W': has no data (neither raw_data nor ${f}), but dims [${n}] need ${n}`);
    }
    expect(refusal(modelWith({ dims: [4, n], dataType: T.INT64, int64Data: [1, 2, 3] })).message)
      .toBe(`h.onnx: initializer 'W': int64_data has 3 values, but dims [4, ${n}] need ${4 * n}`);
  });

  it('negative dims, dims past 2^53 and zero-sized tensors', () => {
    expect(refusal(modelWith({ dims: [2, -3], dataType: T.FLOAT })).message)
      .toBe("h.onnx: initializer 'W': invalid dims [2, -3] (each must be a whole number ≥ 0)");
    expect(refusal(modelWith({ dims: [2 ** 60], dataType: T.FLOAT })).message).toMatch(/^h\.onnx: initializer 'W': invalid dims \[1152921504606847000\]/);
    // Products past 2^53 cannot wrap into a small count (int64 dims of 2^16 each: 2^64 in all).
    expect(refusal(modelWith({ dims: [65536, 65536, 65536, 65536], dataType: T.UINT8, rawData: new Uint8Array(1) })).message)
      .toBe(`h.onnx: initializer 'W': dims [65536, 65536, 65536, 65536] make more than ${MAX_TENSOR_ELEMENTS} elements, the most one tensor may have`);
    // A zero dim makes an empty tensor whatever the others say, as in ONNX.
    const empty = decodeModel(modelWith({ dims: [2 ** 40, 0], dataType: T.FLOAT })).graph.initializers.get('W')!;
    expect(empty.dims).toEqual([2 ** 40, 0]);
    expect(empty.data.length).toBe(0);
  });

  it('Constant node values and tensor(s) attributes get the same checks, naming node and attribute', () => {
    const withAttr = (attribute: onnx.IAttributeProto) => onnx.ModelProto.encode({
      irVersion: 8, opsetImport: [{ domain: '', version: 13 }],
      graph: {
        name: 'g', node: [{ opType: 'Constant', output: ['Y'], name: 'c', attribute: [attribute] }],
        output: [{ name: 'Y', type: { tensorType: { elemType: T.FLOAT } } }],
      },
    }).finish();
    const A = onnx.AttributeProto.AttributeType;
    expect(refusal(withAttr({ name: 'value', type: A.TENSOR, t: { dims: [2 ** 40], dataType: T.FLOAT } })).message)
      .toBe(`h.onnx: node Constant 'c' attribute 'value': dims [1099511627776] make more than ${MAX_TENSOR_ELEMENTS} elements, the most one tensor may have`);
    expect(refusal(withAttr({ name: 'value', type: A.TENSOR, t: { dims: [2 ** 28], dataType: T.STRING } })).message)
      .toBe("h.onnx: node Constant 'c' attribute 'value': has no data (neither raw_data nor string_data), but dims [268435456] need 268435456");
    expect(refusal(withAttr({ name: 'x', type: A.TENSORS, tensors: [{ dims: [1], dataType: T.FLOAT, floatData: [1] }, { dims: [3], dataType: T.INT8 }] })).message)
      .toBe("h.onnx: node Constant 'c' attribute 'x'[1]: has no data (neither raw_data nor int32_data), but dims [3] need 3");
  });

  it('sparse initializers and sparse attributes are refused by name before their values are looked at', () => {
    const sparse = { values: { name: 'S', dims: [2 ** 40], dataType: T.FLOAT }, indices: { dims: [2 ** 40], dataType: T.INT64 }, dims: [2 ** 40] };
    const init = onnx.ModelProto.encode({
      irVersion: 8, opsetImport: [{ domain: '', version: 13 }],
      graph: { name: 'g', node: [{ opType: 'Identity', input: ['S'], output: ['Y'], name: 'id' }], sparseInitializer: [sparse], output: [{ name: 'Y' }] },
    }).finish();
    expect(refusal(init).message).toBe("h.onnx: sparse initializers are not supported ('S')");
    const attr = onnx.ModelProto.encode({
      irVersion: 8, opsetImport: [{ domain: '', version: 13 }],
      graph: {
        name: 'g', node: [{ opType: 'Constant', output: ['Y'], name: 'c', attribute: [{ name: 'sparse_value', type: onnx.AttributeProto.AttributeType.SPARSE_TENSOR, sparseTensor: sparse }] }],
        output: [{ name: 'Y' }],
      },
    }).finish();
    expect(refusal(attr).message).toBe("h.onnx: node Constant 'c' attribute 'sparse_value': attribute type SPARSE_TENSOR is not supported");
  });

  it('graph input and output shapes must be whole numbers ≥ 0', () => {
    const bytes = onnx.ModelProto.encode({
      irVersion: 8, opsetImport: [{ domain: '', version: 13 }],
      graph: {
        name: 'g', node: [{ opType: 'Relu', input: ['X'], output: ['Y'], name: 'r' }],
        input: [{ name: 'X', type: { tensorType: { elemType: T.FLOAT, shape: { dim: [{ dimValue: 1 }, { dimValue: -7 }] } } } }],
        output: [{ name: 'Y', type: { tensorType: { elemType: T.FLOAT } } }],
      },
    }).finish();
    expect(refusal(bytes).message).toBe("h.onnx: graph input 'X': dim -7 in shape [1, -7] is not a whole number ≥ 0");
  });

  it('well-formed tensors of every storage form still decode to their values', () => {
    const get = (w: onnx.ITensorProto) => Array.from(decodeModel(modelWith(w)).graph.initializers.get('W')!.data as ArrayLike<unknown>);
    expect(get({ dims: [2, 1], dataType: T.STRING, stringData: [new TextEncoder().encode('a'), new TextEncoder().encode('bé')] })).toEqual(['a', 'bé']);
    expect(get({ dims: [3], dataType: T.INT16, int32Data: [-2, 0, 300] })).toEqual([-2, 0, 300]);
    expect(get({ dims: [], dataType: T.UINT64, uint64Data: [7] })).toEqual([7n]);
    expect(get({ dims: [2], dataType: T.BFLOAT16, int32Data: [0x3f80, 0xc000] })).toEqual([1, -2]);
    expect(get({ dims: [1, 2], dataType: T.INT32, rawData: new Uint8Array(new Int32Array([5, -6]).buffer) })).toEqual([5, -6]);
  });
});
