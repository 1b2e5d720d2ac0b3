// kernels/wasm/module.ts: the kernel families assembled into one module, functions exported by name in family
// order, calls between families resolved by name. Read from the module's bytes (its export section), so no engine
// with relaxed SIMD is needed.

import { describe, expect, it } from 'vitest';
import { FunctionBuilder } from '../../kernels/wasm/emit.js';
import { KERNEL_FAMILIES, kernelModuleBytes, type KernelFamily } from '../../kernels/wasm/module.js';

/** The body of section `want` of a module (sections walked by their lengths). */
function section(bytes: Uint8Array, want: number): Uint8Array {
  let at = 8;
  const uleb = () => { let n = 0, shift = 0, b: number; do { b = bytes[at++]!; n += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80); return n; };
  while (at < bytes.length) {
    const id = bytes[at++]!, size = uleb();
    if (id === want) return bytes.subarray(at, at + size);
    at += size;
  }
  throw new Error(`no section ${want}`);
}

/** The export names of a module, in order, from its bytes. */
function exportNames(bytes: Uint8Array): string[] {
  let at = 8;
  const uleb = () => { let n = 0, shift = 0, b: number; do { b = bytes[at++]!; n += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80); return n; };
  while (at < bytes.length) {
    const id = bytes[at++]!, size = uleb(), end = at + size;
    if (id === 7) {
      const names: string[] = [];
      for (let i = 0, n = uleb(); i < n; i++) {
        const len = uleb();
        names.push(new TextDecoder().decode(bytes.subarray(at, at + len)));
        at += len;
        expect(bytes[at++]).toBe(0);   // a function export
        expect(uleb()).toBe(i);        // function i, in order
      }
      return names;
    }
    at = end;
  }
  throw new Error('no export section');
}

const memory = { shared: false, initialPages: 1 };

describe('kernelModuleBytes', () => {
  it('exports every family\'s functions by name, GEMM first, then conv, Winograd, transformer, depthwise', () => {
    const names = exportNames(kernelModuleBytes(memory));
    expect(names).toEqual(KERNEL_FAMILIES.flatMap(f => f.names));
    expect(names.slice(0, 9)).toEqual(['micro', 'block', 'dense', 'pack', 'conv', 'winograd', 'softmax', 'attention', 'layernorm']);
    // what gemm.ts, depthwise.ts and the worker pool call by name
    for (const fn of ['dense', 'conv', 'winograd', 'attention', 'layernorm', 'depthwise', 'grouped']) expect(names).toContain(fn);
    expect(new Set(names).size).toBe(names.length);
  });

  it('resolves calls by name wherever the callee sits: a family calling dense gets dense\'s index in this assembly', () => {
    const caller = (at: (n: string) => number) => {
      const f = new FunctionBuilder('caller', {});
      f.i32(at('dense'));   // the index as a constant, to read it back from the bytes
      f.raw(0x1a);          // drop
      return f;
    };
    const probe: KernelFamily = { names: ['caller'], build: at => [caller(at)] };
    const fams = [probe, ...KERNEL_FAMILIES];
    const bytes = kernelModuleBytes(memory, fams);
    const names = exportNames(bytes);
    expect(names.indexOf('dense')).toBe(3);
    // the caller's body is the code section's first function: locals (0), i32.const 3, drop, end
    const code = [0x00, 0x41, 3, 0x1a, 0x0b];
    const codeSection = section(bytes, 10);
    // the code section: the function count (16: one byte), then per function its size and body
    expect(codeSection[0]).toBe(fams.flatMap(f => f.names).length);
    expect(codeSection[1]).toBe(code.length);
    expect(Array.from(codeSection.subarray(2, 2 + code.length))).toEqual(code);
  });

  it('refuses a call to a function no family declares, and a family that builds other functions than it declares', () => {
    const stray: KernelFamily = { names: ['stray'], build: at => { at('nope'); return [new FunctionBuilder('stray', {})]; } };
    expect(() => kernelModuleBytes(memory, [...KERNEL_FAMILIES, stray])).toThrow(/no function 'nope' \(have micro, block, dense, pack, conv,/);
    const liar: KernelFamily = { names: ['a'], build: () => [new FunctionBuilder('b', {})] };
    expect(() => kernelModuleBytes(memory, [liar])).toThrow(/built b but declared a/);
  });
});
