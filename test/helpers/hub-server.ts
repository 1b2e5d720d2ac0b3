// A local HTTP server in the Hugging Face URL layout ({host}/{id}/resolve/{revision}/{file}) serving model
// folders from disk, with request counting, for download tests. Listens on 127.0.0.1 only.
// `lfs` serves .onnx files as Hugging Face serves LFS files: a 302 from the resolve URL to /cdn/<sha256> carrying
// x-linked-size and x-linked-etag (the quoted sha256). `serve` lets a test misbehave for chosen files.

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export interface HubServer {
  url: string;
  requests: string[];
  close(): Promise<void>;
}

export interface HubServerOptions {
  /** Content-Length claims 1000 bytes more than is sent, then the connection is cut. */
  lieAboutLength?: boolean;
  /** .onnx files answer as LFS files do on Hugging Face (redirect + x-linked-size / x-linked-etag). */
  lfs?: boolean;
  /** Overrides the LFS headers (e.g. a wrong sha256). */
  lfsHeaders?: (body: Buffer) => Record<string, string>;
  /** Answers a file request itself when it returns true (after the resolve redirect, if any). */
  serve?: (file: string, body: Buffer, res: http.ServerResponse) => boolean;
}

const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

/** `repos` maps a hub id ('org/name') to a local folder. */
export async function startHubServer(repos: Record<string, string>, opts: HubServerOptions = {}): Promise<HubServer> {
  const requests: string[] = [];
  const blobs = new Map<string, { file: string; body: Buffer }>();
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const cdn = /^\/cdn\/([0-9a-f]{64})$/.exec(req.url ?? '');
    if (cdn && blobs.has(cdn[1]!)) {
      const { file, body } = blobs.get(cdn[1]!)!;
      send(file, body, res);
      return;
    }
    const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(req.url ?? '');
    const dir = m ? repos[m[1]!] : undefined;
    const rel = m && dir ? decodeURIComponent(m[3]!) : undefined;
    const file = rel ? path.join(dir!, rel) : undefined;
    if (!file || !fs.existsSync(file)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Entry not found');
      return;
    }
    const body = fs.readFileSync(file);
    if (opts.lfs && rel!.endsWith('.onnx')) {
      const hash = sha256(body);
      blobs.set(hash, { file: rel!, body });
      const linked = opts.lfsHeaders?.(body) ?? { 'x-linked-size': String(body.length), 'x-linked-etag': `"${hash}"` };
      res.writeHead(302, { location: `/cdn/${hash}`, ...linked }).end();
      return;
    }
    send(rel!, body, res);
  });
  const send = (file: string, body: Buffer, res: http.ServerResponse) => {
    if (opts.serve?.(file, body, res)) return;
    if (opts.lieAboutLength) {
      res.writeHead(200, { 'content-length': String(body.length + 1000) });
      res.write(body);
      res.destroy();
      return;
    }
    res.writeHead(200, { 'content-length': String(body.length) }).end(body);
  };
  await new Promise<void>(r => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>(r => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
