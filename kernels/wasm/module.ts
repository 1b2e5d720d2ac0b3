// ocellus's float32 kernels module: the kernel families, each adding its functions, assembled into one WebAssembly
// module that imports the tfjs WASM heap's memory (gemm.ts instantiates it; the worker pool and edge/aot-modules.ts
// take the same bytes). Functions call each other and are exported by name; their indices follow from the order
// below and are looked up by name (FunctionIndex) while building, so no caller depends on them.

import { wasmModule, type FunctionBuilder, type MemoryImport } from './emit.js';
import { convKernels } from './conv-kernels.js';
import { depthwiseFunctions, DW_UNROLLED } from './depthwise-module.js';
import { gemmKernels, NR, RELU } from './gemm-kernels.js';
import { transformerKernels } from './transformer-kernels.js';
import { winogradKernels } from './winograd-kernels.js';

/** A function's index in the assembled module, by its export name. */
export type FunctionIndex = (name: string) => number;

/** A kernel family: the names of its functions, in order, and their builders (given every function's index). */
export interface KernelFamily {
  readonly names: readonly string[];
  build(at: FunctionIndex): FunctionBuilder[];
}

/** Depthwise and grouped convolutions (depthwise-module.ts; grouped calls the GEMM family's block). */
const depthwiseKernels: KernelFamily = {
  names: ['depthwise', 'grouped', ...DW_UNROLLED.map(([kh, kw]) => `depthwise${kh}x${kw}`), 'depthwiseAny'],
  build: at => depthwiseFunctions(at('depthwise'), { block: at('block'), nr: NR, relu: RELU }),
};

/** The families in module order. */
export const KERNEL_FAMILIES: readonly KernelFamily[] = [gemmKernels, convKernels, winogradKernels, transformerKernels, depthwiseKernels];

/** The module's bytes for a heap of this kind, with every family's functions (exported by name). */
export function kernelModuleBytes(memory: MemoryImport, families: readonly KernelFamily[] = KERNEL_FAMILIES): Uint8Array<ArrayBuffer> {
  const names = families.flatMap(f => f.names);
  const at: FunctionIndex = name => {
    const i = names.indexOf(name);
    if (i < 0) throw new Error(`kernels module: no function '${name}' (have ${names.join(', ')})`);
    return i;
  };
  const fns = families.flatMap(f => f.build(at));
  const built = fns.map(f => f.name);
  if (built.join() !== names.join()) throw new Error(`kernels module: families built ${built.join(', ')} but declared ${names.join(', ')}`);
  return wasmModule(fns, memory);
}
