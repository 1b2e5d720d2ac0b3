import type { NodeSpec } from '../../helpers/node-suite.js';

export const spec: NodeSpec = {
  family: 'pool',
  run: [],
  skip: {},
};
