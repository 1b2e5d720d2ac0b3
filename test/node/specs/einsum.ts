import type { NodeSpec } from '../../helpers/node-suite.js';

export const spec: NodeSpec = {
  family: 'einsum',
  // The cases are float64, computed in float32.
  run: [
    'test_einsum_batch_diagonal',
    'test_einsum_batch_matmul',
    'test_einsum_inner_prod',
    'test_einsum_sum',
    'test_einsum_transpose',
  ],
  skip: {},
};
