// The ONNX loader: every TensorProto storage form, external data, opsets, and a clear error (naming the file and
// the field) for every bad file — after which loading good files still works.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InferenceSession, ModelLoadError, Tensor, UnsupportedOpsError } from '../../src/index.js';
import { loadModel } from '../../src/onnx/load.js';
import { decodeModel } from '../../src/onnx/decode.js';
import { encodeModel } from '../../src/onnx/encode.js';
import { onnx } from '../../src/onnx/proto.js';
import { SHARED } from '../helpers/onnx-tests.js';

const BAD = path.join(SHARED, 'fixtures/bad');
const T = onnx.TensorProto.DataType;

/** A one-initializer model `Y = Identity(W)` whose W is given as a TensorProto object. */
function modelWith(w: onnx.ITensorProto, opts: { ir?: number; opset?: number } = {}): Uint8Array {
  return onnx.ModelProto.encode({
    irVersion: opts.ir ?? 8,
    opsetImport: [{ domain: '', version: opts.opset ?? 13 }],
    graph: {
      name: 'g', node: [{ opType: 'Identity', input: ['W'], output: ['Y'], name: 'id' }],
      initializer: [{ name: 'W', ...w }],
      output: [{ name: 'Y', type: { tensorType: { elemType: w.dataType, shape: { dim: (w.dims ?? []).map(d => ({ dimValue: d })) } } } }],
    },
  }).finish();
}

const initOf = (bytes: Uint8Array) => decodeModel(bytes).graph.initializers.get('W')!;

describe('TensorProto storage forms', () => {
  it('reads float_data, int32_data, int64_data, double_data and uint64_data', () => {
    expect(Array.from(initOf(modelWith({ dims: [2], dataType: T.FLOAT, floatData: [1.5, -2] })).data as Float32Array)).toEqual([1.5, -2]);
    expect(Array.from(initOf(modelWith({ dims: [3], dataType: T.INT8, int32Data: [-128, 0, 127] })).data as Int8Array)).toEqual([-128, 0, 127]);
    expect(Array.from(initOf(modelWith({ dims: [2], dataType: T.UINT8, int32Data: [0, 255] })).data as Uint8Array)).toEqual([0, 255]);
    expect(Array.from(initOf(modelWith({ dims: [2], dataType: T.BOOL, int32Data: [1, 0] })).data as Uint8Array)).toEqual([1, 0]);
    expect(Array.from(initOf(modelWith({ dims: [2], dataType: T.INT64, int64Data: [-5, 2 ** 40] })).data as BigInt64Array)).toEqual([-5n, 2n ** 40n]);
    expect(Array.from(initOf(modelWith({ dims: [2], dataType: T.DOUBLE, doubleData: [0.1, 1e300] })).data as Float64Array)).toEqual([0.1, 1e300]);
    expect(Array.from(initOf(modelWith({ dims: [1], dataType: T.UINT32, uint64Data: [4294967295] })).data as Uint32Array)).toEqual([4294967295]);
  });

  it('reads raw_data little-endian for every numeric dtype, and widens float16', () => {
    const f = new Float32Array([1, -0.5, 3.25]);
    expect(Array.from(initOf(modelWith({ dims: [3], dataType: T.FLOAT, rawData: new Uint8Array(f.buffer) })).data as Float32Array)).toEqual([1, -0.5, 3.25]);
    const i64 = new BigInt64Array([-1n, 9007199254740993n]);
    expect(Array.from(initOf(modelWith({ dims: [2], dataType: T.INT64, rawData: new Uint8Array(i64.buffer) })).data as BigInt64Array)).toEqual([-1n, 9007199254740993n]);
    // float16: 1.0 = 0x3c00, -2.0 = 0xc000, 0.5 = 0x3800, 65504 = 0x7bff
    const h = new Uint16Array([0x3c00, 0xc000, 0x3800, 0x7bff]);
    const t = initOf(modelWith({ dims: [4], dataType: T.FLOAT16, rawData: new Uint8Array(h.buffer) }));
    expect(t.dtype).toBe('float16');
    expect(Array.from(t.data as Float32Array)).toEqual([1, -2, 0.5, 65504]);
    const f16 = initOf(modelWith({ dims: [2], dataType: T.FLOAT16, int32Data: [0x3c00, 0x3800] }));
    expect(Array.from(f16.data as Float32Array)).toEqual([1, 0.5]);
  });

  it('reads raw_data at an odd offset inside a larger buffer (as protobuf hands out views)', () => {
    const bytes = modelWith({ dims: [2], dataType: T.FLOAT, rawData: new Uint8Array(new Float32Array([7, 8]).buffer) });
    const padded = Buffer.concat([Buffer.from([1, 2, 3]), Buffer.from(bytes)]).subarray(3);
    expect(Array.from(initOf(padded).data as Float32Array)).toEqual([7, 8]);
  });

  it('round-trips through encodeModel', () => {
    const m = decodeModel(modelWith({ dims: [2, 2], dataType: T.INT32, int32Data: [1, 2, 3, -4] }));
    const again = decodeModel(encodeModel(m));
    expect(Array.from(again.graph.initializers.get('W')!.data as Int32Array)).toEqual([1, 2, 3, -4]);
    expect(again.graph.initializers.get('W')!.dims).toEqual([2, 2]);
  });

  it('names the initializer and both sizes when data and dims disagree', () => {
    expect(() => decodeModel(modelWith({ dims: [3], dataType: T.FLOAT, floatData: [1, 2] }), { name: 'm.onnx' }))
      .toThrow("m.onnx: initializer 'W': float_data has 2 values, but dims [3] need 3");
    expect(() => decodeModel(modelWith({ dims: [2], dataType: T.FLOAT, rawData: new Uint8Array(7) }), { name: 'm.onnx' }))
      .toThrow("m.onnx: initializer 'W': raw_data is 7 bytes, but float32 dims [2] need 8");
  });

  it('names unsupported data types', () => {
    expect(() => decodeModel(modelWith({ dims: [1], dataType: T.COMPLEX64, floatData: [1, 2] }), { name: 'c.onnx' }))
      .toThrow("c.onnx: initializer 'W': data type COMPLEX64 (14) is not supported");
    expect(() => decodeModel(modelWith({ dims: [1], dataType: 99, floatData: [1] }), { name: 'c.onnx' }))
      .toThrow('data type unknown (99) is not supported');
  });
});

describe('model-level checks', () => {
  it('accepts ir_version 3 to 10 and refuses others with the range', () => {
    for (const ir of [3, 7, 10]) expect(decodeModel(modelWith({ dims: [1], dataType: T.FLOAT, floatData: [1] }, { ir })).irVersion).toBe(ir);
    expect(() => decodeModel(modelWith({ dims: [1], dataType: T.FLOAT, floatData: [1] }, { ir: 11 }), { name: 'x.onnx' }))
      .toThrow('x.onnx: ir_version 11 is not supported (expected 3 to 10)');
  });

  it('keeps opset_import per domain and value_info shapes', async () => {
    const m = await loadModel(path.join(SHARED, 'fixtures/vit-hf-tiny-op14/model.onnx'));
    expect(m.opsets.get('')).toBe(14);
    expect(m.graph.inputs[0]).toEqual({ name: 'pixel_values', dtype: 'float32', shape: ['batch_size', 3, 224, 224] });
    expect(m.graph.outputs[0]!.name).toBe('logits');
  });

  it('loads the same model from a path, a Uint8Array and an ArrayBuffer', async () => {
    const file = path.join(SHARED, 'fixtures/resnet-tv-tiny-op13/model.onnx');
    const bytes = fs.readFileSync(file);
    const fromPath = await loadModel(file);
    const fromU8 = await loadModel(new Uint8Array(bytes));
    const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const fromAb = await loadModel(ab);
    for (const m of [fromU8, fromAb]) {
      expect(m.graph.nodes.length).toBe(fromPath.graph.nodes.length);
      for (const [k, v] of fromPath.graph.initializers) expect(m.graph.initializers.get(k)!.data).toEqual(v.data);
    }
  });

  it('reads external data relative to the model file', async () => {
    const m = await loadModel(path.join(SHARED, 'fixtures/resnet-hf-tiny-op17-extdata/model.onnx'));
    const w = [...m.graph.initializers.values()];
    expect(w.length).toBeGreaterThan(30);
    expect(w.every(t => t.data.length > 0)).toBe(true);
  });

  it('refuses external data from bytes (no folder) and external paths leaving the model folder', async () => {
    const bytes = fs.readFileSync(path.join(SHARED, 'fixtures/resnet-hf-tiny-op17-extdata/model.onnx'));
    await expect(loadModel(new Uint8Array(bytes))).rejects.toThrow(/external data 'model.onnx.data' can only be read when the model is loaded from a path/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-ext-'));
    const evil = onnx.ModelProto.encode({
      irVersion: 8, opsetImport: [{ version: 13 }],
      graph: {
        node: [{ opType: 'Identity', input: ['W'], output: ['Y'] }],
        initializer: [{ name: 'W', dims: [1], dataType: T.FLOAT, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL, externalData: [{ key: 'location', value: '../../etc/passwd' }] }],
        output: [{ name: 'Y', type: { tensorType: { elemType: T.FLOAT } } }],
      },
    }).finish();
    fs.writeFileSync(path.join(dir, 'evil.onnx'), evil);
    await expect(loadModel(path.join(dir, 'evil.onnx'))).rejects.toThrow(/outside the model's folder/);
  });
});

describe('bad fixtures get a clear error, and loading keeps working', () => {
  it('missing-external-data.onnx names the missing file and the first tensor needing it', async () => {
    await expect(InferenceSession.create(path.join(BAD, 'missing-external-data.onnx')))
      .rejects.toThrow(/missing-external-data\.onnx: initializer 'resnet\.embedder\.embedder\.convolution\.weight': external data file 'resnet50\.onnx\.data' cannot be read \(no such file/);
  });

  it('truncated.onnx says the protobuf is truncated or corrupt, naming the file', async () => {
    const err = await InferenceSession.create(path.join(BAD, 'truncated.onnx')).catch(e => e);
    expect(err).toBeInstanceOf(ModelLoadError);
    expect(err.message).toMatch(/truncated\.onnx: not a valid ONNX model: protobuf decoding failed .*truncated or corrupt/);
  });

  it('unknown-op.onnx lists the op type, domain/opset and node', async () => {
    const err = await InferenceSession.create(path.join(BAD, 'unknown-op.onnx')).catch(e => e);
    expect(err).toBeInstanceOf(UnsupportedOpsError);
    expect(err.message).toBe(`${path.join(BAD, 'unknown-op.onnx')}: 1 unsupported operator: FrobnicateXYZ (opset 13; node 'frobnicate')`);
  });

  it('rawdata-size-mismatch.onnx names the initializer and both byte counts', async () => {
    await expect(InferenceSession.create(path.join(BAD, 'rawdata-size-mismatch.onnx')))
      .rejects.toThrow("rawdata-size-mismatch.onnx: initializer 'W': raw_data is 12 bytes, but float32 dims [2, 3] need 24");
  });

  it('empty files, random bytes and missing paths are refused by name', async () => {
    await expect(loadModel(new Uint8Array(0), { name: 'empty.onnx' })).rejects.toThrow('empty.onnx: the file is empty');
    const junk = new Uint8Array(4096).map((_, i) => (i * 2654435761) >>> 24);
    await expect(loadModel(junk, { name: 'junk.bin' })).rejects.toThrow(/^junk\.bin: /);
    await expect(loadModel('/nonexistent/model.onnx')).rejects.toThrow('/nonexistent/model.onnx: no such file');
  });

  it('a good model still loads and runs after all the failures', async () => {
    const s = await InferenceSession.create(modelWith({ dims: [2], dataType: T.FLOAT, floatData: [3, 4] }));
    const out = await s.run({});
    expect(Array.from(out.Y!.data as Float32Array)).toEqual([3, 4]);
    expect(out.Y).toBeInstanceOf(Tensor);
    await s.release();
  });
});
