// quant operators (to be filled in).

import type { OpDef } from './types.js';

export const QUANT_OPS: OpDef<any>[] = [];
