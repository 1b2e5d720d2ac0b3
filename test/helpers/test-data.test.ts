// haveTestData / haveTestTool: a missing path or tool skips (false) on a developer's machine and fails (throws,
// naming it) when CI is set; present data is true either way.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { haveTestData, haveTestTool } from './test-data.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-test-data-'));
const present = path.join(dir, 'present.txt');
fs.writeFileSync(present, 'x');
const absent = path.join(dir, 'absent.txt');

describe('haveTestData', () => {
  it('is true when every path exists, with or without CI', () => {
    expect(haveTestData(present, 'a file', {})).toBe(true);
    expect(haveTestData([present, dir], 'a file and a folder', { CI: '1' })).toBe(true);
  });

  it('is false (skip) when a path is missing and CI is not set, or set empty', () => {
    expect(haveTestData(absent, 'a file', {})).toBe(false);
    expect(haveTestData([present, absent], 'two files', { CI: '' })).toBe(false);
  });

  it('throws, naming what is missing and only that, when CI is set', () => {
    expect(() => haveTestData([present, absent], 'the fixtures', { CI: '1' }))
      .toThrow(`the fixtures: not found: ${absent} (CI is set, so missing test data fails instead of skipping)`);
    expect(() => haveTestData(absent, 'x', { CI: 'true' })).toThrow(/not found/);
  });

  it('reads process.env by default', () => {
    const was = process.env.CI;
    try {
      process.env.CI = '1';
      expect(() => haveTestData(absent, 'x')).toThrow(absent);
      delete process.env.CI;
      expect(haveTestData(absent, 'x')).toBe(false);
    } finally {
      if (was === undefined) delete process.env.CI; else process.env.CI = was;
    }
  });
});

describe('haveTestTool', () => {
  it('passes a present tool through, skips a missing one, and throws for a missing one under CI', () => {
    expect(haveTestTool(true, 'djpeg', { CI: '1' })).toBe(true);
    expect(haveTestTool(false, 'djpeg', {})).toBe(false);
    expect(() => haveTestTool(false, 'djpeg', { CI: '1' })).toThrow('djpeg: not available');
  });
});
