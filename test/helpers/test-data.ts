// Test data and tools outside the repository (../shared, Debian's libonnx-testdata, djpeg, Chromium): a suite whose
// data is missing skips on a developer's machine, but when CI is set the file fails instead, naming what is missing
// and where it comes from, so a CI run can never pass by testing nothing.

import fs from 'node:fs';

/**
 * True when every path exists. When one is missing: false (the caller skips), or, with CI set in `env`, throws an
 * error naming the missing paths, what they are and how to get them (at a file's top level this fails the file).
 */
export function haveTestData(paths: string | readonly string[], what: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const missing = (typeof paths === 'string' ? [paths] : paths).filter(p => !fs.existsSync(p));
  if (missing.length === 0) return true;
  if (env.CI) throw new Error(`${what}: not found: ${missing.join(', ')} (CI is set, so missing test data fails instead of skipping)`);
  return false;
}

/** `haveTestData` for a condition the caller worked out (a tool that runs, a non-empty folder). */
export function haveTestTool(present: boolean, what: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (present) return true;
  if (env.CI) throw new Error(`${what}: not available (CI is set, so a missing test tool fails instead of skipping)`);
  return false;
}
