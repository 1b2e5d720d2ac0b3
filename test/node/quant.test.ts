import { nodeSuite } from '../helpers/node-suite.js';
import { spec } from './specs/quant.js';

nodeSuite(spec);
