// The bundled default model: Keras's ImageNet ResNet-50, converted to ONNX on first use and cached like a hub model
// (<cache>/models/ocellus/resnet-50-keras/main/). Preparing it (fetching the Keras weights, converting them) is
// offline tooling the pipeline does not import: a composition root registers a preparer with
// setDefaultModelPreparer, importing the tooling lazily when it is first called. Without one, the id resolves like
// any hub id (a download from the configured host).

import { moveAside, verifyCached } from './cache-check.js';
import { defaultCacheDir, isOffline, notice, resolveModel, type HubOptions, type ProgressEvent, type ResolvedModel } from './hub.js';

export const DEFAULT_MODEL_ID = 'ocellus/resnet-50-keras';

export interface DefaultModelContext {
  id: string;
  /** The folder to write, in the Hugging Face layout, atomically (a temp folder renamed into place). */
  dir: string;
  /** Offline mode is on: preparing must not touch the network (and say what it would have fetched). */
  offline: boolean;
  onProgress?: (e: ProgressEvent) => void;
  /** Timeouts and size cap for any download (the hub's options). */
  hub: Pick<HubOptions, 'timeoutMs' | 'idleTimeoutMs' | 'maxFileBytes' | 'cacheDir'>;
}

export type DefaultModelPreparer = (ctx: DefaultModelContext) => Promise<void>;

let preparer: DefaultModelPreparer | undefined;

/** Registers (or with undefined, removes) what prepares the default model when it is not in the cache. */
export function setDefaultModelPreparer(p: DefaultModelPreparer | undefined): void {
  preparer = p;
}

export interface DefaultModelOptions extends HubOptions {
  /** Overrides the registered preparer for this call. */
  prepare?: DefaultModelPreparer;
}

const FILES = ['onnx/model.onnx', 'config.json', 'preprocessor_config.json'];

function preparerFor(opts: DefaultModelOptions): DefaultModelPreparer | undefined {
  return opts.prepare ?? preparer;
}

export async function resolveDefaultModel(opts: DefaultModelOptions = {}): Promise<ResolvedModel> {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const cacheDir = opts.cacheDir ?? (await defaultCacheDir());
  const dir = path.join(cacheDir, 'models', ...DEFAULT_MODEL_ID.split('/'), opts.revision ?? 'main');
  const prepare = preparerFor(opts);
  if (fs.existsSync(dir) && prepare) {
    // The preparer writes the folder whole (temp folder + rename): one that does not check out is set aside whole.
    const bad = [
      ...FILES.filter(f => !fs.existsSync(path.join(dir, f))).map(f => `${f} is missing`),
      ...(await verifyCached(dir, FILES, false)).map(c => `${path.relative(dir, c.file)} is unusable (${c.reason})`),
    ];
    if (bad.length) {
      const to = moveAside(fs, path, dir);
      notice(opts, `${DEFAULT_MODEL_ID}: in the cached folder ${bad.join(', ')}; moved it to ${to}` +
        (isOffline(opts) ? '' : ' and preparing it again'));
    }
  }
  if (!fs.existsSync(path.join(dir, 'onnx', 'model.onnx')) && prepare) {
    await prepare({
      id: DEFAULT_MODEL_ID, dir, offline: isOffline(opts), onProgress: opts.onProgress,
      hub: { timeoutMs: opts.timeoutMs, idleTimeoutMs: opts.idleTimeoutMs, maxFileBytes: opts.maxFileBytes, cacheDir },
    });
  }
  return resolveModel(DEFAULT_MODEL_ID, { ...opts, cacheDir });
}
