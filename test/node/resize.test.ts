import { nodeSuite } from '../helpers/node-suite.js';
import { spec } from './specs/resize.js';

nodeSuite(spec);
