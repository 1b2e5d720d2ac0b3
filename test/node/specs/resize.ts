import type { NodeSpec } from '../../helpers/node-suite.js';

export const spec: NodeSpec = {
  family: 'resize',
  run: [
    'test_resize_downsample_scales_cubic',
    'test_resize_downsample_scales_cubic_A_n0p5_exclude_outside',
    'test_resize_downsample_scales_cubic_align_corners',
    'test_resize_downsample_scales_linear',
    'test_resize_downsample_scales_linear_align_corners',
    'test_resize_downsample_scales_nearest',
    'test_resize_downsample_sizes_cubic',
    'test_resize_downsample_sizes_linear_pytorch_half_pixel',
    'test_resize_downsample_sizes_nearest',
    'test_resize_downsample_sizes_nearest_tf_half_pixel_for_nn',
    'test_resize_tf_crop_and_resize',
    'test_resize_upsample_scales_cubic',
    'test_resize_upsample_scales_cubic_A_n0p5_exclude_outside',
    'test_resize_upsample_scales_cubic_align_corners',
    'test_resize_upsample_scales_cubic_asymmetric',
    'test_resize_upsample_scales_linear',
    'test_resize_upsample_scales_linear_align_corners',
    'test_resize_upsample_scales_nearest',
    'test_resize_upsample_sizes_cubic',
    'test_resize_upsample_sizes_nearest',
    'test_resize_upsample_sizes_nearest_ceil_half_pixel',
    'test_resize_upsample_sizes_nearest_floor_align_corners',
    'test_resize_upsample_sizes_nearest_round_prefer_ceil_asymmetric',
    'test_upsample_nearest',
  ],
  skip: {},
  // The expected outputs are float32 roundings of the reference's float64 values: ours round the same way.
  tol: { rtol: 1e-6, atol: 1e-6 },
};
