// A local HTTP server in the Hugging Face URL layout ({host}/{id}/resolve/{revision}/{file}) serving model
// folders from disk, with request counting, for download tests. Listens on 127.0.0.1 only.

import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export interface HubServer {
  url: string;
  requests: string[];
  close(): Promise<void>;
}

/** `repos` maps a hub id ('org/name') to a local folder. `lie` makes Content-Length claim more than is sent. */
export async function startHubServer(repos: Record<string, string>, opts: { lieAboutLength?: boolean } = {}): Promise<HubServer> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(req.url ?? '');
    const dir = m ? repos[m[1]!] : undefined;
    const file = m && dir ? path.join(dir, decodeURIComponent(m[3]!)) : undefined;
    if (!file || !fs.existsSync(file)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Entry not found');
      return;
    }
    const body = fs.readFileSync(file);
    if (opts.lieAboutLength) {
      res.writeHead(200, { 'content-length': String(body.length + 1000) });
      res.write(body);
      res.destroy();
      return;
    }
    res.writeHead(200, { 'content-length': String(body.length) }).end(body);
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>(r => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
