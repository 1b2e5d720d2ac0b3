import { nodeSuite } from '../helpers/node-suite.js';
import { spec } from './specs/reduce.js';

nodeSuite(spec);
