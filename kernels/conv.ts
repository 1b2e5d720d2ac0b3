// conv operators (to be filled in).

import type { OpDef } from './types.js';

export const CONV_OPS: OpDef<any>[] = [];
