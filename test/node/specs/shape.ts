// Node tests of kernels/shape.ts. Shape-like inputs that node tests feed as graph inputs (Reshape's shape, Slice's
// starts…) are planned as constants through OpDef.dataDependent, so every such test runs.

import type { NodeSpec } from '../../helpers/node-suite.js';

export const spec: NodeSpec = {
  family: 'shape',
  run: [
    'test_concat_1d_axis_0', 'test_concat_1d_axis_negative_1', 'test_concat_2d_axis_0', 'test_concat_2d_axis_1',
    'test_concat_2d_axis_negative_1', 'test_concat_2d_axis_negative_2', 'test_concat_3d_axis_0',
    'test_concat_3d_axis_1', 'test_concat_3d_axis_2', 'test_concat_3d_axis_negative_1',
    'test_concat_3d_axis_negative_2', 'test_concat_3d_axis_negative_3', 'test_constant', 'test_constant_pad',
    'test_constantofshape_float_ones', 'test_constantofshape_int_shape_zero', 'test_constantofshape_int_zeros',
    'test_depthtospace_crd_mode', 'test_depthtospace_crd_mode_example', 'test_depthtospace_dcr_mode',
    'test_depthtospace_example', 'test_edge_pad', 'test_expand_dim_changed', 'test_expand_dim_unchanged',
    'test_flatten_axis0', 'test_flatten_axis1', 'test_flatten_axis2', 'test_flatten_axis3',
    'test_flatten_default_axis', 'test_flatten_negative_axis1', 'test_flatten_negative_axis2',
    'test_flatten_negative_axis3', 'test_flatten_negative_axis4', 'test_gather_0', 'test_gather_1',
    'test_gather_2d_indices', 'test_gather_elements_0', 'test_gather_elements_1',
    'test_gather_elements_negative_indices', 'test_gather_negative_indices', 'test_identity',
    'test_nonzero_example', 'test_range_float_type_positive_delta', 'test_range_int32_type_negative_delta',
    'test_reflect_pad', 'test_reshape_allowzero_reordered', 'test_reshape_extended_dims',
    'test_reshape_negative_dim', 'test_reshape_negative_extended_dims', 'test_reshape_one_dim',
    'test_reshape_reduced_dims', 'test_reshape_reordered_all_dims', 'test_reshape_reordered_last_dims',
    'test_reshape_zero_and_negative_dim', 'test_reshape_zero_dim', 'test_shape', 'test_shape_clip_end',
    'test_shape_clip_start', 'test_shape_end_1', 'test_shape_end_negative_1', 'test_shape_example',
    'test_shape_start_1', 'test_shape_start_1_end_2', 'test_shape_start_1_end_negative_1',
    'test_shape_start_negative_1', 'test_size', 'test_size_example', 'test_slice', 'test_slice_default_axes',
    'test_slice_default_steps', 'test_slice_end_out_of_bounds', 'test_slice_neg', 'test_slice_neg_steps',
    'test_slice_negative_axes', 'test_slice_start_out_of_bounds', 'test_spacetodepth', 'test_spacetodepth_example',
    'test_split_equal_parts_1d', 'test_split_equal_parts_2d', 'test_split_equal_parts_default_axis',
    'test_split_variable_parts_1d', 'test_split_variable_parts_2d', 'test_split_variable_parts_default_axis',
    'test_split_zero_size_splits', 'test_squeeze', 'test_squeeze_negative_axes', 'test_tile',
    'test_tile_precomputed', 'test_transpose_all_permutations_0', 'test_transpose_all_permutations_1',
    'test_transpose_all_permutations_2', 'test_transpose_all_permutations_3', 'test_transpose_all_permutations_4',
    'test_transpose_all_permutations_5', 'test_transpose_default', 'test_tril', 'test_tril_neg',
    'test_tril_one_row_neg', 'test_tril_out_neg', 'test_tril_out_pos', 'test_tril_pos', 'test_tril_square',
    'test_tril_square_neg', 'test_tril_zero', 'test_triu', 'test_triu_neg', 'test_triu_one_row',
    'test_triu_out_neg_out', 'test_triu_out_pos', 'test_triu_pos', 'test_triu_square', 'test_triu_square_neg',
    'test_triu_zero', 'test_unsqueeze_axis_0', 'test_unsqueeze_axis_1', 'test_unsqueeze_axis_2',
    'test_unsqueeze_axis_3', 'test_unsqueeze_negative_axes', 'test_unsqueeze_three_axes',
    'test_unsqueeze_two_axes', 'test_unsqueeze_unsorted_axes',
    // Window functions expanded to Range + elementwise maths: Range's limit is computed from the `size` input,
    // which the session plans as a constant (its value reaches a dataDependent input).
    'test_blackmanwindow_expanded', 'test_blackmanwindow_symmetric_expanded', 'test_hammingwindow_expanded',
    'test_hammingwindow_symmetric_expanded', 'test_hannwindow_expanded', 'test_hannwindow_symmetric_expanded',
    'test_dropout_default', 'test_dropout_default_mask', 'test_dropout_default_mask_ratio', 'test_dropout_default_old',
    'test_dropout_default_ratio', 'test_dropout_random_old',
    // training_mode=true with ratio 0 is the identity (torchvision's Swin exports it): accepted.
    'test_training_dropout_zero_ratio', 'test_training_dropout_zero_ratio_mask',
  ],
  skip: Object.fromEntries([
    'test_training_dropout', 'test_training_dropout_default', 'test_training_dropout_default_mask', 'test_training_dropout_mask',
  ].map(t => [t, 'training_mode=true draws random masks: training only; refused at plan time (shape.test.ts)'])),
};
