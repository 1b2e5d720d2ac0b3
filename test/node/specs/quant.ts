// Node tests of kernels/quant.ts (the fused local:DynQuantMatMul / local:NhwcDynQuantConv have no ONNX node test:
// see test/node/quant.test.ts and test/models/quantized-fixtures.test.ts). The _expanded variants spell
// DynamicQuantizeLinear with ReduceMin/ReduceMax/Div/Round/Clip/Cast and QuantizeLinear.

import type { NodeSpec } from '../../helpers/node-suite.js';

export const spec: NodeSpec = {
  family: 'quant',
  run: [
    'test_quantizelinear', 'test_quantizelinear_axis', 'test_dequantizelinear', 'test_dequantizelinear_axis',
    'test_dynamicquantizelinear', 'test_dynamicquantizelinear_max_adjusted', 'test_dynamicquantizelinear_min_adjusted',
    'test_dynamicquantizelinear_expanded', 'test_dynamicquantizelinear_max_adjusted_expanded',
    'test_dynamicquantizelinear_min_adjusted_expanded',
    'test_matmulinteger', 'test_basic_convinteger', 'test_convinteger_with_padding', 'test_convinteger_without_padding',
    'test_qlinearmatmul_2D', 'test_qlinearmatmul_3D', 'test_qlinearconv',
  ],
  skip: {},
};
