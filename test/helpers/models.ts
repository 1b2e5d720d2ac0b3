// The real models the tests use, prepared once per machine into the test cache (OCELLUS_CACHE, set by
// vitest.config.ts): the bundled ResNet-50 through the same default-model path users hit, and the seeded
// ViT-B/16. Concurrent test files may race to prepare; the folder writers are atomic (temp folder + rename).

import path from 'node:path';
import { installModelTools } from '../../src/model-tools.js';
import { resolveDefaultModel } from '../../src/pipeline/default-model.js';
import { prepareViTB16 } from '../../weights-tools/vit/build-vit-folder.js';

export const TEST_CACHE = process.env.OCELLUS_CACHE ?? path.resolve(import.meta.dirname, '../../.cache/test');

let resnet: Promise<string> | undefined;
export function resnet50Dir(): Promise<string> {
  installModelTools();   // the default model's preparer, as the package entry and the CLI register it
  resnet ??= resolveDefaultModel({ cacheDir: TEST_CACHE, offline: true }).then(m => m.dir);
  return resnet;
}

let vit: Promise<string> | undefined;
export function vitB16Dir(seed = 0): Promise<string> {
  vit ??= prepareViTB16(path.join(TEST_CACHE, `vit-b16-seed${seed}`), { seed }).then(() => path.join(TEST_CACHE, `vit-b16-seed${seed}`));
  return vit;
}
