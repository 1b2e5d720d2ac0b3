import type { NodeSpec } from '../../helpers/node-suite.js';

// ONNX 1.12 has only 2-D, group-1 Conv node tests; grouped, depthwise, dilated, 1-D and NHWC convs are checked
// against onnxruntime-node in test/node/conv.test.ts.
export const spec: NodeSpec = {
  family: 'conv',
  run: [
    'test_basic_conv_with_padding',
    'test_basic_conv_without_padding',
    'test_conv_with_autopad_same',
    'test_conv_with_strides_and_asymmetric_padding',
    'test_conv_with_strides_no_padding',
    'test_conv_with_strides_padding',
  ],
  skip: {},
};
