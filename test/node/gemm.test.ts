import { nodeSuite } from '../helpers/node-suite.js';
import { spec } from './specs/gemm.js';

nodeSuite(spec);
