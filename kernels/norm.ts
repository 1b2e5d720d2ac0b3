// norm operators (to be filled in).

import type { OpDef } from './types.js';

export const NORM_OPS: OpDef<any>[] = [];
