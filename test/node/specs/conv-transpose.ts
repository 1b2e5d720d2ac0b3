import type { NodeSpec } from '../../helpers/node-suite.js';

export const spec: NodeSpec = {
  family: 'conv-transpose',
  run: [
    'test_convtranspose',
    'test_convtranspose_1d',
    'test_convtranspose_3d',
    'test_convtranspose_autopad_same',
    'test_convtranspose_dilations',
    'test_convtranspose_kernel_shape',
    'test_convtranspose_output_shape',
    'test_convtranspose_pad',
    'test_convtranspose_pads',
    'test_convtranspose_with_kernel',
  ],
  skip: {},
};
