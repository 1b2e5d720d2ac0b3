// gemm operators (to be filled in).

import type { OpDef } from './types.js';

export const GEMM_OPS: OpDef<any>[] = [];
