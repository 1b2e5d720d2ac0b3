// Large float32 weights of a file the loader read itself stay in the file's bytes (moved to a 4-byte boundary when
// needed) instead of being copied: the values must be exactly those of the copying decode, for every alignment,
// and bytes the caller handed in are never touched.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeModel } from '../../src/onnx/decode.js';
import { loadModel } from '../../src/onnx/load.js';
import { onnx } from '../../src/onnx/proto.js';
import { IN_PLACE_MIN_BYTES } from '../../src/onnx/tensor-proto.js';
import { randomData } from '../helpers/cnn-reference.js';

const T = onnx.TensorProto.DataType;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-in-place-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** `Y = Identity(W)` with W float32 [n] in raw_data; `pad` characters of doc_string shift where raw_data lands. */
function modelWith(values: Float32Array, pad: number, extra: onnx.ITensorProto[] = []): Uint8Array {
  return onnx.ModelProto.encode({
    irVersion: 8, opsetImport: [{ domain: '', version: 13 }], docString: 'x'.repeat(pad),
    graph: {
      name: 'g', node: [{ opType: 'Identity', input: ['W'], output: ['Y'], name: 'id' }],
      initializer: [{ name: 'W', dims: [values.length], dataType: T.FLOAT, rawData: new Uint8Array(values.buffer) }, ...extra],
      output: [{ name: 'Y', type: { tensorType: { elemType: T.FLOAT, shape: { dim: [{ dimValue: values.length }] } } } }],
    },
  }).finish();
}

/** Bit-equal float arrays (toEqual walks 16k elements one by one). */
function expectSame(got: unknown, want: Float32Array, what = ''): void {
  expect(got, what).toBeInstanceOf(Float32Array);
  const g = got as Float32Array;
  expect(Buffer.from(g.buffer, g.byteOffset, g.byteLength).equals(Buffer.from(want.buffer, want.byteOffset, want.byteLength)), `${what}: values`).toBe(true);
}

/** Where W's raw_data starts in the encoded bytes (protobufjs decodes bytes fields as views). */
function rawOffset(bytes: Uint8Array): number {
  const raw = onnx.ModelProto.decode(bytes).graph!.initializer![0]!.rawData!;
  return raw.byteOffset - bytes.byteOffset;
}

describe('float32 raw_data kept in place', () => {
  const values = randomData(IN_PLACE_MIN_BYTES / 4 + 5, 1);

  it('is a view of the owned bytes at every alignment, with the values of a copying decode', () => {
    const seen = new Set<number>();
    for (let pad = 0; pad < 4; pad++) {
      const encoded = modelWith(values, pad);
      const offset = rawOffset(encoded);
      seen.add(offset % 4);
      const owned = new Uint8Array(encoded);   // a private buffer starting at offset 0, as readFileSync gives
      const w = decodeModel(owned, { ownsBytes: true }).graph.initializers.get('W')!;
      expect((w.data as Float32Array).buffer, `pad ${pad}: a view of the file's bytes`).toBe(owned.buffer);
      expect((w.data as Float32Array).byteOffset % 4).toBe(0);
      expectSame(w.data, values, `pad ${pad}`);
    }
    expect([...seen].sort(), 'the pads cover every raw_data alignment').toEqual([0, 1, 2, 3]);
  });

  it('copies bytes it does not own, and leaves them unchanged', () => {
    const encoded = modelWith(values, 1);
    expect(rawOffset(encoded) % 4).not.toBe(0);
    const before = Buffer.from(encoded);
    const w = decodeModel(encoded).graph.initializers.get('W')!;
    expect((w.data as Float32Array).buffer).not.toBe(encoded.buffer);
    expectSame(w.data, values);
    expect(Buffer.from(encoded).equals(before), 'the caller\'s bytes are unchanged').toBe(true);
  });

  it('copies small float32 tensors even from owned bytes (a view would keep the whole file for a few bytes)', () => {
    const small = randomData(IN_PLACE_MIN_BYTES / 4 - 1, 2);
    const w = decodeModel(new Uint8Array(modelWith(small, 0)), { ownsBytes: true }).graph.initializers.get('W')!;
    expect((w.data as Float32Array).byteLength).toBe((w.data as Float32Array).buffer.byteLength);
    expectSame(w.data, small);
  });

  it('moving one tensor in place does not disturb the tensors around it', () => {
    const other = randomData(IN_PLACE_MIN_BYTES / 4 + 3, 3);
    const tiny = Float32Array.of(1.5, -2.25, 3);
    const encoded = modelWith(values, 3, [
      { name: 'V', dims: [other.length], dataType: T.FLOAT, rawData: new Uint8Array(other.buffer) },
      { name: 'S', dims: [3], dataType: T.FLOAT, rawData: new Uint8Array(tiny.buffer) },
      { name: 'Q', dims: [4], dataType: T.INT8, rawData: Uint8Array.of(1, 255, 7, 128) },
    ]);
    const m = decodeModel(new Uint8Array(encoded), { ownsBytes: true }).graph.initializers;
    expectSame(m.get('W')!.data, values);
    expectSame(m.get('V')!.data, other);
    expectSame(m.get('S')!.data, tiny);
    expect(Array.from(m.get('Q')!.data as Int8Array)).toEqual([1, -1, 7, -128]);
  });

  it('loadModel(path) keeps them in the file bytes; loadModel(bytes) copies', async () => {
    const file = path.join(tmp, 'w.onnx');
    fs.writeFileSync(file, modelWith(values, 2));
    const fromPath = (await loadModel(file)).graph.initializers.get('W')!.data as Float32Array;
    expect(fromPath.buffer.byteLength).toBeGreaterThan(fromPath.byteLength);
    expectSame(fromPath, values);
    const bytes = fs.readFileSync(file);
    const fromBytes = (await loadModel(bytes)).graph.initializers.get('W')!.data as Float32Array;
    expect(fromBytes.buffer.byteLength).toBe(fromBytes.byteLength);
    expectSame(fromBytes, values);
    expect(bytes.equals(fs.readFileSync(file)), 'the caller\'s bytes are unchanged').toBe(true);
  });

  it('external data: each tensor is read into a buffer of its own size (aligned or not), never a view of the whole file', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'ext-'));
    const data = new Uint8Array(8 + values.byteLength * 2 + 1);
    data.set(new Uint8Array(values.buffer), 8);                       // aligned at 8
    data.set(new Uint8Array(values.buffer), 9 + values.byteLength);   // unaligned
    fs.writeFileSync(path.join(dir, 'w.bin'), data);
    const ext = (offset: number) => ({
      dims: [values.length], dataType: T.FLOAT, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [{ key: 'location', value: 'w.bin' }, { key: 'offset', value: String(offset) }, { key: 'length', value: String(values.byteLength) }],
    });
    fs.writeFileSync(path.join(dir, 'm.onnx'), onnx.ModelProto.encode({
      irVersion: 8, opsetImport: [{ domain: '', version: 13 }],
      graph: {
        name: 'g', node: [{ opType: 'Add', input: ['A', 'B'], output: ['Y'], name: 'add' }],
        initializer: [{ name: 'A', ...ext(8) }, { name: 'B', ...ext(9 + values.byteLength) }],
        output: [{ name: 'Y', type: { tensorType: { elemType: T.FLOAT, shape: { dim: [{ dimValue: values.length }] } } } }],
      },
    }).finish());
    const inits = (await loadModel(path.join(dir, 'm.onnx'))).graph.initializers;
    const a = inits.get('A')!.data as Float32Array, b = inits.get('B')!.data as Float32Array;
    expect(a.buffer.byteLength).toBe(a.byteLength);
    expect(b.buffer.byteLength).toBe(b.byteLength);
    expectSame(a, values);
    expectSame(b, values);
  });
});
