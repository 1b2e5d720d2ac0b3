// Model ids → a local folder in the Hugging Face layout (config.json, preprocessor_config.json, onnx/model.onnx).
// An id is a local folder, a path to an .onnx file, or a hub id ('Xenova/vit-base-patch16-224') fetched from
// `{host}/{id}/resolve/{revision}/{file}` into a cache folder, with progress callbacks, size checks and an
// offline switch. Downloads land in a temp file and are renamed into place, so a cache never holds half a file.

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
  /** Per-request timeout in ms for the response to start (default 30 s). */
  timeoutMs?: number;
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

function env(name: string): string | undefined {
  return typeof process !== 'undefined' ? process.env?.[name] || undefined : undefined;
}

export function onnxFileFor(opts: Pick<HubOptions, 'dtype' | 'modelFile'>): string {
  if (opts.modelFile) return opts.modelFile;
  const d = opts.dtype ?? 'fp32';
  if (d === 'fp32') return 'onnx/model.onnx';
  if (d === 'q8' || d === 'int8' || d === 'uint8' || d === 'quantized') return 'onnx/model_quantized.onnx';
  throw new Error(`unknown dtype '${d as string}' (expected fp32 or q8)`);
}

export async function defaultCacheDir(): Promise<string> {
  const fromEnv = env('OCELLUS_CACHE');
  if (fromEnv) return fromEnv;
  const os = await import('node:os');
  const path = await import('node:path');
  const base = env('XDG_CACHE_HOME') ?? path.join(os.homedir(), '.cache');
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
  const offline = opts.offline ?? (env('OCELLUS_OFFLINE') === '1' || env('HF_HUB_OFFLINE') === '1');
  const missing = files.filter(f => !fs.existsSync(path.join(dir, f)));
  if (missing.length && offline) {
    throw new ModelNotFoundError(`${id}: not in the cache (${dir}) and offline mode is on; missing ${missing.join(', ')}`);
  }
  for (const f of missing) {
    await downloadFile(id, revision, f, path.join(dir, f), { ...opts, required: f !== 'preprocessor_config.json' });
  }
  opts.onProgress?.({ status: 'ready', name: id });
  return fromFolder(id, dir, opts);
}

/** Downloads one file of a hub repo to `dest` (temp file + rename), streaming with size checks and progress. */
export async function downloadFile(id: string, revision: string, file: string, dest: string,
  opts: HubOptions & { required?: boolean } = {}): Promise<boolean> {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const host = (opts.remoteHost ?? env('OCELLUS_REMOTE_HOST') ?? env('HF_ENDPOINT') ?? 'https://huggingface.co').replace(/\/+$/, '');
  const url = `${host}/${id}/resolve/${encodeURIComponent(revision)}/${file}`;
  const max = opts.maxFileBytes ?? 2 * 1024 ** 3;
  const say = (e: Omit<ProgressEvent, 'name' | 'file'>) => opts.onProgress?.({ name: id, file, ...e });
  say({ status: 'initiate' });
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000), redirect: 'follow' });
  } catch (e) {
    throw new ModelNotFoundError(`${id}: cannot download ${file} from ${url} (${(e as Error).message})`);
  }
  if (res.status === 404 && !opts.required) {
    await res.body?.cancel();
    return false;
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new ModelNotFoundError(`${id}: downloading ${file} from ${url} failed with HTTP ${res.status}${res.status === 404 ? ' (no such model or file)' : ''}`);
  }
  const total = Number(res.headers.get('content-length') ?? NaN);
  if (total > max) {
    await res.body?.cancel();
    throw new ModelNotFoundError(`${id}: ${file} is ${total} bytes, over the ${max}-byte limit`);
  }
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const tmp = `${dest}.${process.pid}.${Date.now()}.part`;
  const out = fs.createWriteStream(tmp);
  let loaded = 0;
  say({ status: 'download', loaded: 0, total: Number.isFinite(total) ? total : undefined });
  try {
    const reader = res.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      loaded += value.byteLength;
      if (loaded > max) {
        await reader.cancel();
        throw new ModelNotFoundError(`${id}: ${file} is over the ${max}-byte limit`);
      }
      if (!out.write(value)) await new Promise<void>(r => out.once('drain', () => r()));
      say({ status: 'progress', loaded, total: Number.isFinite(total) ? total : undefined, progress: Number.isFinite(total) ? (100 * loaded) / total : undefined });
    }
    await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
    if (Number.isFinite(total) && loaded !== total) {
      throw new ModelNotFoundError(`${id}: ${file} ended after ${loaded} of ${total} bytes`);
    }
    fs.renameSync(tmp, dest);
  } catch (e) {
    out.destroy();
    fs.rmSync(tmp, { force: true });
    if (e instanceof ModelNotFoundError) throw e;
    throw new ModelNotFoundError(`${id}: downloading ${file} failed (${(e as Error).message})`);
  }
  say({ status: 'done', loaded, total: loaded });
  return true;
}
