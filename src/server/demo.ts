// The in-browser demo's files, served by `ocellus serve` (Node only): the page and its script, the tfjs WASM
// binaries, and each served model's ONNX file and configs, so the page runs the engine itself. The page comes
// prebuilt: `npm run build` bundles edge/demo into dist/demo (edge/build.mjs --demo-only; `npm ci` runs the build),
// which the built package serves beside dist/src and a source checkout (tests, tsx) serves from its dist/.

import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { ModelRegistry } from './registry.js';

const WASM_FILES = new Set(['tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm.wasm']);

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** The prebuilt page: dist/demo beside dist/src/server (the built package), or the checkout's dist/demo (sources). */
export function findPrebuiltDemo(): string | undefined {
  return [path.join(HERE, '..', '..', 'demo'), path.join(HERE, '..', '..', 'dist', 'demo')]
    .find(dir => existsSync(path.join(dir, 'index.html')) && existsSync(path.join(dir, 'demo.js')));
}

export function createDemoAssets(registry: ModelRegistry): (req: Request) => Promise<Response | undefined> {
  const prebuilt = findPrebuiltDemo();
  const wasmDir = path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));

  return async req => {
    const { pathname } = new URL(req.url);
    if (pathname === '/' || pathname === '/demo' || pathname === '/demo/') {
      if (!prebuilt) {
        return new Response('The demo page is not built: run `npm run build` (it writes dist/demo).', { status: 503, headers: { 'content-type': 'text/plain; charset=utf-8' } });
      }
      return new Response(readFileSync(path.join(prebuilt, 'index.html')), { headers: { 'content-type': 'text/html; charset=utf-8' } });
    }
    if (pathname === '/demo/demo.js') return prebuilt ? fileResponse(path.join(prebuilt, 'demo.js'), 'text/javascript; charset=utf-8') : undefined;
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
