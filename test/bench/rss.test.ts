// Peak RSS as the bench measures it: a spawned process's figure is its own, not floored by its parent's RSS (which
// getrusage maxRSS is on Linux: the parent's RSS carries over at exec). One small `node -e` child, a 256 MiB parent.

import { execFileSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { PEAK_RSS_SCRIPT, peakRssMiB } from '../../bench/rss.js';

it("a child's peak RSS is its own, however large the process that spawned it", () => {
  const ballast = new Uint8Array(256 * 2 ** 20).fill(1);   // resident: every page written
  expect(process.memoryUsage.rss() / 2 ** 20).toBeGreaterThan(256);
  const child = Number(execFileSync(process.execPath, ['-e', PEAK_RSS_SCRIPT], { encoding: 'utf8' }));
  expect(child).toBeGreaterThan(10);     // an empty Node process is ~40 MiB
  expect(child).toBeLessThan(128);
  expect(peakRssMiB()).toBeGreaterThanOrEqual(process.memoryUsage.rss() / 2 ** 20 - 1);
  expect(ballast[ballast.length - 1]).toBe(1);
});
