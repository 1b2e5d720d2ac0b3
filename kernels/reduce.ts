// reduce operators (to be filled in).

import type { OpDef } from './types.js';

export const REDUCE_OPS: OpDef<any>[] = [];
