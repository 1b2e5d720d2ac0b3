// Bundles ocellus for edge runtimes with esbuild: the Worker (edge/worker.ts → out/worker.js, the two precompiled
// WASM modules beside it, the model under out/assets/, and out/config.capnp for local workerd) and the browser demo's
// script (edge/demo/demo.ts).
//   node edge/build.mjs [--fp32] [--no-minify] [--entry edge/worker.ts] [--out edge/out] [--model-dir DIR]
//   node edge/build.mjs --demo-only DIR     the demo page alone (DIR/index.html + DIR/demo.js): `npm run build` writes
//                                           dist/demo, which `ocellus serve` serves from the installed package
// Then `npx wrangler deploy -c edge/wrangler.jsonc` deploys out/ to Cloudflare as is, or
// `npx workerd serve edge/out/config.capnp` runs it locally.
// The model is the int8 twin of the bundled ResNet-50 (onnx/model_quantized.onnx, made on first use by the same code
// as `ocellus quantize`); --fp32 takes the float model (local use: it does not fit Cloudflare's 128 MB). It is a static
// asset, in parts of at most 25 MiB where it is larger (edge/model-assets.ts); its manifest and configs are compiled
// into the script as the module 'ocellus:edge-model'.
//
// ocellus's own kernels' modules (float GEMM, int8, the relaxed-SIMD probe) are written out as .wasm files for the
// Worker to import precompiled (Workers compile no WASM at run time: edge/compiled-modules.ts); the browser demo
// compiles them in the page.
// Two things make the tfjs WASM backend bundle for Workers: its Emscripten factory is wrapped so that, when a
// precompiled WebAssembly.Module is set (edge/engine.ts useCompiledWasm), it is instantiated through the
// factory's `instantiateWasm` hook instead of fetching and compiling a .wasm file; and the threaded build
// (which needs Web Workers and SharedArrayBuffer) is left out.

import * as esbuild from 'esbuild';
import fs from 'node:fs';
import zlib from 'node:zlib';
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
    build.onResolve({ filter: /^\.\/[\w-]+\.wasm$/ }, args => ({ path: args.path, external: true }));
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

/** The modules ocellus's kernels compile at run time, as bytes (edge/aot-modules.ts): the Worker imports them precompiled. */
async function aheadOfTimeModules() {
  const { tsImport } = await import('tsx/esm/api');
  const mod = await tsImport(pathToFileURL(path.join(EDGE, 'aot-modules.ts')).href, import.meta.url);
  return mod.aheadOfTimeModules();
}

/** The 'ocellus:edge-wasm' module: each precompiled module (a CompiledWasm import) with its bytes' fingerprint. */
function edgeWasmPlugin(aot) {
  return {
    name: 'ocellus-edge-wasm',
    setup(build) {
      build.onResolve({ filter: /^ocellus:edge-wasm$/ }, () => ({ path: 'edge-wasm', namespace: 'ocellus-edge-wasm' }));
      build.onLoad({ filter: /.*/, namespace: 'ocellus-edge-wasm' }, () => ({
        resolveDir: EDGE,
        contents: aot.map((m, i) => `import m${i} from ${JSON.stringify(`./${m.name}`)};`).join('\n') +
          `\nexport const compiled = [${aot.map((m, i) => `{ name: ${JSON.stringify(m.name)}, fingerprint: ${JSON.stringify(m.fingerprint)}, module: m${i} }`).join(', ')}];`,
      }));
    },
  };
}

/** The model files for the Worker (edge/prepare-model.ts, run by tsx: the int8 twin is made on first use). */
async function prepareTools() {
  const { tsImport } = await import('tsx/esm/api');
  return tsImport(pathToFileURL(path.join(EDGE, 'prepare-model.ts')).href, import.meta.url);
}

function place(src, dest) {
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.rmSync(dest, { force: true });
  try {
    fs.linkSync(src, dest);   // 25–100 MB of weights: a hard link where the file system allows
  } catch {
    fs.copyFileSync(src, dest);
  }
}

/** Writes the ONNX file under `assetsDir`/model/: whole when it fits one asset, else in parts. → the manifest. */
function writeModelAssets(tools, files, assetsDir) {
  const name = path.basename(files.onnx);
  const bytes = fs.statSync(files.onnx).size;
  const sizes = tools.partSizes(bytes);
  const parts = [];
  if (sizes.length === 1) {
    place(files.onnx, path.join(assetsDir, 'model', name));
    parts.push({ path: `/model/${name}`, bytes });
  } else {
    const fd = fs.openSync(files.onnx, 'r');
    try {
      let at = 0;
      sizes.forEach((size, i) => {
        const buf = Buffer.alloc(size);
        if (fs.readSync(fd, buf, 0, size, at) !== size) throw new Error(`edge build: ${files.onnx} changed while it was read`);
        const rel = `model/${name}.part${i}`;
        fs.mkdirSync(path.join(assetsDir, 'model'), { recursive: true });
        fs.writeFileSync(path.join(assetsDir, rel), buf);
        parts.push({ path: `/${rel}`, bytes: size });
        at += size;
      });
    } finally {
      fs.closeSync(fd);
    }
  }
  return { id: files.id, dtype: files.dtype, bytes, parts };
}

/** The 'ocellus:edge-model' module: the manifest and the two configs, compiled into the script. */
function edgeModelPlugin(manifest, files) {
  const json = f => JSON.stringify(JSON.parse(fs.readFileSync(f, 'utf8')));
  return {
    name: 'ocellus-edge-model',
    setup(build) {
      build.onResolve({ filter: /^ocellus:edge-model$/ }, () => ({ path: 'edge-model', namespace: 'ocellus-edge-model' }));
      build.onLoad({ filter: /.*/, namespace: 'ocellus-edge-model' }, () => ({
        contents: `export const manifest = ${JSON.stringify(manifest)};
export const config = ${json(files.config)};
export const preprocessorConfig = ${json(files.preprocessorConfig)};`,
      }));
    },
  };
}

/** What Cloudflare counts as the Worker's size: the script and its modules (not the assets), raw and gzipped. */
function moduleSizes(outDir, names) {
  const modules = names.map(name => {
    const data = fs.readFileSync(path.join(outDir, name));
    return { name, bytes: data.length, gzipBytes: zlib.gzipSync(data).length };
  });
  return { modules, bytes: modules.reduce((n, m) => n + m.bytes, 0), gzipBytes: modules.reduce((n, m) => n + m.gzipBytes, 0) };
}

/**
 * Bundles a Worker entry into `outDir`/worker.js and lays out what edge/workerd.capnp and edge/wrangler.jsonc name:
 * the WASM modules beside it, the model under `outDir`/assets/model/, config.capnp (its assets path made absolute).
 * `dtype` 'q8' (default) or 'fp32'; `cloudflareAi: true` also bundles @cloudflare/ai (for entries that use its Ai
 * class, e.g. the binding test).
 */
export async function buildWorker({ entry = path.join(EDGE, 'worker.ts'), outDir = path.join(EDGE, 'out'), modelDir, dtype = 'q8', cloudflareAi = false, minify = false } = {}) {
  if (dtype !== 'q8' && dtype !== 'fp32') throw new Error(`edge build: dtype must be q8 or fp32, got ${dtype}`);
  const tools = await prepareTools();
  const files = await tools.edgeModelFiles(dtype, modelDir ?? process.env.OCELLUS_MODEL_DIR);
  for (const f of [files.onnx, files.config, files.preprocessorConfig]) if (!fs.existsSync(f)) throw new Error(`edge build: ${f} is missing`);
  fs.mkdirSync(outDir, { recursive: true });
  const assetsDir = path.join(outDir, 'assets');
  fs.rmSync(assetsDir, { recursive: true, force: true });   // nothing left from a build of the other dtype
  const manifest = writeModelAssets(tools, files, assetsDir);
  const aot = await aheadOfTimeModules();
  await esbuild.build({
    ...COMMON,
    entryPoints: [entry],
    outfile: path.join(outDir, 'worker.js'),
    minify,
    plugins: [tfjsWasmPlugin, edgeExternalsPlugin, edgeModelPlugin(manifest, files), edgeWasmPlugin(aot), ...(cloudflareAi ? [cloudflareAiShimPlugin] : [])],
  });
  place(path.join(WASM_DIST, WASM_BINARY), path.join(outDir, WASM_BINARY));
  for (const m of aot) fs.writeFileSync(path.join(outDir, m.name), m.bytes);
  const capnp = fs.readFileSync(path.join(EDGE, 'workerd.capnp'), 'utf8');
  const assetsPath = 'disk = (path = "assets", writable = false)';
  if (!capnp.includes(assetsPath)) throw new Error(`edge build: edge/workerd.capnp has no ${assetsPath}`);
  fs.writeFileSync(path.join(outDir, 'config.capnp'), capnp.replace(assetsPath, `disk = (path = ${JSON.stringify(assetsDir)}, writable = false)`));
  const script = moduleSizes(outDir, ['worker.js', WASM_BINARY, ...aot.map(m => m.name)]);
  const assets = manifest.parts.map(p => ({ path: p.path, bytes: p.bytes }));
  return { outDir, config: path.join(outDir, 'config.capnp'), assetsDir, manifest, script, assets, bundleBytes: script.modules[0].bytes, model: files };
}

/** The demo page, ready to serve: `dir`/index.html and `dir`/demo.js (minified; no esbuild needed at run time). */
export async function writeDemo(dir) {
  const script = await buildDemoBundle({ minify: true });
  fs.mkdirSync(dir, { recursive: true });
  // Each file lands whole (temp + rename): a server may be serving the folder while it is rebuilt.
  const put = (name, data) => {
    const tmp = path.join(dir, `.${name}.${process.pid}.tmp`);
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, path.join(dir, name));
  };
  put('index.html', fs.readFileSync(path.join(EDGE, 'demo', 'index.html')));
  put('demo.js', script);
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
  const built = await buildWorker({
    entry: opt('--entry') && path.resolve(opt('--entry')), outDir: out, modelDir: opt('--model-dir'),
    dtype: argv.includes('--fp32') ? 'fp32' : 'q8', minify: !argv.includes('--no-minify'),
  });
  const mib = b => `${(b / 2 ** 20).toFixed(2)} MiB`;
  const rel = f => path.relative(process.cwd(), f) || '.';
  console.log(`worker: ${rel(path.join(out, 'worker.js'))} + ${built.script.modules.length - 1} WASM modules: ${mib(built.script.bytes)}, gzip ${mib(built.script.gzipBytes)}`);
  console.log(`model:  ${built.manifest.id} ${built.manifest.dtype} from ${built.model.onnx}: ${built.assets.map(a => `${rel(path.join(built.assetsDir, a.path))} (${mib(a.bytes)})`).join(', ')}`);
  console.log(`local:  npx workerd serve ${rel(built.config)} --socket-addr http=127.0.0.1:8787`);
  if (built.manifest.dtype === 'fp32') console.log('note:   fp32 does not fit a Cloudflare isolate (128 MB): local use only');
  else if (out === path.join(EDGE, 'out')) console.log(`deploy: npx wrangler deploy -c ${rel(path.join(EDGE, 'wrangler.jsonc'))}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch(e => {
    console.error(`edge build: ${e.message}`);
    process.exitCode = 1;
  });
}
