// The Worker's stand-in for compiling WebAssembly (edge/compiled-modules.ts): bytes the build compiled ahead of time
// get their precompiled module back; other bytes compile as usual, or — where the runtime compiles none, as in
// Workers (simulated here by a WebAssembly.Module that always throws) — are refused with an error that says so.

import { afterEach, describe, expect, it } from 'vitest';
import { fingerprint, serveCompiledModules } from '../../edge/compiled-modules.js';
import { relaxedDotProbeBytes } from '../../kernels/wasm/int8-module.js';

const Original = WebAssembly.Module;
afterEach(() => { (WebAssembly as { Module: unknown }).Module = Original; });

/** The smallest valid module (magic and version), and one with an empty custom section named `name`. */
const EMPTY = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
const withName = (name: string) => new Uint8Array([...EMPTY, 0x00, name.length + 1, name.length, ...new TextEncoder().encode(name)]);

describe('fingerprint', () => {
  it('tells apart bytes of the same length and is stable for equal bytes in any buffer', () => {
    expect(fingerprint(withName('ab'))).not.toBe(fingerprint(withName('ba')));
    const probe = relaxedDotProbeBytes();
    const copy = new Uint8Array(probe.length + 7).subarray(3, 3 + probe.length);
    copy.set(probe);
    expect(fingerprint(copy)).toBe(fingerprint(probe));
    expect(fingerprint(probe)).toMatch(new RegExp(`^${probe.length}:[0-9a-f]+:[0-9a-f]+$`));
  });
});

describe('serveCompiledModules', () => {
  it('answers the build\'s bytes with the precompiled module (any view of them), compiles others, keeps instanceof and the statics', () => {
    const bytes = withName('ocellus');
    const module = new Original(bytes);
    serveCompiledModules([{ name: 'test.wasm', fingerprint: fingerprint(bytes), module }]);
    expect(new WebAssembly.Module(bytes.slice())).toBe(module);
    expect(new WebAssembly.Module(bytes.slice().buffer)).toBe(module);
    const other = new WebAssembly.Module(withName('other'));
    expect(other).not.toBe(module);
    expect(other).toBeInstanceOf(WebAssembly.Module);
    expect(module).toBeInstanceOf(WebAssembly.Module);
    expect(WebAssembly.Module.customSections(other, 'other')).toHaveLength(1);
    expect(new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports).toEqual({});
  });

  it('where nothing compiles at run time, refuses unforeseen bytes by saying what was precompiled', () => {
    const bytes = withName('ocellus');
    const module = new Original(bytes);
    (WebAssembly as { Module: unknown }).Module = function () { throw new Error('Wasm code generation disallowed by embedder'); };
    serveCompiledModules([{ name: 'ocellus-int8.wasm', fingerprint: fingerprint(bytes), module }]);
    expect(new WebAssembly.Module(bytes)).toBe(module);
    expect(() => new WebAssembly.Module(withName('x'))).toThrow(/12 bytes that edge\/build\.mjs did not compile ahead of time.*disallowed by embedder.*precompiled: ocellus-int8\.wasm/);
  });
});
