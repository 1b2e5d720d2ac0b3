// pool operators (to be filled in).

import type { OpDef } from './types.js';

export const POOL_OPS: OpDef<any>[] = [];
