// A Worker for the workerd test: edge/worker.ts as is, plus two test routes: one that goes through the real
// @cloudflare/ai Ai class over createAiBinding inside workerd — how a Worker would use ocellus as its `AI` binding —
// and GET /test/memory, where the isolate's memory goes (the tfjs WASM heap, live tensors), for the RSS report.

import { Ai } from '@cloudflare/ai';
import * as tf from '@tensorflow/tfjs-core';
import worker, { registry, type Env } from '../../edge/worker.js';
import { createAiBinding } from '../../src/server/binding.js';

const binding = createAiBinding({ registry });

function memory(): Record<string, unknown> {
  const wasm = (tf.engine().backendNames().includes('wasm') ? tf.engine().findBackend('wasm') : null) as { wasm?: { HEAPU8?: Uint8Array } } | null;
  return { wasmHeapBytes: wasm?.wasm?.HEAPU8?.buffer.byteLength ?? null, tf: tf.memory() };
}

export default {
  async fetch(request: Request, env: Env, ctx: unknown): Promise<Response> {
    const url = new URL(request.url);
    if (request.method === 'GET' && url.pathname === '/test/memory') return Response.json(memory());
    if (request.method === 'POST' && url.pathname.startsWith('/test/binding/')) {
      const model = decodeURIComponent(url.pathname.slice('/test/binding/'.length));
      const bytes = new Uint8Array(await request.arrayBuffer());
      const ai = new Ai(binding);
      try {
        const result = await ai.run(model, { image: [...bytes] });
        return Response.json({ result, lastRequestId: ai.lastRequestId });
      } catch (e) {
        return Response.json({ error: (e as Error).message }, { status: 500 });
      }
    }
    return worker.fetch(request, env, ctx);
  },
};
