import { nodeSuite } from '../helpers/node-suite.js';
import { spec } from './specs/shape.js';

nodeSuite(spec);
