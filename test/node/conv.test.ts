import { nodeSuite } from '../helpers/node-suite.js';
import { spec } from './specs/conv.js';

nodeSuite(spec);
