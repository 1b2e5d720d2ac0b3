// Node tests of kernels/gemm.ts (local:FusedMatMul has no ONNX node test: see test/node/gemm.test.ts).

import type { NodeSpec } from '../../helpers/node-suite.js';

export const spec: NodeSpec = {
  family: 'gemm',
  run: [
    'test_gemm_all_attributes', 'test_gemm_alpha', 'test_gemm_beta', 'test_gemm_default_matrix_bias',
    'test_gemm_default_no_bias', 'test_gemm_default_scalar_bias', 'test_gemm_default_single_elem_vector_bias',
    'test_gemm_default_vector_bias', 'test_gemm_default_zero_bias', 'test_gemm_transposeA', 'test_gemm_transposeB',
    'test_matmul_2d', 'test_matmul_3d', 'test_matmul_4d',
  ],
  skip: {},
};
