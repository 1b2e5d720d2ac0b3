// Bundles ocellus for edge runtimes with esbuild: the Worker (edge/worker.ts → out/worker.js, with the model
// files, the tfjs WASM binary and out/config.capnp beside it, for `npx workerd serve edge/out/config.capnp`)
// and the browser demo's script (edge/demo/demo.ts).
//   node edge/build.mjs [--entry edge/worker.ts] [--out edge/out] [--model-dir DIR]
//   node edge/build.mjs --demo-only DIR     the demo page alone (DIR/index.html + DIR/demo.js): `npm run build` writes
//                                           dist/demo, which `ocellus serve` serves from the installed package
// The model folder defaults to the bundled ResNet-50's (prepared on first use, as `ocellus classify` does).
//
// ocellus's own kernels are written out as ocellus-kernels.wasm for the Worker to import precompiled (Workers compile
// no WASM at run time); the browser demo compiles them in the page.
// Two things make the tfjs WASM backend bundle for Workers: its Emscripten factory is wrapped so that, when a
// precompiled WebAssembly.Module is set (edge/engine.ts useCompiledWasm), it is instantiated through the
// factory's `instantiateWasm` hook instead of fetching and compiling a .wasm file; and the threaded build
// (which needs Web Workers and SharedArrayBuffer) is left out.

import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const EDGE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(EDGE);
const require = createRequire(import.meta.url);
const WASM_DIST = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
const WASM_OUT = path.join(path.dirname(WASM_DIST), 'wasm-out');
const WASM_BINARY = 'tfjs-backend-wasm-simd.wasm';

/** Wraps the backend's single-threaded Emscripten factory with the instantiateWasm hook; stubs the threaded one. */
const tfjsWasmPlugin = {
  name: 'ocellus-tfjs-wasm',
  setup(build) {
    build.onResolve({ filter: /wasm-out\/tfjs-backend-wasm(-threaded-simd)?(\.worker)?\.js$/ }, args => {
      if (args.namespace === 'ocellus-wasm') return undefined;   // the wrapper's own import of the real factory
      const file = path.basename(args.path);
      return { path: file, namespace: 'ocellus-wasm' };
    });
    build.onLoad({ filter: /.*/, namespace: 'ocellus-wasm' }, args => {
      if (args.path === 'tfjs-backend-wasm.js') {
        return {
          resolveDir: WASM_OUT,
          contents: `
import * as real from ${JSON.stringify(path.join(WASM_OUT, 'tfjs-backend-wasm.js'))};
const factory = real.default || real;
export default function ocellusWasmFactory(config) {
  const module = globalThis.__ocellusWasmModule;
  if (module) {
    config.instantiateWasm = (imports, receive) => {
      WebAssembly.instantiate(module, imports).then(instance => receive(instance, module), e => config.onAbort && config.onAbort(e));
      return {};
    };
  }
  return factory(config);
}`,
        };
      }
      if (args.path.endsWith('.worker.js')) return { contents: 'export const wasmWorkerContents = "";' };
      return { contents: 'export default function () { throw new Error("ocellus edge bundle: the threaded tfjs WASM build is not included"); }' };
    });
  },
};

/** Module bindings of the workerd config stay imports; weights-tools (Node-only model preparation) is left out. */
const edgeExternalsPlugin = {
  name: 'ocellus-edge-externals',
  setup(build) {
    build.onResolve({ filter: /^\.\/(tfjs-backend-wasm-simd\.wasm|ocellus-kernels\.wasm|model\/.+)$/ }, args => ({ path: args.path, external: true }));
    build.onResolve({ filter: /weights-tools\// }, args => ({ path: args.path, external: true }));
    // Other node: modules are imported dynamically on Node-only paths (files, hub downloads): keep them out.
    build.onResolve({ filter: /^node:/ }, args => ({ path: args.path, external: true }));
  },
};

/** @cloudflare/ai@1.2.2 imports base64-js and mustache without declaring them; its Ai class uses neither. */
export const cloudflareAiShimPlugin = {
  name: 'ocellus-cloudflare-ai-shims',
  setup(build) {
    build.onResolve({ filter: /^(base64-js|mustache)$/ }, args => {
      try {
        return { path: require.resolve(args.path) };
      } catch {
        return { path: args.path, namespace: 'ocellus-missing' };
      }
    });
    build.onLoad({ filter: /.*/, namespace: 'ocellus-missing' }, args => ({
      contents: `const missing = () => { throw new Error(${JSON.stringify(`${args.path} is not installed`)}); };
export const toByteArray = missing, fromByteArray = missing, render = missing;
export default { toByteArray, fromByteArray, render };`,
    }));
  },
};

const COMMON = {
  bundle: true,
  format: 'esm',
  target: 'es2022',
  platform: 'browser',
  conditions: ['workerd', 'worker', 'browser'],
  logLevel: 'warning',
  legalComments: 'none',
  define: { 'process.env.NODE_ENV': '"production"' },
};

/** The demo page's script, as one ES module (for `ocellus serve`, which bundles it on first request). */
export async function buildDemoBundle({ minify = false } = {}) {
  const result = await esbuild.build({
    ...COMMON,
    entryPoints: [path.join(EDGE, 'demo', 'demo.ts')],
    write: false,
    minify,
    plugins: [tfjsWasmPlugin, edgeExternalsPlugin],
  });
  return result.outputFiles[0].text;
}

const KERNELS_BINARY = 'ocellus-kernels.wasm';

/** ocellus's own kernels module for an unshared heap (single-threaded builds), from kernels/wasm/gemm-module.ts. */
export async function kernelsModuleBytes() {
  const { tsImport } = await import('tsx/esm/api');
  const mod = await tsImport(pathToFileURL(path.join(ROOT, 'kernels', 'wasm', 'gemm-module.ts')).href, import.meta.url);
  return mod.gemmModuleBytes({ shared: false, initialPages: 1 });
}

/** Where the bundled default model lives (prepared through the pipeline's own code, run by tsx). */
export async function defaultModelDir() {
  if (process.env.OCELLUS_MODEL_DIR) return process.env.OCELLUS_MODEL_DIR;
  const { tsImport } = await import('tsx/esm/api');
  const tools = await tsImport(pathToFileURL(path.join(ROOT, 'src', 'model-tools.ts')).href, import.meta.url);
  tools.installModelTools();   // the default model's preparer, as the CLI registers it
  const mod = await tsImport(pathToFileURL(path.join(ROOT, 'src', 'pipeline', 'default-model.ts')).href, import.meta.url);
  const resolved = await mod.resolveDefaultModel({});
  return resolved.dir;
}

function place(src, dest) {
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.rmSync(dest, { force: true });
  try {
    fs.linkSync(src, dest);   // 100 MB of weights: a hard link where the file system allows
  } catch {
    fs.copyFileSync(src, dest);
  }
}

/**
 * Bundles a Worker entry into `outDir`/worker.js and lays out what edge/workerd.capnp embeds.
 * `cloudflareAi: true` also bundles @cloudflare/ai (for entries that use its Ai class, e.g. the binding test).
 */
export async function buildWorker({ entry = path.join(EDGE, 'worker.ts'), outDir = path.join(EDGE, 'out'), modelDir, cloudflareAi = false, minify = false } = {}) {
  const dir = modelDir ?? (await defaultModelDir());
  const files = { 'model/model.onnx': path.join(dir, 'onnx', 'model.onnx'), 'model/config.json': path.join(dir, 'config.json'), 'model/preprocessor_config.json': path.join(dir, 'preprocessor_config.json') };
  for (const f of Object.values(files)) if (!fs.existsSync(f)) throw new Error(`edge build: ${f} is missing (model folder ${dir})`);
  fs.mkdirSync(outDir, { recursive: true });
  const result = await esbuild.build({
    ...COMMON,
    entryPoints: [entry],
    outfile: path.join(outDir, 'worker.js'),
    minify,
    metafile: true,
    plugins: [tfjsWasmPlugin, edgeExternalsPlugin, ...(cloudflareAi ? [cloudflareAiShimPlugin] : [])],
  });
  for (const [name, src] of Object.entries(files)) place(src, path.join(outDir, name));
  place(path.join(WASM_DIST, WASM_BINARY), path.join(outDir, WASM_BINARY));
  fs.writeFileSync(path.join(outDir, KERNELS_BINARY), await kernelsModuleBytes());
  fs.copyFileSync(path.join(EDGE, 'workerd.capnp'), path.join(outDir, 'config.capnp'));
  const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
  return { outDir, config: path.join(outDir, 'config.capnp'), bundleBytes: bytes, modelDir: dir };
}

/** The demo page, ready to serve: `dir`/index.html and `dir`/demo.js (minified; no esbuild needed at run time). */
export async function writeDemo(dir) {
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(path.join(EDGE, 'demo', 'index.html'), path.join(dir, 'index.html'));
  fs.writeFileSync(path.join(dir, 'demo.js'), await buildDemoBundle({ minify: true }));
}

async function main(argv) {
  const opt = name => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  if (opt('--demo-only')) {
    await writeDemo(path.resolve(opt('--demo-only')));
    return;
  }
  const out = path.resolve(opt('--out') ?? path.join(EDGE, 'out'));
  const built = await buildWorker({ entry: opt('--entry') && path.resolve(opt('--entry')), outDir: out, modelDir: opt('--model-dir') });
  fs.mkdirSync(path.join(out, 'demo'), { recursive: true });
  fs.writeFileSync(path.join(out, 'demo', 'demo.js'), await buildDemoBundle());
  console.log(`worker: ${path.relative(process.cwd(), path.join(out, 'worker.js'))} (${(built.bundleBytes / 1024).toFixed(0)} KiB), model from ${built.modelDir}`);
  console.log(`run:    npx workerd serve ${path.relative(process.cwd(), built.config)} --socket-addr http=127.0.0.1:8787`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch(e => {
    console.error(`edge build: ${e.message}`);
    process.exitCode = 1;
  });
}
