// A Worker for the workerd test: edge/worker.ts as is, plus one route that goes through the real @cloudflare/ai
// Ai class over createAiBinding inside workerd — how a Worker would use ocellus as its `AI` binding.

import { Ai } from '@cloudflare/ai';
import worker, { registry, type Env } from '../../edge/worker.js';
import { createAiBinding } from '../../src/server/binding.js';

const binding = createAiBinding({ registry });

export default {
  async fetch(request: Request, env: Env, ctx: unknown): Promise<Response> {
    const url = new URL(request.url);
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
