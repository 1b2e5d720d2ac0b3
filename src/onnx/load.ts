// Loads a model from a path, a Uint8Array or an ArrayBuffer. Node's fs is imported only for paths, so this
// module bundles for Workers and browsers.

import type { Model } from '../ir/graph.js';
import { decodeModel } from './decode.js';
import { ModelLoadError } from './errors.js';

export type ModelSource = string | Uint8Array | ArrayBuffer;

export async function loadModel(source: ModelSource, opts: { name?: string } = {}): Promise<Model> {
  if (typeof source === 'string') {
    const fs = await import('node:fs');
    const path = await import('node:path');
    let bytes: Uint8Array;
    try {
      bytes = fs.readFileSync(source);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new ModelLoadError(source, code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not an .onnx file' : (e as Error).message);
    }
    const dir = path.dirname(path.resolve(source));
    return decodeModel(bytes, {
      name: opts.name ?? source,
      ownsBytes: true,
      readExternal: location => {
        const full = path.resolve(dir, location);
        if (path.relative(dir, full).startsWith('..') || path.isAbsolute(location)) {
          throw new Error(`location '${location}' is outside the model's folder`);
        }
        if (!fs.existsSync(full)) throw new Error(`no such file next to the model (${full})`);
        return fs.readFileSync(full);
      },
    });
  }
  const bytes = source instanceof Uint8Array ? source : new Uint8Array(source);
  return decodeModel(bytes, { name: opts.name ?? 'model bytes' });
}
