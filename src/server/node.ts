// Serving the app from Node: @hono/node-server on a port, the demo page's files, and a graceful close (stop
// accepting, let in-flight and queued requests finish, release the models) that SIGTERM/SIGINT trigger.

import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { createApp, type AppOptions, type OcellusApp } from './app.js';
import { createDemoAssets } from './demo.js';
import { ModelRegistry } from './registry.js';

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
  const registry = opts.registry ?? new ModelRegistry(opts);
  const assets = opts.assets ?? (opts.demo === false ? undefined : createDemoAssets(registry));
  const app = createApp({ ...opts, registry, assets });
  if (opts.warm) await app.registry.warm();
  const host = opts.host ?? '127.0.0.1';
  const { server, port } = await new Promise<{ server: Server; port: number }>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: opts.port ?? 8787, hostname: host }, info => resolve({ server: s as Server, port: (info as AddressInfo).port }));
    (s as Server).once('error', reject);
  });
  server.on('clientError', (_e, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= shutdown(app, server, opts.shutdownTimeoutMs ?? 30_000));
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
