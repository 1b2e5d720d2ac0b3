// The README states what the code does: its environment-variable table lists exactly the variables src/env.ts
// documents (the only module that reads them), with the same defaults.

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEV_ENVIRONMENT, ENVIRONMENT } from '../src/env.js';
import { REPO } from './helpers/onnx-tests.js';

const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Environment variables'), readme.indexOf('\n## ', readme.indexOf('## Environment variables') + 1));
const rows = new Map([...section.matchAll(/^\| `([^`]+)` \| (.*?) \| /gm)].map(m => [m[1]!, m[2]!]));

describe('README: environment variables', () => {
  it('lists every variable src/env.ts documents, and no other, with its default', () => {
    const documented = { ...ENVIRONMENT, ...DEV_ENVIRONMENT } as Record<string, { default: string }>;
    expect([...rows.keys()].sort()).toEqual(Object.keys(documented).sort());
    for (const [name, v] of Object.entries(documented)) expect(rows.get(name), name).toBe(v.default.replace(/\|/g, '\\|'));
  });
});
