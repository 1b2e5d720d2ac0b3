// attention operators (to be filled in).

import type { OpDef } from './types.js';

export const ATTENTION_OPS: OpDef<any>[] = [];
