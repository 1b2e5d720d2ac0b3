import type { NodeSpec } from '../../helpers/node-suite.js';

export const spec: NodeSpec = {
  family: 'elementwise',
  run: ['test_relu', 'test_add', 'test_add_bcast'],
  skip: {},
};
