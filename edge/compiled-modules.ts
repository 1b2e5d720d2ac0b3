// Workers compile no WebAssembly at run time ("Wasm code generation disallowed by embedder"), yet ocellus's kernels
// write their modules as bytes and compile them when first needed (kernels/wasm: the float GEMM, the int8 kernels and
// the relaxed-SIMD probe). edge/build.mjs writes every such module out and the Worker imports them precompiled
// (CompiledWasm); serveCompiledModules() then answers `new WebAssembly.Module(bytes)` for those exact bytes with the
// precompiled module, found by fingerprint. Bytes the build did not foresee are compiled as usual (where allowed) or
// refused with an error that says so.

export interface CompiledModule {
  /** fingerprint() of the module's bytes, computed by the build. */
  fingerprint: string;
  module: WebAssembly.Module;
  name: string;
}

/** Length and two independent 32-bit hashes (FNV-1a, and a multiply-rotate one) of `bytes`: a key for a small set. */
export function fingerprint(bytes: Uint8Array): string {
  let a = 0x811c9dc5, b = 0x9e3779b9;
  for (let i = 0; i < bytes.length; i++) {
    a = Math.imul(a ^ bytes[i]!, 0x01000193);
    b = Math.imul((b ^ bytes[i]!) + i, 0x85ebca6b);
    b = (b << 13) | (b >>> 19);
  }
  return `${bytes.length}:${(a >>> 0).toString(16)}:${(b >>> 0).toString(16)}`;
}

function bytesOf(source: unknown): Uint8Array | undefined {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  return undefined;
}

/** Replaces WebAssembly.Module with a lookup of `modules` (falling back to compiling). Returns how many it holds. */
export function serveCompiledModules(modules: readonly CompiledModule[]): number {
  const Original = WebAssembly.Module;
  if ((Original as unknown as { ocellusAot?: boolean }).ocellusAot) return modules.length;
  const table = new Map(modules.map(m => [m.fingerprint, m.module]));
  function Module(this: unknown, source: BufferSource): WebAssembly.Module {
    const bytes = bytesOf(source);
    const known = bytes && table.get(fingerprint(bytes));
    if (known) return known;
    try {
      return new Original(source);
    } catch (e) {
      throw new Error(`WebAssembly.Module: ${bytes?.length ?? '?'} bytes that edge/build.mjs did not compile ahead of time, and ` +
        `this runtime compiles none (${(e as Error).message}); precompiled: ${modules.map(m => m.name).join(', ')}`, { cause: e });
    }
  }
  Module.prototype = Original.prototype;
  Object.assign(Module, { exports: Original.exports, imports: Original.imports, customSections: Original.customSections, ocellusAot: true });
  (WebAssembly as { Module: unknown }).Module = Module;
  return modules.length;
}
