import { nodeSuite } from '../helpers/node-suite.js';
import { spec } from './specs/norm.js';

nodeSuite(spec);
