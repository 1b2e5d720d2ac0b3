// shape operators (to be filled in).

import type { OpDef } from './types.js';

export const SHAPE_OPS: OpDef<any>[] = [];
