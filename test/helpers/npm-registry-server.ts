// A local npm registry on 127.0.0.1 for download tests: GET /<name> answers a packument listing the given versions
// (dist.tarball on this server, dist.integrity as given or computed), GET /<name>/-/<name>-<version>.tgz streams the
// tarball from disk. Records every request with its Authorization header. Also: a minimal ustar writer for
// synthetic (hostile) archives.

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'fflate';

export interface RegistryVersion {
  /** The .tgz file served. */
  tarball: string;
  /** dist.integrity in the packument (default: the tarball's real sha512). */
  integrity?: string;
}

export interface RegistryServer {
  url: string;
  requests: { url: string; authorization?: string; accept?: string }[];
  close(): Promise<void>;
}

export function sri(file: string | Uint8Array): string {
  const bytes = typeof file === 'string' ? fs.readFileSync(file) : file;
  return `sha512-${crypto.createHash('sha512').update(bytes).digest('base64')}`;
}

/** `packages` maps a package name to its versions. A path prefix (e.g. '/npm/') serves the registry under it. */
export async function startRegistry(packages: Record<string, Record<string, RegistryVersion>>, prefix = '/'): Promise<RegistryServer> {
  const requests: RegistryServer['requests'] = [];
  let base = '';
  const server = http.createServer((req, res) => {
    const url = req.url ?? '';
    requests.push({ url, authorization: req.headers.authorization, accept: req.headers.accept });
    const rel = url.startsWith(prefix) ? decodeURIComponent(url.slice(prefix.length)) : undefined;
    const tgz = rel ? /^(.+)\/-\/[^/]+-(\d+\.\d+\.\d+)\.tgz$/.exec(rel) : null;
    if (tgz) {
      const v = packages[tgz[1]!]?.[tgz[2]!];
      if (!v) return void res.writeHead(404).end('{"error":"not found"}');
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': fs.statSync(v.tarball).size });
      fs.createReadStream(v.tarball).pipe(res);
      return;
    }
    const versions = rel ? packages[rel] : undefined;
    if (!versions) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Not found"}');
    const doc = {
      name: rel,
      'dist-tags': { latest: Object.keys(versions).at(-1) },
      versions: Object.fromEntries(Object.entries(versions).map(([version, v]) => [version, {
        name: rel, version,
        dist: { tarball: `${base}${prefix}${rel}/-/${rel}-${version}.tgz`, integrity: v.integrity ?? sri(v.tarball) },
      }])),
    };
    res.writeHead(200, { 'content-type': 'application/vnd.npm.install-v1+json' }).end(JSON.stringify(doc));
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${base}${prefix}`,
    requests,
    close: () => new Promise<void>(r => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

export interface TarSpec {
  path: string;
  data?: Uint8Array | string;
  /** ustar type flag (default '0', a regular file). */
  type?: string;
}

/** A gzipped ustar archive of `entries`, written field by field (paths up to 100 bytes). */
export function makeTgz(entries: readonly TarSpec[]): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const e of entries) {
    const data = typeof e.data === 'string' ? new TextEncoder().encode(e.data) : e.data ?? new Uint8Array();
    const h = new Uint8Array(512);
    const put = (off: number, s: string) => h.set(new TextEncoder().encode(s), off);
    put(0, e.path);
    put(100, '0000644\0');
    put(108, '0000000\0');
    put(116, '0000000\0');
    put(124, `${data.byteLength.toString(8).padStart(11, '0')}\0`);
    put(136, '00000000000\0');
    put(148, '        ');
    put(156, e.type ?? '0');
    put(257, 'ustar\x0000');
    const sum = h.reduce((a, b) => a + b, 0);
    put(148, `${sum.toString(8).padStart(6, '0')}\0 `);
    blocks.push(h, data, new Uint8Array((512 - (data.byteLength % 512)) % 512));
  }
  blocks.push(new Uint8Array(1024));
  const tar = new Uint8Array(blocks.reduce((a, b) => a + b.byteLength, 0));
  let o = 0;
  for (const b of blocks) { tar.set(b, o); o += b.byteLength; }
  return gzipSync(tar);
}
