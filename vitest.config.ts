import path from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 600_000,
    pool: 'forks',
    // The WASM backend is single-threaded and heavy: two workers keep both cores busy without thrashing memory.
    maxWorkers: 2,
    globalSetup: ['test/global-setup.ts'],
    // Models prepared for tests live in the repo's git-ignored .cache/, never in the user's cache.
    env: { OCELLUS_CACHE: path.resolve(import.meta.dirname, '.cache/test') },
  },
});
