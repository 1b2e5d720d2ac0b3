import { nodeSuite } from '../helpers/node-suite.js';
import { spec } from './specs/attention.js';

nodeSuite(spec);
