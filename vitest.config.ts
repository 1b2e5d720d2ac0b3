import path from 'node:path';
import { defineConfig } from 'vitest/config';

// Two projects. `unit` (operators, passes, IR, loader, images, runtime, kernels…) needs no prepared model and starts
// at once: `npx vitest run --project unit`, or any single file of it. `models` holds the files that use the real
// ResNet-50 / ViT-B/16 of the test cache (test/helpers/models.ts: resnet50Dir, vitB16Dir, or the default model through
// OCELLUS_CACHE) and the slow process-level suites (server, CLI, package, edge, bench); its global setup prepares the
// models once, before any of its files, and in a whole run it goes after `unit`. A new file lands in `unit` unless it
// is listed here: one that needs the models still works there (resnet50Dir prepares on demand), only slower.
const MODELS = [
  'test/models/**/*.test.ts', 'test/pipeline/**/*.test.ts', 'test/cli/**/*.test.ts', 'test/server/**/*.test.ts',
  'test/inspect/**/*.test.ts', 'test/edge/**/*.test.ts', 'test/bench/**/*.test.ts', 'test/package.test.ts',
  'test/weights-tools/quantize.test.ts', 'test/weights-tools/vit-full.test.ts', 'test/weights-tools/keras-resnet50.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 600_000,
    pool: 'forks',
    // The WASM backend is single-threaded and heavy: two workers keep both cores busy without thrashing memory.
    maxWorkers: 2,
    // Models prepared for tests live in the repo's git-ignored .cache/, never in the user's cache.
    env: { OCELLUS_CACHE: path.resolve(import.meta.dirname, '.cache/test') },
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: MODELS } },
      {
        extends: true,
        test: { name: 'models', include: MODELS, globalSetup: ['test/global-setup.ts'], sequence: { groupOrder: 1 } },
      },
    ],
  },
});
