// src/env.ts is the one place the engine reads the environment: no other file under src/ or kernels/ touches
// process.env, every OCELLUS_* name the sources mention is documented there, and envVar reads what is set.

import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEV_ENVIRONMENT, ENVIRONMENT, envVar, processEnv } from '../src/env.js';
import { REPO } from './helpers/onnx-tests.js';

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(REPO, dir), { recursive: true, withFileTypes: true })
    .filter(e => e.isFile() && /\.(ts|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts'))
    .map(e => path.relative(REPO, path.join(e.parentPath, e.name)));
}

describe('the environment, read in one place', () => {
  const files = ['src', 'kernels'].flatMap(sources);

  it('src/env.ts imports nothing (so every layer, kernels included, may import it)', () => {
    expect(fs.readFileSync(path.join(REPO, 'src/env.ts'), 'utf8')).not.toMatch(/^\s*(import|export .* from)\b/m);
  });

  it('no source file but src/env.ts reads process.env', () => {
    const bad = files.filter(f => f !== 'src/env.ts' && /process\.env\b/.test(fs.readFileSync(path.join(REPO, f), 'utf8')));
    expect(bad).toEqual([]);
  });

  it('every OCELLUS_* name in src/, kernels/, edge/, bench/ and fuzz/ is documented in src/env.ts', () => {
    // Names that look like variables but are not: bench/classify-ort-node.mjs's usage line names an argument so.
    const known = new Set([...Object.keys(ENVIRONMENT), ...Object.keys(DEV_ENVIRONMENT), 'OCELLUS_BUILD_DIR']);
    const unknown = [...files, ...['edge', 'bench', 'fuzz'].flatMap(sources)].flatMap(f =>
      [...fs.readFileSync(path.join(REPO, f), 'utf8').matchAll(/\bOCELLUS_[A-Z0-9_]*[A-Z0-9]\b/g)]
        .map(m => m[0]).filter(n => !known.has(n)).map(n => `${f}: ${n}`));
    expect([...new Set(unknown)]).toEqual([]);
  });

  it('every variable has a default and a description', () => {
    for (const [name, d] of Object.entries({ ...ENVIRONMENT, ...DEV_ENVIRONMENT })) {
      expect(d.default.length, name).toBeGreaterThan(0);
      expect(d.doc.length, name).toBeGreaterThan(10);
    }
  });
});

describe('envVar', () => {
  const was = process.env.OCELLUS_GEMM_KC;
  afterEach(() => {
    if (was === undefined) delete process.env.OCELLUS_GEMM_KC; else process.env.OCELLUS_GEMM_KC = was;
  });

  it('reads the variable as set now; unset and empty are undefined', () => {
    process.env.OCELLUS_GEMM_KC = '512';
    expect(envVar('OCELLUS_GEMM_KC')).toBe('512');
    expect(processEnv().OCELLUS_GEMM_KC).toBe('512');
    process.env.OCELLUS_GEMM_KC = '';
    expect(envVar('OCELLUS_GEMM_KC')).toBeUndefined();
    delete process.env.OCELLUS_GEMM_KC;
    expect(envVar('OCELLUS_GEMM_KC')).toBeUndefined();
  });
});
