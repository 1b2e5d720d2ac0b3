// The planned-model cache (issue #20): after the first create() of a model FILE with passes on, the graph the
// load-time passes produced is written as `<file>.ocellus-plan` (under `<cache>/plans/` when the model's folder is
// read-only), and later creates load that graph instead of running the passes again. Never stale: the header holds
// the format, a digest of the engine's own code (every source file of src/ and kernels/ beside this module, so an
// edited pass or another version refuses the cache), the source file's size and sha256 and the body's length and
// checksum (CRC-32); any mismatch or damage gives a one-line notice, the passes run and the file is rewritten atomically (temp
// file + rename). A model with external data is not cached (its data files are not hashed). Node only.
//
// File: "OCPLAN\r\n" (8 bytes), header length (u32 LE), header JSON (UTF-8, padded so the body starts 8-aligned),
// body = the optimized model (plan-format.ts).

import type { Model } from '../ir/graph.js';
import { decodePlanBody, encodePlanBody } from './plan-format.js';
import type { PassReport } from '../passes/index.js';
import { envVar } from '../env.js';

const MAGIC = 'OCPLAN\r\n';
export const PLAN_FORMAT = 3;
export const PLAN_SUFFIX = '.ocellus-plan';

interface Header {
  format: number;
  engine: string;
  source: { size: number; sha256: string };
  passes: PassReport[];
  body: { length: number; check: string };
}

/** What the cache did in this process (tests count with it). */
export const planCacheStats = { hits: 0, writes: 0, refused: 0 };

/** Test hook: mixed into the engine digest (a stand-in for a new ocellus version). */
export const planCacheSalt = { value: '' };

type Fs = typeof import('node:fs');
type Path = typeof import('node:path');
interface Node { fs: Fs; path: Path; crypto: typeof import('node:crypto'); os: typeof import('node:os'); url: typeof import('node:url'); zlib: typeof import('node:zlib') }

let nodeMods: Promise<Node> | undefined;
let loaded: Node | undefined;
function node(): Promise<Node> {
  nodeMods ??= Promise.all([import('node:fs'), import('node:path'), import('node:crypto'), import('node:os'), import('node:url'), import('node:zlib')])
    .then(([fs, path, crypto, os, url, zlib]) => (loaded = { fs, path, crypto, os, url, zlib }));
  return nodeMods;
}

let engineDigest: string | undefined;
/** sha256 over the path and content of every engine source file (src/ and kernels/ of this checkout or dist/). */
function engine(n: Node): string {
  if (engineDigest === undefined) {
    const root = n.path.resolve(n.path.dirname(n.url.fileURLToPath(import.meta.url)), '..', '..');
    const h = n.crypto.createHash('sha256');
    const walk = (dir: string): void => {
      let entries: import('node:fs').Dirent[];
      try { entries = n.fs.readdirSync(dir, { withFileTypes: true }); } catch { return; }
      for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
        const p = n.path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (/\.(ts|js|mjs|cjs|wasm|json)$/.test(e.name)) h.update(`${n.path.relative(root, p)}\0`).update(n.fs.readFileSync(p)).update('\0');
      }
    };
    walk(n.path.join(root, 'src'));
    walk(n.path.join(root, 'kernels'));
    engineDigest = h.digest('hex');
  }
  return planCacheSalt.value ? `${engineDigest}+${planCacheSalt.value}` : engineDigest;
}

/** Whether create() should use the cache: the option, else env OCELLUS_PLAN_CACHE (0 = off); Node only. */
export function planCacheWanted(option: boolean | undefined): boolean {
  if (typeof process === 'undefined' || !process.versions?.node) return false;
  return option ?? envVar('OCELLUS_PLAN_CACHE') !== '0';
}

function cacheDir(n: Node): string {
  const fromEnv = envVar('OCELLUS_CACHE');
  return fromEnv ?? n.path.join(envVar('XDG_CACHE_HOME') ?? n.path.join(n.os.homedir(), '.cache'), 'ocellus');
}

/** Where the cache of `file` is looked for, in order: beside it, then under the cache folder (keyed by its path). */
function candidates(n: Node, file: string): string[] {
  const abs = n.path.resolve(file);
  const key = n.crypto.createHash('sha256').update(abs).digest('hex').slice(0, 32);
  return [abs + PLAN_SUFFIX, n.path.join(cacheDir(n), 'plans', `${n.path.basename(abs)}-${key}${PLAN_SUFFIX}`)];
}

/** The body's checksum (damage, not tampering: the source's digest is the sha256): CRC-32 where zlib has it (Node
 *  ≥ 20.15; about twice as fast as sha256 here), else sha256. */
function bodyCheck(n: Node, parts: Uint8Array[]): string {
  const crc32 = (n.zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
  if (crc32) return `crc32:${parts.reduce((c, p) => crc32(p, c), 0).toString(16)}`;
  const h = n.crypto.createHash('sha256');
  for (const p of parts) h.update(p);
  return `sha256:${h.digest('hex')}`;
}

export interface SourceFacts { file: string; size: number; sha256: string; external: boolean; bytes: Uint8Array }

/**
 * The source file's bytes and digest, or undefined when it is not a regular file of at most `maxBytes` (loadModel
 * then says why; a FIFO is never waited on). `external`: its bytes mention an external_data "location" (every
 * external tensor names one), so the model is read by loadModel and not cached.
 */
export async function sourceFacts(file: string, maxBytes: number): Promise<SourceFacts | undefined> {
  const n = await node();
  let bytes: Buffer;
  try {
    const fd = n.fs.openSync(file, n.fs.constants.O_RDONLY | (n.fs.constants.O_NONBLOCK ?? 0));
    try {
      const st = n.fs.fstatSync(fd);
      if (!st.isFile() || st.size > maxBytes) return undefined;
      bytes = n.fs.readFileSync(fd);
    } finally {
      n.fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const sha256 = n.crypto.createHash('sha256').update(bytes).digest('hex');
  return { file, size: bytes.byteLength, sha256, external: bytes.indexOf('location') >= 0, bytes };
}

export interface CachedPlan { model: Model; passes: PassReport[]; path: string }

/** The cached optimized model of `src`, or undefined (none, or refused with a notice). */
export async function readPlanCache(src: SourceFacts, name: string, notice: (line: string) => void): Promise<CachedPlan | undefined> {
  const n = await node();
  for (const p of candidates(n, src.file)) {
    let bytes: Buffer;
    try { bytes = n.fs.readFileSync(p); } catch { continue; }
    const why = validate(n, bytes, src);
    if (typeof why === 'string') {
      planCacheStats.refused++;
      notice(`ocellus: ignoring the plan cache ${p} (${why}); planning again and rewriting it`);
      continue;
    }
    try {
      const model = decodePlanBody(new Uint8Array(bytes.buffer, bytes.byteOffset + why.bodyAt, why.header.body.length));
      planCacheStats.hits++;
      return { model, passes: why.header.passes, path: p };
    } catch (e) {
      planCacheStats.refused++;
      notice(`ocellus: ignoring the plan cache ${p} (it does not decode: ${(e as Error).message}); planning again and rewriting it`);
    }
  }
  return undefined;
}

function validate(n: Node, bytes: Buffer, src: SourceFacts): string | { header: Header; bodyAt: number } {
  if (bytes.byteLength < 12 || bytes.toString('latin1', 0, 8) !== MAGIC) return 'not an ocellus plan file';
  const headerLength = bytes.readUInt32LE(8);
  if (12 + headerLength > bytes.byteLength) return `truncated: the header says ${headerLength} bytes, the file has ${bytes.byteLength - 12} after the prefix`;
  let header: Header;
  try {
    header = JSON.parse(bytes.toString('utf8', 12, 12 + headerLength)) as Header;
  } catch {
    return 'the header is damaged';
  }
  if (header.format !== PLAN_FORMAT) return `format ${header.format}, expected ${PLAN_FORMAT}`;
  if (header.engine !== engine(n)) return 'written by another ocellus version or build';
  if (header.source?.sha256 !== src.sha256 || header.source.size !== src.size) return 'the model file changed since';
  const bodyAt = 12 + headerLength, length = bytes.byteLength - bodyAt;
  if (header.body?.length !== length) return `the body is ${length} bytes, the header says ${header.body?.length}`;
  if (bodyCheck(n, [bytes.subarray(bodyAt)]) !== header.body.check) return 'the body checksum does not match';
  return { header, bodyAt };
}

/** Writes the cache of `src` (atomically: temp file + rename), beside it or else under the cache folder. Synchronous
 *  (create() calls it between the passes and planning, before host copies are released); after sourceFacts(src). */
export function writePlanCache(src: SourceFacts, model: Model, passes: PassReport[], notice: (line: string) => void): string | undefined {
  const n = loaded!;
  let body: ReturnType<typeof encodePlanBody>;
  try {
    body = encodePlanBody(model);
  } catch (e) {
    notice(`ocellus: the plan of ${src.file} is not cached (${(e as Error).message})`);
    return undefined;
  }
  const header: Header = {
    format: PLAN_FORMAT, engine: engine(n), source: { size: src.size, sha256: src.sha256 }, passes,
    body: { length: body.length, check: bodyCheck(n, body.parts) },
  };
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - ((12 + json.byteLength) % 8)) % 8;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const prefix = Buffer.alloc(12);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(json.byteLength, 8);
  let lastError = '';
  for (const p of candidates(n, src.file)) {
    const tmp = `${p}.tmp-${process.pid}-${n.crypto.randomBytes(4).toString('hex')}`;
    try {
      n.fs.mkdirSync(n.path.dirname(p), { recursive: true });
      // A folder without write bits is read-only by intent, even to root (which the OS would let write).
      if ((n.fs.statSync(n.path.dirname(p)).mode & 0o222) === 0) throw new Error(`${n.path.dirname(p)} is read-only`);
      const fd = n.fs.openSync(tmp, 'wx');
      try {
        for (const part of [prefix, json, ...body.parts]) n.fs.writeFileSync(fd, part);   // whole buffers, in order
      } finally {
        n.fs.closeSync(fd);
      }
      n.fs.renameSync(tmp, p);
      planCacheStats.writes++;
      return p;
    } catch (e) {
      try { n.fs.rmSync(tmp, { force: true }); } catch { /* nothing to remove */ }
      lastError = (e as Error).message;
    }
  }
  notice(`ocellus: could not write the plan cache of ${src.file} (${lastError})`);
  return undefined;
}
