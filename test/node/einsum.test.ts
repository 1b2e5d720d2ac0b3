// Einsum: the official node tests, then the forms they miss — attention-style batched matmuls, three operands,
// '...' broadcasting, diagonals and traces, outer and Hadamard products, implicit outputs, integers — against
// onnxruntime-node; the batched-matmul fast path runs without a Transpose kernel; rejections name the node.

import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { EINSUM_OPS } from '../../kernels/einsum.js';
import { checkAgainstOrt, expectClose, randomData, randomTensor, rng, runOcellus, runOrt } from '../helpers/cnn-reference.js';
import { nodeSuite } from '../helpers/node-suite.js';
import { spec } from './specs/einsum.js';

nodeSuite(spec);

function einsumModel(equation: string, xs: Tensor[]) {
  const b = new GraphBuilder();
  const names = xs.map((x, i) => b.input(`x${i}`, x.type, [...x.dims]));
  b.node('Einsum', names, { equation }, { name: 'einsum', outputs: ['y'] });
  b.output('y', xs[0]!.type);
  return { model: b.model(12), feeds: Object.fromEntries(names.map((n, i) => [n, xs[i]!])) };
}

const CASES: [string, number[][]][] = [
  ['bhid,bhjd->bhij', [[2, 3, 5, 4], [2, 3, 6, 4]]],
  ['bhij,bhjd->bhid', [[2, 3, 5, 6], [2, 3, 6, 4]]],
  ['bij,bjk->bik', [[3, 4, 5], [3, 5, 2]]],
  ['bhwc,hkc->bhwk', [[2, 3, 4, 5], [3, 6, 5]]],
  ['nqhc,nkhc->nhqk', [[2, 4, 3, 5], [2, 6, 3, 5]]],
  ['ij,jk,kl->il', [[3, 4], [4, 5], [5, 2]]],
  ['...ij,...jk->...ik', [[2, 1, 3, 4], [1, 5, 4, 2]]],
  ['...ij,...jk', [[1, 3, 4], [2, 4, 5]]],
  ['bii->bi', [[2, 4, 4]]],
  ['ii', [[5, 5]]],
  ['iij->ji', [[3, 3, 4]]],
  ['ij,ij->ij', [[3, 4], [3, 4]]],
  ['i,j->ij', [[3], [4]]],
  ['abc->cba', [[2, 3, 4]]],
  ['ij,jk', [[3, 4], [4, 5]]],
  ['ab,bc->', [[3, 4], [4, 5]]],
  ['abcd->ad', [[2, 3, 4, 5]]],
  ['Ab,bC->CA', [[3, 4], [4, 2]]],
  ['bn,anm,bm->ba', [[2, 3], [4, 3, 5], [2, 5]]],
  // torchvision MaxViT's attention, as torch.onnx writes it (spaces, capitals, rank 5)
  ['B G H I D, B G H J D -> B G H I J', [[2, 4, 2, 7, 8], [2, 4, 2, 7, 8]]],
  ['B G H I J, B G H J D -> B G H I D', [[2, 4, 2, 7, 7], [2, 4, 2, 7, 8]]],
];

describe('Einsum vs onnxruntime-node', () => {
  for (const [eq, shapes] of CASES) {
    it(eq, async () => {
      const { model, feeds } = einsumModel(eq, shapes.map((s, i) => randomTensor(s, 20 + i)));
      await checkAgainstOrt(model, feeds, { rtol: 1e-5, atol: 1e-5 });
    });
  }

  // onnxruntime refuses (or crashes on) '...' of different ranks, which numpy broadcasts: the reference is
  // onnxruntime on the same inputs with the broadcast spelled out.
  for (const [eq, spelled, shapes] of [
    ['...ij,...jk', 'ij,bjk->bik', [[3, 4], [2, 4, 5]]],
    ['...ij,...jk->...ik', 'aij,bcjk->bcik', [[1, 3, 4], [5, 2, 4, 2]]],
  ] as [string, string, number[][]][]) {
    it(`${eq} with '...' of different ranks (as ${spelled})`, async () => {
      const xs = shapes.map((s, i) => randomTensor(s, 30 + i));
      const want = (await runOrt(einsumModel(spelled, xs).model, einsumModel(spelled, xs).feeds)).y!;
      const { model, feeds } = einsumModel(eq, xs);
      const got = (await runOcellus(model, feeds, true)).outputs['y'];
      expectClose(got, want, { rtol: 1e-5, atol: 1e-5 }, eq);
    });
  }

  it('int32 operands stay int32 and exact', async () => {
    const int = (dims: number[], seed: number) => new Tensor('int32', Int32Array.from(randomData(dims[0]! * dims[1]!, seed, -9, 9), Math.round), dims);
    const { model, feeds } = einsumModel('ij,jk->ik', [int([3, 4], 1), int([4, 2], 2)]);
    const { plain } = await checkAgainstOrt(model, feeds, { rtol: 0, atol: 0 });
    expect(plain.outputs['y']!.type).toBe('int32');
  });
});

describe('Einsum: a seeded sweep of 60 random equations vs onnxruntime-node', () => {
  // 1–3 operands of rank 1–4 over labels a–f (repeats within a term: diagonals), explicit or implicit outputs.
  it('all equal', async () => {
    const r = rng(12), ri = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
    for (let t = 0; t < 60; t++) {
      const size = Object.fromEntries([...'abcdef'].map(l => [l, ri(1, 4)]));
      const terms = Array.from({ length: ri(1, 3) }, () => Array.from({ length: ri(1, 4) }, () => 'abcdef'[ri(0, 5)]!).join(''));
      const labels = [...new Set(terms.join(''))];
      const eq = terms.join(',') + (r() < 0.7 ? '->' + labels.filter(() => r() < 0.5).join('') : '');
      const { model, feeds } = einsumModel(eq, terms.map((term, i) => randomTensor([...term].map(l => size[l]!), t * 7 + i)));
      const want = (await runOrt(model, feeds)).y!;
      expectClose((await runOcellus(model, feeds, true)).outputs['y'], want, { rtol: 1e-4, atol: 1e-5 }, `${eq} ${JSON.stringify(size)}`);
    }
  });
});

describe('Einsum batched-matmul fast path', () => {
  const run = (eq: string, shapes: number[][]) => {
    const def = EINSUM_OPS[0]!;
    const attrs = def.parse({ attrs: { string: () => eq }, check: (c: unknown, d: () => string) => { if (!c) throw new Error(d()); } } as never);
    const xs = shapes.map((s, i) => tf.tensor(randomData(s.reduce((p, d) => p * d, 1), i), s));
    return tf.profile(() => tf.tidy(() => def.run(xs, attrs, { inputs: [], outputs: [], consts: [] }, undefined))).then(p => {
      (p.result as tf.Tensor[]).forEach(t => t.dispose());
      xs.forEach(t => t.dispose());
      return p.kernelNames;
    });
  };

  for (const eq of ['bhid,bhjd->bhij', 'bhij,bhjd->bhid', 'bij,bjk->bik', 'bji,bjk->bik']) {
    it(`${eq}: one BatchMatMul, no Transpose`, async () => {
      const kernels = await run(eq, eq.startsWith('bh') ? [[2, 3, 4, 4], [2, 3, 4, 4]] : [[2, 4, 4], [2, 4, 4]]);
      expect(kernels.filter(k => k === 'BatchMatMul')).toHaveLength(1);
      expect(kernels).not.toContain('Transpose');
    });
  }
});

describe('Einsum rejections name the node and the problem', () => {
  it('label sizes that disagree', async () => {
    const { model } = einsumModel('ij,jk->ik', [randomTensor([2, 3], 1), randomTensor([4, 2], 2)]);
    await expect(InferenceSession.create(model)).rejects.toThrow(/Einsum 'einsum' \(opset 12\): equation 'ij,jk->ik': label 'j' is 3 in one place and 4 in input 1/);
  });

  it('an output label in no input', async () => {
    const { model } = einsumModel('ij->k', [randomTensor([2, 3], 1)]);
    await expect(InferenceSession.create(model)).rejects.toThrow(/output label 'k' is in no input/);
  });

  it('a term that does not match the rank', async () => {
    const { model } = einsumModel('ijk->i', [randomTensor([2, 3], 1)]);
    await expect(InferenceSession.create(model)).rejects.toThrow(/input 0 has rank 2 but its term 'ijk' names 3 axes/);
  });
});
