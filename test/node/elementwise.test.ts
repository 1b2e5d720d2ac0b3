import { nodeSuite } from '../helpers/node-suite.js';
import { spec } from './specs/elementwise.js';

nodeSuite(spec);
