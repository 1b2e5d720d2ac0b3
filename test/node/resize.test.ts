// Resize and Upsample: the official node tests (ONNX 1.12: opsets 9–13); the opset 18/19 cases of ONNX's own test
// generator (onnx/backend/test/case/node/resize.py, whose expected values the reference op_resize.py computed and the
// file prints) for antialias, axes, keep_aspect_ratio_policy, tf_crop_and_resize with axes and half_pixel_symmetric;
// then larger random cases against onnxruntime-node (batch, channels, every mode, Resize-10 and Upsample rules, int
// data, rank 3 and 5); and the rejections, naming the node. onnxruntime departs from the reference in cases these
// avoid: it copies an axis whose length does not change (ignoring its scale and roi), uses the integer output length
// where the reference uses scale·input (align_corners, tf_crop_and_resize, pytorch_half_pixel with scales), samples
// an output of length 1 at 0 under pytorch_half_pixel (the reference: -0.5), and computes coordinates in float32 (the
// reference in float64), which can break a nearest tie the other way.

import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import type { DType } from '../../src/ir/dtype.js';
import { GraphBuilder, type AttrInput } from '../../src/ir/builder.js';
import { constTensor } from '../../src/ir/tensor.js';
import { checkAgainstOrt, expectClose, randomData, randomTensor, rng, runOcellus, runOrt } from '../helpers/cnn-reference.js';
import { nodeSuite } from '../helpers/node-suite.js';
import { spec } from './specs/resize.js';

nodeSuite(spec);

interface ResizeInputs { roi?: number[]; scales?: number[]; sizes?: number[] }

/** One Resize node over x (a graph input) with constant roi/scales/sizes ('' where absent). */
function resizeModel(x: Tensor, ins: ResizeInputs, attrs: Record<string, AttrInput>, opset: number, opType = 'Resize') {
  const b = new GraphBuilder();
  b.input('x', x.type, [...x.dims]);
  const c = (name: string, dtype: DType, v?: number[]) => (v ? b.init(name, constTensor(dtype, [v.length], v)) : '');
  const inputs = opType === 'Upsample' || opset < 11
    ? ['x', c('scales', 'float32', ins.scales)]
    : ['x', c('roi', 'float32', ins.roi), c('scales', 'float32', ins.scales), c('sizes', 'int64', ins.sizes)];
  while (inputs.at(-1) === '') inputs.pop();
  b.node(opType, inputs, attrs, { name: 'resize', outputs: ['y'] });
  b.output('y', x.type);
  return { model: b.model(opset), feeds: { x } };
}

const grid4 = new Tensor('float32', Float32Array.from({ length: 16 }, (_, i) => i + 1), [1, 1, 4, 4]);
const grid2 = new Tensor('float32', Float32Array.from([1, 2, 3, 4]), [1, 1, 2, 2]);
const row24 = new Tensor('float32', Float32Array.from({ length: 8 }, (_, i) => i + 1), [1, 1, 2, 4]);
const nn = (rows: number[][]) => rows.flat();

// [name, opset, x, inputs, attrs, expected dims, expected values] — values as ONNX's resize.py prints them.
const SPEC_CASES: [string, number, Tensor, ResizeInputs, Record<string, AttrInput>, number[], number[]][] = [
  ['downsample_scales_linear_antialias', 18, grid4, { scales: [1, 1, 0.6, 0.6] }, { mode: 'linear', antialias: 1 }, [1, 1, 2, 2], [2.875, 4.5, 9.375, 11]],
  ['downsample_sizes_linear_antialias', 18, grid4, { sizes: [1, 1, 3, 3] }, { mode: 'linear', antialias: 1 }, [1, 1, 3, 3],
    [2.3636363, 3.590909, 4.818182, 7.2727275, 8.5, 9.727273, 12.181818, 13.409091, 14.636364]],
  ['downsample_scales_cubic_antialias', 18, grid4, { scales: [1, 1, 0.6, 0.6] }, { mode: 'cubic', antialias: 1 }, [1, 1, 2, 2], [2.5180721, 4.2858863, 9.589329, 11.357142]],
  ['downsample_sizes_cubic_antialias', 18, grid4, { sizes: [1, 1, 3, 3] }, { mode: 'cubic', antialias: 1 }, [1, 1, 3, 3],
    [1.7750092, 3.1200073, 4.4650054, 7.1550016, 8.5, 9.844998, 12.534994, 13.8799925, 15.224991]],
  ['upsample_scales_nearest_axes_2_3', 18, grid2, { scales: [2, 3] }, { axes: [2, 3] }, [1, 1, 4, 6], nn([[1, 1, 1, 2, 2, 2], [1, 1, 1, 2, 2, 2], [3, 3, 3, 4, 4, 4], [3, 3, 3, 4, 4, 4]])],
  ['upsample_scales_nearest_axes_3_2', 18, grid2, { scales: [3, 2] }, { axes: [3, 2] }, [1, 1, 4, 6], nn([[1, 1, 1, 2, 2, 2], [1, 1, 1, 2, 2, 2], [3, 3, 3, 4, 4, 4], [3, 3, 3, 4, 4, 4]])],
  ['upsample_sizes_nearest_axes_2_3', 18, grid2, { sizes: [7, 8] }, { axes: [2, 3] }, [1, 1, 7, 8],
    nn([...Array(4).fill([1, 1, 1, 1, 2, 2, 2, 2]), ...Array(3).fill([3, 3, 3, 3, 4, 4, 4, 4])])],
  ['upsample_sizes_nearest_axes_3_2', 18, grid2, { sizes: [8, 7] }, { axes: [3, 2] }, [1, 1, 7, 8],
    nn([...Array(4).fill([1, 1, 1, 1, 2, 2, 2, 2]), ...Array(3).fill([3, 3, 3, 3, 4, 4, 4, 4])])],
  ['tf_crop_and_resize_axes_2_3', 18, grid4, { roi: [0.4, 0.6, 0.6, 0.8], sizes: [3, 3] }, { mode: 'linear', coordinate_transformation_mode: 'tf_crop_and_resize', axes: [2, 3] },
    [1, 1, 3, 3], [7.6000004, 7.9, 8.2, 8.8, 9.1, 9.400001, 10, 10.3, 10.6]],
  ['tf_crop_and_resize_axes_3_2', 18, grid4, { roi: [0.6, 0.4, 0.8, 0.6], sizes: [3, 3] }, { mode: 'linear', coordinate_transformation_mode: 'tf_crop_and_resize', axes: [3, 2] },
    [1, 1, 3, 3], [7.6000004, 7.9, 8.2, 8.8, 9.1, 9.400001, 10, 10.3, 10.6]],
  ['upsample_sizes_nearest_not_larger', 18, grid2, { sizes: [7, 8] }, { axes: [2, 3], keep_aspect_ratio_policy: 'not_larger' }, [1, 1, 7, 7],
    nn([...Array(4).fill([1, 1, 1, 1, 2, 2, 2]), ...Array(3).fill([3, 3, 3, 3, 4, 4, 4])])],
  ['downsample_sizes_nearest_not_larger', 18, row24, { sizes: [1, 3] }, { axes: [2, 3], keep_aspect_ratio_policy: 'not_larger' }, [1, 1, 1, 2], [1, 3]],
  ['downsample_sizes_nearest_not_smaller', 18, row24, { sizes: [1, 3] }, { axes: [2, 3], keep_aspect_ratio_policy: 'not_smaller' }, [1, 1, 2, 3], [1, 2, 4, 5, 6, 8]],
  ['downsample_scales_linear_half_pixel_symmetric', 19, new Tensor('float32', Float32Array.from([1, 2, 3, 4]), [1, 1, 1, 4]), { scales: [1, 1, 1, 0.6] },
    { mode: 'linear', coordinate_transformation_mode: 'half_pixel_symmetric' }, [1, 1, 1, 2], [1.6666667, 3.3333333]],
  ['upsample_scales_linear_half_pixel_symmetric', 19, grid2, { scales: [1, 1, 2.3, 2.94] }, { mode: 'linear', coordinate_transformation_mode: 'half_pixel_symmetric' },
    [1, 1, 4, 5], [1, 1.15986395, 1.5, 1.84013605, 2, 1.56521738, 1.72508133, 2.06521738, 2.40535343, 2.56521738,
      2.43478262, 2.59464657, 2.93478262, 3.27491867, 3.43478262, 3, 3.15986395, 3.5, 3.84013605, 4]],
];

describe('Resize opsets 18–19: the cases of ONNX\'s test generator', () => {
  for (const [name, opset, x, ins, attrs, dims, want] of SPEC_CASES) {
    it(name, async () => {
      const { model, feeds } = resizeModel(x, ins, attrs, opset);
      const got = (await runOcellus(model, feeds, true)).outputs['y'];
      expectClose(got, new Tensor('float32', Float32Array.from(want), dims), { rtol: 1e-6, atol: 1e-6 }, name);
    });
  }
});

describe('Resize vs onnxruntime-node', () => {
  const x = randomTensor([2, 3, 9, 7], 1);
  const CASES: [string, number, ResizeInputs, Record<string, AttrInput>][] = [
    ['nearest ×2 (FPN upsampling), asymmetric floor', 13, { scales: [1, 1, 2, 2] }, { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }],
    ['nearest sizes, half_pixel round_prefer_floor', 13, { sizes: [2, 3, 13, 4] }, { mode: 'nearest' }],
    ['linear half_pixel upsample 1.7×2.3', 13, { scales: [1, 1, 1.7, 2.3] }, { mode: 'linear' }],
    ['linear half_pixel downsample to 4×3', 13, { sizes: [2, 3, 4, 3] }, { mode: 'linear' }],
    ['linear align_corners', 13, { sizes: [2, 3, 5, 11] }, { mode: 'linear', coordinate_transformation_mode: 'align_corners' }],
    ['linear pytorch_half_pixel', 13, { sizes: [2, 3, 16, 5] }, { mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' }],
    ['cubic half_pixel', 13, { sizes: [2, 3, 12, 15] }, { mode: 'cubic' }],
    ['cubic A=-0.5 exclude_outside, downsample', 13, { scales: [1, 1, 0.5, 0.7] }, { mode: 'cubic', cubic_coeff_a: -0.5, exclude_outside: 1 }],
    ['cubic asymmetric', 13, { scales: [1, 1, 1.5, 2] }, { mode: 'cubic', coordinate_transformation_mode: 'asymmetric' }],
    ['tf_crop_and_resize with extrapolation', 13, { roi: [0, 0, -0.2, 0.1, 1, 1, 0.9, 1.3], sizes: [2, 3, 6, 6] },
      { mode: 'linear', coordinate_transformation_mode: 'tf_crop_and_resize', extrapolation_value: -3.5 }],
    // round_prefer_ceil: the channel axis (scale 1) must stay as it is, not shift by half a cell
    ['nearest tf_half_pixel_for_nn', 11, { roi: [], scales: [], sizes: [2, 3, 5, 4] }, { mode: 'nearest', coordinate_transformation_mode: 'tf_half_pixel_for_nn', nearest_mode: 'round_prefer_ceil' }],
    ['nearest tf_crop_and_resize with extrapolation', 13, { roi: [0, 0, -0.2, 0.1, 1, 1, 0.9, 1.3], sizes: [2, 3, 6, 5] },
      { mode: 'nearest', coordinate_transformation_mode: 'tf_crop_and_resize', extrapolation_value: -3.5 }],
    ['linear with axes [3] (opset 18)', 18, { sizes: [10] }, { mode: 'linear', axes: [-1] }],
    ['Resize-10 nearest upsample (floor)', 10, { scales: [1, 1, 2.5, 1.5] }, { mode: 'nearest' }],
    ['Resize-10 nearest downsample (ceil)', 10, { scales: [1, 1, 0.6, 0.5] }, { mode: 'nearest' }],
    ['Resize-10 linear', 10, { scales: [1, 1, 2, 0.5] }, { mode: 'linear' }],
  ];
  for (const [what, opset, ins, attrs] of CASES) {
    it(what, async () => {
      const { model, feeds } = resizeModel(x, ins, attrs, opset);
      await checkAgainstOrt(model, feeds, { rtol: 1e-5, atol: 1e-6 });
    });
  }

  it('Upsample-9 linear and nearest', async () => {
    for (const mode of ['linear', 'nearest']) {
      const { model, feeds } = resizeModel(x, { scales: [1, 1, 2, 3] }, { mode }, 9, 'Upsample');
      await checkAgainstOrt(model, feeds, { rtol: 1e-5, atol: 1e-6 });
    }
  });

  it('Upsample-7 (scales as an attribute)', async () => {
    const b = new GraphBuilder();
    b.input('x', 'float32', [...x.dims]);
    b.node('Upsample', ['x'], { mode: 'nearest', scales: [1, 1, 2, 1.5] }, { outputs: ['y'] });
    b.output('y');
    await checkAgainstOrt(b.model(7), { x }, { rtol: 0, atol: 0 });
  });

  it('nearest on int32 data, rank 3 and rank 5', async () => {
    const ints = new Tensor('int32', Int32Array.from(randomData(60, 2, -100, 100), Math.round), [3, 4, 5]);
    await checkAgainstOrt(resizeModel(ints, { scales: [1, 2, 1.5] }, { mode: 'nearest' }, 13).model, { x: ints }, { rtol: 0, atol: 0 });
    const x5 = randomTensor([1, 2, 3, 4, 5], 3);
    await checkAgainstOrt(resizeModel(x5, { sizes: [1, 2, 5, 2, 7] }, { mode: 'linear' }, 13).model, { x: x5 });
  });
});

describe('Resize: a seeded sweep of 80 random cases vs onnxruntime-node', () => {
  // Every mode, nearest rounding and cubic setting; coordinate modes whose output length onnxruntime and the
  // reference agree on (align_corners, tf_crop_and_resize and pytorch_half_pixel by sizes); no axis left at its
  // length, no cubic output of length 1 under pytorch_half_pixel (see the header for why).
  it('all equal', async () => {
    const r = rng(7), ri = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
    const pick = <T,>(a: readonly T[]) => a[ri(0, a.length - 1)]!;
    for (let t = 0, done = 0; done < 80; t++) {
      const dims = [ri(1, 2), ri(1, 2), ri(1, 7), ri(1, 7)];
      const mode = pick(['nearest', 'linear', 'cubic']);
      const coord = pick(['half_pixel', 'align_corners', 'asymmetric', 'pytorch_half_pixel', 'tf_crop_and_resize']);
      const attrs: Record<string, AttrInput> = { mode, coordinate_transformation_mode: coord };
      if (mode === 'nearest') attrs['nearest_mode'] = pick(['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil']);
      if (mode === 'cubic') Object.assign(attrs, { cubic_coeff_a: pick([-0.75, -0.5]), exclude_outside: ri(0, 1) });
      if (coord === 'tf_crop_and_resize') attrs['extrapolation_value'] = 2.5;
      const bySizes = r() < 0.5 || ['tf_crop_and_resize', 'align_corners', 'pytorch_half_pixel'].includes(coord);
      const scales = dims.map((_, i) => (i < 2 ? 1 : pick([0.5, 0.75, 1.5, 2, 2.5, 3])));
      const sizes = dims.map((d, i) => (i < 2 ? d : ri(1, 10)));
      const out = bySizes ? sizes : dims.map((d, i) => Math.floor(scales[i]! * d));
      if (dims.some((d, i) => i >= 2 && out[i] === d) || (mode === 'cubic' && coord === 'pytorch_half_pixel' && out.includes(1))) continue;
      done++;
      const roi = coord === 'tf_crop_and_resize' ? [0, 0, r() * 0.6 - 0.1, r() * 0.6 - 0.1, 1, 1, 0.5 + r() * 0.6, 0.5 + r() * 0.6] : undefined;
      const { model, feeds } = resizeModel(randomTensor(dims, t), bySizes ? { roi, sizes } : { roi, scales }, attrs, 13);
      const want = (await runOrt(model, feeds)).y!;
      expectClose((await runOcellus(model, feeds, true)).outputs['y'], want, { rtol: 1e-5, atol: 1e-5 }, `case ${t} ${JSON.stringify({ dims, attrs, sizes: bySizes ? sizes : undefined, scales: bySizes ? undefined : scales })}`);
    }
  });
});

describe('Resize in an exported graph', () => {
  it('sizes computed from the input shape (Shape→Slice→Mul→Concat) fold when planning; batch 1 and 2 share the session', async () => {
    const b = new GraphBuilder();
    b.input('x', 'float32', ['batch', 3, 5, 6]);
    const shape = b.op('Shape', ['x']);
    const int64 = (name: string, v: number[]) => b.init(name, constTensor('int64', [v.length], v));
    const head = b.op('Slice', [shape, int64('s0', [0]), int64('e0', [2])]);
    const hw = b.op('Mul', [b.op('Slice', [shape, int64('s1', [2]), int64('e1', [4])]), int64('two', [2, 2])]);
    const sizes = b.op('Concat', [head, hw], { axis: 0 });
    b.node('Resize', ['x', '', '', sizes], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }, { outputs: ['y'] });
    b.output('y');
    const session = await InferenceSession.create(b.model(13), { checkShapes: true });
    try {
      for (const batch of [1, 2]) {
        const x = randomTensor([batch, 3, 5, 6], 5 + batch);
        expect(session.plan({ x }).steps.map(st => st.node.opType)).toEqual(['Resize']);
        const { y } = await session.run({ x });
        expect([...y!.dims]).toEqual([batch, 3, 10, 12]);
        const xd = x.data as Float32Array, yd = y!.data as Float32Array;
        // ×2 nearest with asymmetric floor is each input cell repeated 2×2.
        yd.forEach((v, i) => expect(v).toBe(xd[Math.floor(i / 120) * 30 + Math.floor((i % 120) / 24) * 6 + Math.floor((i % 12) / 2)]));
      }
    } finally {
      await session.release();
    }
  });
});

describe('Resize rejections name the node and the problem', () => {
  const x = randomTensor([1, 1, 4, 4], 4);
  const rejects = (m: ReturnType<typeof resizeModel>, re: RegExp) => expect(InferenceSession.create(m.model)).rejects.toThrow(re);

  it('scales and sizes both given', () => rejects(resizeModel(x, { scales: [1, 1, 2, 2], sizes: [1, 1, 8, 8] }, {}, 13), /Resize 'resize' \(opset 13\): scales and sizes are both given/));
  it('antialias before opset 18', () => rejects(resizeModel(x, { scales: [1, 1, 2, 2] }, { antialias: 1 }, 13), /attribute 'antialias' needs opset 18/));
  it('half_pixel_symmetric before opset 19', () => rejects(resizeModel(x, { scales: [1, 1, 2, 2] }, { coordinate_transformation_mode: 'half_pixel_symmetric' }, 18),
    /coordinate_transformation_mode 'half_pixel_symmetric' is not one of .* at opset 18/));
  it('scales of the wrong length', () => rejects(resizeModel(x, { scales: [2, 2] }, {}, 13), /scales has 2 values, expected 4/));
  it('linear on int32', () => {
    const ints = new Tensor('int32', new Int32Array(16), [1, 1, 4, 4]);
    return rejects(resizeModel(ints, { scales: [1, 1, 2, 2] }, { mode: 'linear' }, 13), /input X is int32: linear resizing takes float tensors/);
  });
});
