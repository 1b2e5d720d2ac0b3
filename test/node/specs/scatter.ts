import type { NodeSpec } from '../../helpers/node-suite.js';

export const spec: NodeSpec = {
  family: 'scatter',
  run: [
    'test_scatter_elements_with_axis',
    'test_scatter_elements_with_duplicate_indices',
    'test_scatter_elements_with_negative_indices',
    'test_scatter_elements_without_axis',
    'test_scatter_with_axis',
    'test_scatter_without_axis',
    'test_scatternd',
    'test_scatternd_add',
    'test_scatternd_multiply',
  ],
  skip: {},
};
