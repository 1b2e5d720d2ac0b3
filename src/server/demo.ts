// The in-browser demo's files, served by `ocellus serve` (Node only): the page and its script, the tfjs WASM
// binaries, and each served model's ONNX file and configs, so the page runs the engine itself. The built package
// carries the page prebuilt (dist/demo, written by `npm run build`); from TypeScript sources (tests, tsx) the
// script is bundled from edge/demo on first request by edge/build.mjs (esbuild, a dev dependency), so it is never stale.

import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ModelRegistry } from './registry.js';

const WASM_FILES = new Set(['tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm.wasm']);

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** The prebuilt page (dist/demo beside dist/src/server), when this module runs from the built package. */
export function findPrebuiltDemo(): string | undefined {
  const dir = path.join(HERE, '..', '..', 'demo');
  return existsSync(path.join(dir, 'index.html')) && existsSync(path.join(dir, 'demo.js')) ? dir : undefined;
}

/** The repository's edge/ folder, looked for above this module (src/server or dist/src/server). */
export function findEdgeDir(): string | undefined {
  let dir = HERE;
  for (let i = 0; i < 5; i++) {
    if (existsSync(path.join(dir, 'edge', 'demo', 'index.html'))) return path.join(dir, 'edge');
    dir = path.dirname(dir);
  }
  return undefined;
}

export function createDemoAssets(registry: ModelRegistry): (req: Request) => Promise<Response | undefined> {
  const prebuilt = findPrebuiltDemo();
  const edgeDir = prebuilt ? undefined : findEdgeDir();
  const pageFile = prebuilt ? path.join(prebuilt, 'index.html') : edgeDir && path.join(edgeDir, 'demo', 'index.html');
  let bundle: Promise<string> | undefined;
  const wasmDir = path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));

  return async req => {
    const { pathname } = new URL(req.url);
    if (!pageFile) return undefined;
    if (pathname === '/' || pathname === '/demo' || pathname === '/demo/') {
      return new Response(readFileSync(pageFile), { headers: { 'content-type': 'text/html; charset=utf-8' } });
    }
    if (pathname === '/demo/demo.js') {
      if (prebuilt) return fileResponse(path.join(prebuilt, 'demo.js'), 'text/javascript; charset=utf-8');
      bundle ??= buildDemo(edgeDir!);
      bundle.catch(() => { bundle = undefined; });
      try {
        return new Response(await bundle, { headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' } });
      } catch (e) {
        const msg = `document.body.textContent = ${JSON.stringify(`The demo script could not be built: ${(e as Error).message.split('\n')[0]}`)};`;
        return new Response(msg, { status: 503, headers: { 'content-type': 'text/javascript; charset=utf-8' } });
      }
    }
    if (pathname.startsWith('/demo/wasm/')) {
      const name = pathname.slice('/demo/wasm/'.length);
      if (!WASM_FILES.has(name)) return undefined;
      return fileResponse(path.join(wasmDir, name), 'application/wasm');
    }
    if (pathname === '/demo/models.json') {
      return Response.json(registry.ids().map(id => {
        const e = registry.entry(id);
        const base = `/demo/files/${encodeURIComponent(id)}`;
        const labels = e.labels === undefined || typeof e.labels === 'string' ? e.labels ?? 'config' : e.labels;
        return { id, model: e.model, labels, files: { onnx: `${base}/model.onnx`, config: `${base}/config.json`, preprocessorConfig: `${base}/preprocessor_config.json` } };
      }));
    }
    const m = /^\/demo\/files\/([^/]+)\/(model\.onnx|config\.json|preprocessor_config\.json)$/.exec(pathname);
    if (m) {
      const id = decodeURIComponent(m[1]!);
      if (!registry.has(id)) return undefined;
      const { model } = await registry.pipelineFor(id);
      if (m[2] === 'model.onnx') return fileResponse(model.onnxPath, 'application/octet-stream');
      const json = m[2] === 'config.json' ? model.config : model.preprocessorConfig;
      return json ? Response.json(json) : undefined;
    }
    return undefined;
  };
}

function fileResponse(file: string, type: string): Response | undefined {
  if (!existsSync(file)) return undefined;
  const size = statSync(file).size;
  const body = Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>;
  return new Response(body, { headers: { 'content-type': type, 'content-length': String(size), 'cache-control': 'no-cache' } });
}

async function buildDemo(edgeDir: string): Promise<string> {
  const build = await import(pathToFileURL(path.join(edgeDir, 'build.mjs')).href) as { buildDemoBundle(): Promise<string> };
  return build.buildDemoBundle();
}
