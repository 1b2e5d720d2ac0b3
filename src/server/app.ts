// The HTTP API as a Hono app, the same object for Node (@hono/node-server) and a Worker's fetch handler:
// Workers AI's run routes (full Cloudflare path and the short /ai/run) answered in the Cloudflare envelope,
// the Hugging Face Inference API form, /models, /health, and optional static assets (the demo page).
// Every classification runs under a deadline (deadlineMs, default 30 s, from the first byte of the body to the
// answer): past it the request leaves the queue, or its image worker is stopped, and the answer is Workers AI's
// 408 / code 3007. A client that disconnects gives up its request the same way. Other methods on a route get 405
// with Allow (OPTIONS too: no route does CORS).

import { Hono, type Context } from 'hono';
import { clientGone, clip, readBody, DEFAULT_MAX_BODY_BYTES } from './body.js';
import { ApiError, CODES, errorEnvelope, okEnvelope, requestTimeout, toApiError } from './errors.js';
import { ModelRegistry, type RegistryOptions } from './registry.js';
import { engineInfo } from '../runtime/engine-info.js';

export interface AppOptions extends RegistryOptions {
  /** Share a registry (and its warm models) with other apps or an AI binding; default: a new one from these options. */
  registry?: ModelRegistry;
  /** Require `Authorization: Bearer <token>` on the API routes (not on /health or the demo). */
  token?: string;
  /** Largest request body in bytes (default 10 MB), enforced while the body streams in. */
  maxBodyBytes?: number;
  /** Answers GET requests no API route matched (the demo page and its files); undefined = 404. */
  assets?: (req: Request) => Promise<Response | undefined> | Response | undefined;
  /** Receives errors answered with 500 (default: console.error). */
  log?: (e: unknown) => void;
  /** Longest a classification may take, body and queue included, before it is answered 408 (default 30 s). */
  deadlineMs?: number;
}

export const DEFAULT_DEADLINE_MS = 30_000;

/** Shared switches: set `draining` while shutting down so /health says so and new work is refused. */
export interface AppState {
  draining: boolean;
}

export type OcellusApp = Hono & { registry: ModelRegistry; state: AppState };

const WORKERS_AI_ROUTES = ['/client/v4/accounts/:account/ai/run/:model{.+}', '/ai/run/:model{.+}'];
const HF_ROUTE = '/models/:model{.+}';

export function createApp(opts: AppOptions = {}): OcellusApp {
  const registry = opts.registry ?? new ModelRegistry(opts);
  const state: AppState = { draining: false };
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const log = opts.log ?? ((e: unknown) => console.error('ocellus serve:', e));
  const deadlineMs = opts.deadlineMs ?? DEFAULT_DEADLINE_MS;
  if (!(deadlineMs > 0)) throw new RangeError(`deadlineMs must be a positive number, got ${deadlineMs}`);
  const app = new Hono() as OcellusApp;

  app.onError((e, c) => {
    const err = toApiError(e, log);
    return c.json({ ...errorEnvelope(err), ...(isHuggingFace(c) ? { error: err.message } : {}) }, err.status as 400, err.headers);
  });
  app.notFound(c => {
    const err = new ApiError(404, CODES.noRoute, `No route for ${clip(c.req.method, 16)} ${clip(new URL(c.req.url).pathname, 120)}`);
    return c.json(errorEnvelope(err), 404);
  });

  const auth = async (c: Context, next: () => Promise<void>) => {
    if (opts.token !== undefined && !bearerMatches(c.req.header('authorization'), opts.token)) {
      throw new ApiError(401, CODES.auth, 'Authentication error: send Authorization: Bearer <token>', { 'WWW-Authenticate': 'Bearer' });
    }
    if (state.draining) throw new ApiError(503, CODES.outOfCapacity, 'Server is shutting down', { Connection: 'close' });
    await next();
  };

  app.get('/health', c => {
    const images = registry.preparer.status?.();
    return c.json({ status: state.draining ? 'draining' : 'ok', models: registry.status(), engine: engineInfo(), ...(images ? { images } : {}) }, state.draining ? 503 : 200);
  });
  app.all('/health', methodNotAllowed('GET, HEAD'));

  app.get('/models', auth, c => c.json(okEnvelope(registry.ids().map(id => {
    const e = registry.entry(id);
    const labels = e.labels === undefined || typeof e.labels === 'string' ? e.labels ?? 'config' : 'custom';
    return { id, model: e.model, task: 'image-classification', labels, loaded: registry.status()[id]!.loaded };
  }))));
  app.all('/models', methodNotAllowed('GET, HEAD'));

  for (const route of WORKERS_AI_ROUTES) {
    app.post(route, auth, async c => {
      const model = c.req.param('model')!;
      registry.entry(model);   // 404 before reading a body for an unknown model
      const body = { form: 'workers-ai' as const, contentType: c.req.header('content-type') ?? null };
      const result = await withDeadline(c.req.raw, deadlineMs, async signal =>
        registry.classify(model, await readBody(c.req.raw, maxBody, signal), { labels: 'served', signal, transfer: true, body }));
      return c.json(okEnvelope(result), 200, { 'cf-ai-req-id': crypto.randomUUID() });
    });
    app.all(route, methodNotAllowed('POST'));
  }

  app.post(HF_ROUTE, auth, async c => {
    const model = c.req.param('model')!;
    registry.entry(model);
    const body = { form: 'hugging-face' as const, contentType: c.req.header('content-type') ?? null };
    return c.json(await withDeadline(c.req.raw, deadlineMs, async signal =>
      registry.classify(model, await readBody(c.req.raw, maxBody, signal), { labels: 'config', signal, transfer: true, body })));
  });
  app.all(HF_ROUTE, methodNotAllowed('POST'));

  app.get('*', async c => {
    const res = opts.assets ? await opts.assets(c.req.raw) : undefined;
    return res ?? c.notFound();
  });
  // Other methods on a path the assets answer GET for: 405 (the asset's body, if any, is not read).
  app.all('*', async c => {
    const res = opts.assets ? await opts.assets(new Request(c.req.url)) : undefined;
    if (!res) return c.notFound();
    await res.body?.cancel().catch(() => {});
    return methodNotAllowed('GET, HEAD')(c);
  });

  return Object.assign(app, { registry, state });
}

function methodNotAllowed(allow: string): (c: Context) => Response {
  return c => {
    const err = new ApiError(405, CODES.methodNotAllowed, `Method ${clip(c.req.method, 16)} not allowed here; use ${allow.replace(', ', ' or ')}`, { Allow: allow });
    return c.json(errorEnvelope(err), 405, err.headers);
  };
}

/**
 * Runs `work` with a signal that aborts at the deadline (reason: the 408 error) or when the client disconnects
 * (reason: a 400 that is not logged; nobody reads it), and answers with that reason at once: work that cannot
 * stop (a batch already running) finishes unread.
 */
async function withDeadline<T>(req: Request, ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(requestTimeout(ms)), ms);
  const gone = () => ctl.abort(clientGone());
  const clientSignal = (req as { signal?: AbortSignal }).signal;
  clientSignal?.addEventListener('abort', gone, { once: true });
  const aborted = new Promise<never>((_, reject) => ctl.signal.addEventListener('abort', () => reject(ctl.signal.reason), { once: true }));
  const running = work(ctl.signal);
  running.catch(() => {});   // rejected after the abort answered: nobody waits on it
  try {
    return await Promise.race([running, aborted]);
  } finally {
    clearTimeout(timer);
    clientSignal?.removeEventListener('abort', gone);
  }
}

function isHuggingFace(c: Context): boolean {
  return new URL(c.req.url).pathname.startsWith('/models/');
}

/** Compares the bearer token in constant time (for equal lengths). */
function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!m) return false;
  const given = m[1]!.trim();
  let diff = given.length ^ token.length;
  for (let i = 0; i < Math.max(given.length, token.length); i++) diff |= (given.charCodeAt(i) || 0) ^ (token.charCodeAt(i) || 0);
  return diff === 0;
}
