// Objects protobufjs would build are counted before decoding (src/onnx/wire-budget.ts): the count must equal what
// protobufjs actually builds for real models (the independent reference), never be less for mangled bytes that
// still decode, and a 2 MB file of a million empty messages — 338 MiB of heap once decoded — must be refused
// before decoding (run in a child with a 64 MiB heap, where decoding it aborted the process).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeModel } from '../../src/onnx/decode.js';
import { onnx } from '../../src/onnx/proto.js';
import { MAX_PROTO_OBJECTS, countProtoObjects } from '../../src/onnx/wire-budget.js';
import { NODE_TESTS, SHARED } from '../helpers/onnx-tests.js';
import { haveTestData } from '../helpers/test-data.js';
import { loadInChild } from './child-load.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-wire-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Messages and repeated-bytes entries in a decoded protobufjs object tree (the root not counted). */
function decodedObjects(m: object): number {
  let n = 0;
  for (const v of Object.values(m)) {
    if (Array.isArray(v)) for (const e of v) n += e instanceof Uint8Array ? 1 : e && typeof e === 'object' ? 1 + decodedObjects(e) : 0;
    else if (v && typeof v === 'object' && !(v instanceof Uint8Array)) n += 1 + decodedObjects(v);
  }
  return n;
}

const models = [
  ...['resnet-tv-tiny-op13', 'resnet-hf-tiny-op17-extdata', 'vit-hf-tiny-op14', 'vit-hf-tiny-op14-q8'].map(f => path.join(SHARED, 'fixtures', f, 'model.onnx')),
  ...['test_constant', 'test_if', 'test_loop11', 'test_sequence_map_add_2_sequences', 'test_cast_FLOAT_to_STRING', 'test_optional_get_element']
    .map(t => path.join(NODE_TESTS, t, 'model.onnx')),
].filter(f => haveTestData(f, 'a ../shared fixture or an official ONNX node test'));

describe('counting protobuf objects before decoding', () => {
  it.skipIf(!models.length)('counts exactly what protobufjs builds for real models (subgraphs, sequences, strings, quantized)', () => {
    for (const f of models) {
      const bytes = fs.readFileSync(f);
      expect(countProtoObjects(bytes, Infinity), f).toBe(decodedObjects(onnx.ModelProto.decode(bytes)));
    }
  });

  it.skipIf(!models.length)('never counts fewer than protobufjs builds from mangled bytes that still decode', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const small = models.map(f => fs.readFileSync(f)).filter(b => b.length < 100_000);
    let decoded = 0;
    for (let i = 0; i < 3000; i++) {
      const b = new Uint8Array(small[i % small.length]!);
      for (let k = 0; k < 3; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      let want: number;
      try { want = decodedObjects(onnx.ModelProto.decode(b)); } catch { continue; }
      decoded++;
      expect(countProtoObjects(b, Infinity), `mutant ${i}`).toBeGreaterThanOrEqual(want);
    }
    expect(decoded).toBeGreaterThan(300);
  });

  it('stops counting just past the limit', () => {
    const bytes = onnx.ModelProto.encode({ graph: { node: Array.from({ length: 1000 }, () => ({})) } }).finish();
    expect(countProtoObjects(bytes, Infinity)).toBe(1001);
    expect(countProtoObjects(bytes, 10)).toBe(11);
  });

  it('a 2 MB file of a million empty initializers is refused before decoding (it aborted a 64 MiB heap)', () => {
    const kinds: Record<string, onnx.IGraphProto> = {
      initializers: { initializer: Array.from({ length: MAX_PROTO_OBJECTS }, () => ({})) },
      strings: { initializer: [{ name: 'S', dims: [MAX_PROTO_OBJECTS], dataType: onnx.TensorProto.DataType.STRING, stringData: Array.from({ length: MAX_PROTO_OBJECTS }, () => new Uint8Array(0)) }] },
    };
    const files = Object.entries(kinds).map(([k, graph]) => {
      const f = path.join(tmp, `${k}.onnx`);
      fs.writeFileSync(f, onnx.ModelProto.encode({ irVersion: 8, opsetImport: [{ version: 13 }], graph: { name: 'g', ...graph } }).finish());
      expect(fs.statSync(f).size).toBeLessThan(2.1e6);
      return f;
    });
    const r = loadInChild(files, 64);
    expect(r.signal, r.stderr.slice(-2000)).toBeNull();
    const why = `holds more than ${MAX_PROTO_OBJECTS} protobuf messages (nodes, attributes, tensors, value infos, …); decoding them would exhaust the heap`;
    expect(r.lines).toEqual(files.map(f => `${f}\tModelLoadError\t${f}: ${why}`));
    expect(() => decodeModel(fs.readFileSync(files[0]!), { name: 'x.onnx' })).toThrow(`x.onnx: ${why}`);
  });
});
