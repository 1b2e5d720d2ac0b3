import { nodeSuite } from '../helpers/node-suite.js';
import { spec } from './specs/pool.js';

nodeSuite(spec);
