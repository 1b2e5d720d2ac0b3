import type { NodeSpec } from '../../helpers/node-suite.js';

const LAYER_NORM = [
  '2d_axis0', '2d_axis1', '2d_axis_negative_1', '2d_axis_negative_2',
  '3d_axis0_epsilon', '3d_axis1_epsilon', '3d_axis2_epsilon', '3d_axis_negative_1_epsilon', '3d_axis_negative_2_epsilon', '3d_axis_negative_3_epsilon',
  '4d_axis0', '4d_axis1', '4d_axis2', '4d_axis3', '4d_axis_negative_1', '4d_axis_negative_2', '4d_axis_negative_3', '4d_axis_negative_4',
  'default_axis',
].map(s => `test_layer_normalization_${s}`);

export const spec: NodeSpec = {
  family: 'norm',
  run: [
    'test_batchnorm_epsilon',
    'test_batchnorm_example',
    'test_instancenorm_epsilon',
    'test_instancenorm_example',
    ...LAYER_NORM,
  ],
  skip: {
    test_batchnorm_epsilon_training_mode: 'training_mode=1 is rejected at load: ocellus is inference-only (tested in test/node/norm.test.ts)',
    test_batchnorm_example_training_mode: 'training_mode=1 is rejected at load: ocellus is inference-only (tested in test/node/norm.test.ts)',
  },
};
