// Serving the app from Node: @hono/node-server on a port, the demo page's files, and a graceful close (stop
// accepting, let in-flight and queued requests finish, release the models) that SIGTERM/SIGINT trigger.
//
// Staying responsive: images are decoded and prepared in a pool of worker threads (prepare-pool.ts), never on the
// event loop, and the server sets its own socket timeouts instead of Node's defaults (headers 60 s, request 300 s):
//   headersTimeout    10 s  the request line and headers must arrive within this (slow-header clients: 408, closed)
//   requestTimeout    60 s  the whole request, body included (a 10 MB body needs ≥ 170 KB/s), else 408 and closed
//   keepAliveTimeout   5 s  an idle keep-alive connection is closed after this
// and checks them every second (connectionsCheckingInterval; Node's 30 s would let them run up to 30 s late).
// The app's per-request deadline (deadlineMs, 30 s) bounds the work after the body: queue, decoding, inference.
// Model inference itself runs on the event loop's thread (the WASM kernels are synchronous; their own threads only
// share a run's arithmetic): each batch blocks the loop for its duration (ResNet-50: tens to hundreds of ms).

import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { createApp, type AppOptions, type OcellusApp } from './app.js';
import { createDemoAssets } from './demo.js';
import { PreparePool } from './prepare-pool.js';
import { ModelRegistry } from './registry.js';

export const SERVER_TIMEOUTS = { headersTimeoutMs: 10_000, requestTimeoutMs: 60_000, keepAliveTimeoutMs: 5_000, checkIntervalMs: 1_000 } as const;

export interface ServeOptions extends AppOptions {
  /** Default 8787 (wrangler's); 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Serve the in-browser demo at / (default true). */
  demo?: boolean;
  /** Load every served model before listening (default false: on first request). */
  warm?: boolean;
  /** How long close() lets in-flight requests run before cutting connections (default 30 s). */
  shutdownTimeoutMs?: number;
  /**
   * Worker threads decoding and preparing images (default 1 on machines with 2 cores or fewer, else 2); 0 decodes on
   * the event loop (as Workers do). Ignored when a registry, a preparer or a custom decode is given.
   */
  imageWorkers?: number;
  /** Node's server.headersTimeout (default 10 s). */
  headersTimeoutMs?: number;
  /** Node's server.requestTimeout: the whole request, body included (default 60 s). */
  requestTimeoutMs?: number;
  /** Node's server.keepAliveTimeout (default 5 s). */
  keepAliveTimeoutMs?: number;
}

export interface RunningServer {
  app: OcellusApp;
  server: Server;
  url: string;
  port: number;
  /** Stops accepting, finishes in-flight requests and queued work, releases the models. Idempotent. */
  close(): Promise<void>;
}

export async function startServer(opts: ServeOptions = {}): Promise<RunningServer> {
  const pool = opts.registry || opts.preparer || opts.decode ? undefined : imagePool(opts);
  const registry = opts.registry ?? new ModelRegistry({ ...opts, preparer: opts.preparer ?? pool });
  const assets = opts.assets ?? (opts.demo === false ? undefined : createDemoAssets(registry));
  const app = createApp({ ...opts, registry, assets });
  const timeouts = {
    headersTimeout: opts.headersTimeoutMs ?? SERVER_TIMEOUTS.headersTimeoutMs,
    requestTimeout: opts.requestTimeoutMs ?? SERVER_TIMEOUTS.requestTimeoutMs,
    keepAliveTimeout: opts.keepAliveTimeoutMs ?? SERVER_TIMEOUTS.keepAliveTimeoutMs,
  };
  if (timeouts.requestTimeout > 0 && timeouts.headersTimeout > timeouts.requestTimeout) {
    throw new RangeError(`headersTimeoutMs (${timeouts.headersTimeout}) must not exceed requestTimeoutMs (${timeouts.requestTimeout})`);
  }
  try {
    if (opts.warm) {
      pool?.warm();
      await app.registry.warm();
    }
  } catch (e) {
    await pool?.close();
    throw e;
  }
  const host = opts.host ?? '127.0.0.1';
  const check = Math.min(SERVER_TIMEOUTS.checkIntervalMs, timeouts.headersTimeout || Infinity, timeouts.requestTimeout || Infinity);
  const { server, port } = await new Promise<{ server: Server; port: number }>((resolve, reject) => {
    const s = serve({
      fetch: app.fetch, port: opts.port ?? 8787, hostname: host,
      serverOptions: { ...timeouts, connectionsCheckingInterval: check },
    }, info => resolve({ server: s as Server, port: (info as AddressInfo).port }));
    (s as Server).once('error', reject);
  }).catch(async e => {
    await pool?.close();
    throw e;
  });
  Object.assign(server, timeouts);
  server.on('clientError', (e: NodeJS.ErrnoException, socket) => {
    // What Node's own handler answers (408 for its timeouts, 431 for oversized headers), without logging.
    const status = e.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : e.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
    else socket.destroy();
  });
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= shutdown(app, server, opts.shutdownTimeoutMs ?? 30_000).finally(() => pool?.close()));
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return { app, server, port, url: `http://${shownHost}:${port}`, close };
}

async function shutdown(app: OcellusApp, server: Server, timeoutMs: number): Promise<void> {
  app.state.draining = true;
  const closed = new Promise<void>(resolve => server.close(() => resolve()));
  // Keep-alive sockets with no request in flight are closed now and as each in-flight response ends.
  server.closeIdleConnections();
  const sweep = setInterval(() => server.closeIdleConnections(), 50);
  const timer = setTimeout(() => server.closeAllConnections(), timeoutMs);
  try {
    await closed;
    await app.registry.close();
  } finally {
    clearInterval(sweep);
    clearTimeout(timer);
  }
}

/** The worker pool for images, or undefined (decode on the event loop) when asked for 0 workers or none can start. */
function imagePool(opts: ServeOptions): PreparePool | undefined {
  if (opts.imageWorkers === 0) return undefined;
  try {
    return new PreparePool({ size: opts.imageWorkers, maxQueue: opts.maxQueue });
  } catch (e) {
    console.warn(`ocellus serve: images are decoded on the event loop: ${(e as Error).message}`);
    return undefined;
  }
}

/** Calls `close` on the first SIGTERM/SIGINT (a second one exits at once); returns a function removing the handlers. */
export function closeOnSignals(close: () => Promise<void>, onClosed: (code: number) => void): () => void {
  let count = 0;
  const handler = (signal: NodeJS.Signals) => {
    if (++count > 1) process.exit(130);
    console.error(`ocellus serve: ${signal}: finishing in-flight requests…`);
    close().then(() => onClosed(0), e => {
      console.error('ocellus serve: shutdown failed:', e);
      onClosed(1);
    });
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return () => {
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  };
}
