import { spec as attention } from './attention.js';
import { spec as conv } from './conv.js';
import { spec as convTranspose } from './conv-transpose.js';
import { spec as einsum } from './einsum.js';
import { spec as elementwise } from './elementwise.js';
import { spec as gemm } from './gemm.js';
import { spec as norm } from './norm.js';
import { spec as pool } from './pool.js';
import { spec as quant } from './quant.js';
import { spec as reduce } from './reduce.js';
import { spec as resize } from './resize.js';
import { spec as scatter } from './scatter.js';
import { spec as shape } from './shape.js';

export const SPECS = [elementwise, conv, pool, norm, gemm, shape, reduce, attention, quant, scatter, einsum, resize, convTranspose];
