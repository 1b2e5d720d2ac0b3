// Model ids → a local folder in the Hugging Face layout (config.json, preprocessor_config.json, onnx/model.onnx).
// An id is a local folder, a path to an .onnx file, or a hub id ('Xenova/vit-base-patch16-224') fetched from
// `{host}/{id}/resolve/{revision}/{file}` into a cache folder, with progress callbacks, size checks and an
// offline switch. Downloads (download.ts) land in a temp file that is checked (length, the hub's sha256, the content
// parses) before it is renamed into place; cached files are checked once (cache-check.ts) and replaced if they fail.

import { envVar } from '../env.js';
import { checkContent, markVerified, verifyCached } from './cache-check.js';
import { download, type DownloadError, type DownloadResult, type Expectation } from './download.js';

export interface ProgressEvent {
  status: 'initiate' | 'download' | 'progress' | 'done' | 'ready' | 'prepare';
  name: string;          // model id
  file?: string;
  loaded?: number;
  total?: number;
  progress?: number;     // 0–100 when total is known
}

export interface HubOptions {
  /** Remote host in the Hugging Face URL layout. Default: env OCELLUS_REMOTE_HOST, HF_ENDPOINT, or https://huggingface.co */
  remoteHost?: string;
  revision?: string;
  /** Cache folder. Default: env OCELLUS_CACHE, else ~/.cache/ocellus (XDG_CACHE_HOME respected). */
  cacheDir?: string;
  /** Never touch the network (env OCELLUS_OFFLINE=1 or HF_HUB_OFFLINE=1). */
  offline?: boolean;
  /** Largest file accepted, in bytes (default 2 GB). */
  maxFileBytes?: number;
  /** Time in ms for each response to start (default 30 s). The whole download has no time limit. */
  timeoutMs?: number;
  /** Longest silence in ms while a body streams before the download is abandoned (default 30 s). */
  idleTimeoutMs?: number;
  /** One-line notices (a corrupt cached file moved aside, …). Default: console.warn. */
  onNotice?: (message: string) => void;
  onProgress?: (e: ProgressEvent) => void;
  /** 'fp32' → onnx/model.onnx, 'q8'/'int8'/'quantized' → onnx/model_quantized.onnx (transformers.js names). */
  dtype?: ModelDtype;
  /** Explicit ONNX file inside the folder (overrides dtype), e.g. 'onnx/model_fp16.onnx'. */
  modelFile?: string;
}

export type ModelDtype = 'fp32' | 'q8' | 'int8' | 'uint8' | 'quantized';

export interface ResolvedModel {
  id: string;
  onnxPath: string;
  config?: Record<string, unknown>;
  preprocessorConfig?: Record<string, unknown>;
  dir: string;
}

export class ModelNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelNotFoundError';
  }
}

export function onnxFileFor(opts: Pick<HubOptions, 'dtype' | 'modelFile'>): string {
  if (opts.modelFile) return opts.modelFile;
  const d = opts.dtype ?? 'fp32';
  if (d === 'fp32') return 'onnx/model.onnx';
  if (d === 'q8' || d === 'int8' || d === 'uint8' || d === 'quantized') return 'onnx/model_quantized.onnx';
  throw new Error(`unknown dtype '${d as string}' (expected fp32 or q8)`);
}

export async function defaultCacheDir(): Promise<string> {
  const fromEnv = envVar('OCELLUS_CACHE');
  if (fromEnv) return fromEnv;
  const os = await import('node:os');
  const path = await import('node:path');
  const base = envVar('XDG_CACHE_HOME') ?? path.join(os.homedir(), '.cache');
  return path.join(base, 'ocellus');
}

const HUB_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

export function isHubId(id: string): boolean {
  return HUB_ID.test(id) && !id.includes('..');
}

async function readJsonIfExists(file: string): Promise<Record<string, unknown> | undefined> {
  const fs = await import('node:fs/promises');
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

/** A folder holding `onnxFile` (or model.onnx at its top level) with optional configs beside it. */
async function fromFolder(id: string, dir: string, opts: HubOptions): Promise<ResolvedModel> {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const wanted = onnxFileFor(opts);
  const candidates = [wanted, ...(opts.modelFile ? [] : [path.basename(wanted)])];
  const onnxPath = candidates.map(c => path.join(dir, c)).find(p => fs.existsSync(p));
  if (!onnxPath) throw new ModelNotFoundError(`${id}: no ${candidates.join(' or ')} in the folder ${dir}`);
  return {
    id, dir, onnxPath,
    config: await readJsonIfExists(path.join(dir, 'config.json')),
    preprocessorConfig: await readJsonIfExists(path.join(dir, 'preprocessor_config.json')),
  };
}

/** A path to an .onnx file: configs are looked for beside it, then one level up (the onnx/ sub-folder layout). */
async function fromOnnxFile(id: string, file: string): Promise<ResolvedModel> {
  const path = await import('node:path');
  const dir = path.dirname(file);
  const up = path.basename(dir) === 'onnx' ? path.dirname(dir) : dir;
  const config = (await readJsonIfExists(path.join(dir, 'config.json'))) ?? (await readJsonIfExists(path.join(up, 'config.json')));
  const preprocessorConfig = (await readJsonIfExists(path.join(dir, 'preprocessor_config.json'))) ?? (await readJsonIfExists(path.join(up, 'preprocessor_config.json')));
  return { id, dir: up, onnxPath: file, config, preprocessorConfig };
}

/** Resolves a model id to local files, downloading hub ids into the cache when needed. */
export async function resolveModel(id: string, opts: HubOptions = {}): Promise<ResolvedModel> {
  const fs = await import('node:fs');
  const path = await import('node:path');
  if (fs.existsSync(id)) {
    const st = fs.statSync(id);
    return st.isDirectory() ? fromFolder(id, id, opts) : fromOnnxFile(id, id);
  }
  if (id.endsWith('.onnx') || /^[./~]/.test(id) || path.isAbsolute(id)) throw new ModelNotFoundError(`${id}: no such file or folder`);
  if (!isHubId(id)) throw new ModelNotFoundError(`${id}: no such file or folder, and not a hub id (owner/name)`);
  const revision = opts.revision ?? 'main';
  const cacheDir = opts.cacheDir ?? (await defaultCacheDir());
  const dir = path.join(cacheDir, 'models', ...id.split('/'), revision);
  const files = [onnxFileFor(opts), 'config.json', 'preprocessor_config.json'];
  const offline = isOffline(opts);
  // A cached file that does not parse (saved by an older version, or damaged since) is moved aside and fetched again.
  const corrupt = await verifyCached(dir, files);
  for (const c of corrupt) {
    notice(opts, `${id}: the cached ${path.relative(dir, c.file)} is unusable (${c.reason}); moved it to ${c.movedTo}` +
      (offline ? '' : ' and downloading it again'));
  }
  const missing = files.filter(f => !fs.existsSync(path.join(dir, f)));
  if (missing.length && offline) {
    throw new ModelNotFoundError(`${id}: not in the cache (${dir}) and offline mode is on; missing ${missing.join(', ')}` +
      (corrupt.length ? ` (${corrupt.map(c => path.relative(dir, c.file)).join(', ')} failed verification)` : ''));
  }
  for (const f of missing) {
    if (await downloadFile(id, revision, f, path.join(dir, f), { ...opts, required: f !== 'preprocessor_config.json' })) {
      await markVerified(dir, [f]);   // checked before it was renamed into place
    }
  }
  opts.onProgress?.({ status: 'ready', name: id });
  return fromFolder(id, dir, opts);
}

export function isOffline(opts: Pick<HubOptions, 'offline'>): boolean {
  return opts.offline ?? (envVar('OCELLUS_OFFLINE') === '1' || envVar('HF_HUB_OFFLINE') === '1');
}

/** A one-line message for the user: opts.onNotice, else console.warn. */
export function notice(opts: Pick<HubOptions, 'onNotice'>, message: string): void {
  (opts.onNotice ?? console.warn)(`ocellus: ${message}`);
}

/**
 * What Hugging Face says a file is: for an LFS file the resolve response (the redirect to the CDN, or the answer
 * itself) carries `x-linked-size` and `x-linked-etag` (the quoted sha256 of the content). Other hubs send neither.
 */
export function hubExpectation(responses: readonly Response[]): Expectation | undefined {
  const header = (h: string) => responses.map(r => r.headers.get(h)).find(v => v !== null) ?? undefined;
  const size = header('x-linked-size');
  const etag = header('x-linked-etag')?.replace(/^W\//, '').replace(/"/g, '').trim();
  const sha256 = etag && /^[0-9a-f]{64}$/i.test(etag) ? etag.toLowerCase() : undefined;
  const bytes = size !== undefined && /^\d+$/.test(size.trim()) ? Number(size) : undefined;
  if (bytes === undefined && sha256 === undefined) return undefined;
  return { size: bytes, sha256, from: 'the hub\'s x-linked-size/x-linked-etag' };
}

/**
 * Downloads one file of a hub repo to `dest` (temp file + rename), streaming, with the hub's size and sha256 checked
 * where it sends them and the content checked (ONNX decodes, JSON parses) before the file lands in the cache.
 */
export async function downloadFile(id: string, revision: string, file: string, dest: string,
  opts: HubOptions & { required?: boolean } = {}): Promise<boolean> {
  const host = (opts.remoteHost ?? envVar('OCELLUS_REMOTE_HOST') ?? envVar('HF_ENDPOINT') ?? 'https://huggingface.co').replace(/\/+$/, '');
  const url = `${host}/${id}/resolve/${encodeURIComponent(revision)}/${file}`;
  const say = (e: Omit<ProgressEvent, 'name' | 'file'>) => opts.onProgress?.({ name: id, file, ...e });
  say({ status: 'initiate' });
  let got: DownloadResult | undefined;
  try {
    got = await download(url, dest, {
      name: file,
      startTimeoutMs: opts.timeoutMs,
      idleTimeoutMs: opts.idleTimeoutMs,
      maxBytes: opts.maxFileBytes ?? 2 * 1024 ** 3,
      allowMissing: !opts.required,
      expect: hubExpectation,
      check: tmp => checkContent(tmp, file),
      onProgress: (loaded, total) => say(loaded === 0
        ? { status: 'download', loaded, total }
        : { status: 'progress', loaded, total, progress: total ? (100 * loaded) / total : undefined }),
    });
  } catch (e) {
    const status = (e as DownloadError).status;
    throw new ModelNotFoundError(`${id}: ${(e as Error).message}${status === 404 ? ' (no such model or file)' : ''}`);
  }
  if (!got) return false;
  say({ status: 'done', loaded: got.bytes, total: got.bytes });
  return true;
}
