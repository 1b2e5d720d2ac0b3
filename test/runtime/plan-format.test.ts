// The plan cache's body format (src/runtime/plan-format.ts) keeps a Model exactly: every attribute kind, constants of
// each typed-array type and strings, subgraphs, value declarations; read from an unaligned place it copies instead of
// viewing; a number JSON cannot keep refuses to encode.

import { describe, expect, it } from 'vitest';
import type { ConstTensor, Graph, Model } from '../../src/ir/graph.js';
import { decodePlanBody, encodePlanBody } from '../../src/runtime/plan-format.js';

const t = (data: ConstTensor['data'], dtype: ConstTensor['dtype'], dims: number[]): ConstTensor => ({ dtype, dims, data });

function sub(name: string): Graph {
  return {
    name, inputs: [], outputs: [{ name: `${name}_y`, dtype: 'float32', shape: [1] }], valueInfo: new Map(),
    initializers: new Map([[`${name}_c`, t(Float32Array.of(name.length), 'float32', [1])]]),
    nodes: [{ name: `${name}_id`, opType: 'Identity', domain: '', inputs: [`${name}_c`], outputs: [`${name}_y`], attrs: {} }],
  };
}

function model(): Model {
  const g: Graph = {
    name: 'main',
    inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 3, null, 7] }, { name: 'c', dtype: 'bool' }],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['N', 5] }],
    valueInfo: new Map([['h', { name: 'h', dtype: 'float32', shape: [1, 2] }]]),
    initializers: new Map<string, ConstTensor>([
      ['w', t(Float32Array.from({ length: 15 }, (_, i) => Math.fround(Math.sin(i) * 1e-3)), 'float32', [3, 5])],
      ['odd', t(Uint8Array.of(1, 2, 3), 'uint8', [3])],                      // 3 bytes: the next blob is padded
      ['i64', t(BigInt64Array.of(-1n, 2n ** 40n), 'int64', [2])],
      ['i8', t(Int8Array.of(-128, 127), 'int8', [2])],
      ['f64', t(Float64Array.of(Math.PI), 'float64', [])],
      ['s', t(['a', 'bé'], 'string', [2])],
      ['empty', t(new Float32Array(0), 'float32', [0, 4])],
    ]),
    nodes: [
      { name: 'k', opType: 'Constant', domain: '', inputs: [], outputs: ['k'], attrs: { value: { type: 'tensor', value: t(Int32Array.of(7, -7), 'int32', [2]) } } },
      { name: 'f', opType: 'NhwcConv', domain: 'local', inputs: ['x', 'w', ''], outputs: ['h'], attrs: {
        eps: { type: 'float', value: Math.fround(1e-5) }, group: { type: 'int', value: 2 }, act: { type: 'string', value: 'relu' },
        fs: { type: 'floats', value: [0.5, 1e-30] }, is: { type: 'ints', value: [1, -1] }, ss: { type: 'strings', value: ['p', 'q'] },
        ts: { type: 'tensors', value: [t(Uint16Array.of(65535), 'float16', [1])] },
      } },
      { name: 'if', opType: 'If', domain: '', inputs: ['c'], outputs: ['y'], attrs: {
        then_branch: { type: 'graph', value: sub('then') }, else_branch: { type: 'graph', value: sub('else') },
        gs: { type: 'graphs', value: [sub('g0')] },
      } },
    ],
  };
  return { irVersion: 8, opsets: new Map([['', 17], ['com.microsoft', 1]]), producerName: 'p', producerVersion: '1', docString: 'd', metadata: { k: 'v' }, graph: g };
}

function bytesOf(parts: Uint8Array[], shift = 0): Uint8Array {
  const all = new Uint8Array(shift + parts.reduce((a, p) => a + p.byteLength, 0));
  let at = shift;
  for (const p of parts) { all.set(p, at); at += p.byteLength; }
  return all.subarray(shift);
}

describe('plan body format', () => {
  it('decodes to the same model (aligned: views of the body; shifted by 1 byte: copies)', () => {
    const m = model();
    const { parts, length } = encodePlanBody(m);
    for (const shift of [0, 1]) {
      const body = bytesOf(parts, shift);
      expect(body.byteLength).toBe(length);
      const back = decodePlanBody(body);
      expect(back).toEqual(m);
      const w = back.graph.initializers.get('w')!.data as Float32Array;
      expect(w.buffer === body.buffer).toBe(shift === 0);
    }
  });

  it('refuses numbers JSON cannot keep, and a body that lies', () => {
    for (const value of [NaN, Infinity, -0]) {
      const m = model();
      m.graph.nodes[1]!.attrs['eps'] = { type: 'float', value };
      expect(() => encodePlanBody(m)).toThrow(/cannot keep/);
    }
    const body = bytesOf(encodePlanBody(model()).parts);
    expect(() => decodePlanBody(body.subarray(0, body.byteLength - 8))).toThrow(/outside the body/);
    expect(() => decodePlanBody(body.subarray(0, 2))).toThrow(/too short/);
  });
});
