// kernels/README.md (the contributor's guide) names code as `file:symbol`; each must still be a declaration in that
// file (const, let, function, class, interface, type, enum), so a rename or a move breaks this test, not the guide.

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../helpers/onnx-tests.js';

const guide = fs.readFileSync(path.join(REPO, 'kernels/README.md'), 'utf8');
const refs = [...new Set([...guide.matchAll(/`([\w./-]+\.ts):(\w+)`/g)].map(m => `${m[1]}:${m[2]}`))];

/** The reasons a reference is broken ('' when it is fine). */
function check(ref: string): string {
  const [file, symbol] = ref.split(':') as [string, string];
  const full = path.join(REPO, file);
  if (!fs.existsSync(full)) return `${ref}: no file ${file}`;
  const decl = new RegExp(`\\b(?:const|let|function|class|interface|type|enum)\\s+${symbol}\\b`);
  return decl.test(fs.readFileSync(full, 'utf8')) ? '' : `${ref}: ${file} declares no ${symbol}`;
}

describe('kernels/README.md', () => {
  it('names code by file:symbol, and every symbol is declared in its file', () => {
    expect(refs.length).toBeGreaterThan(30);
    expect(refs.map(check).filter(Boolean)).toEqual([]);
  });

  it('the check catches a stale reference', () => {
    expect(check('kernels/elementwise.ts:noSuchSymbol')).toMatch(/declares no noSuchSymbol/);
    expect(check('kernels/gone.ts:unary')).toMatch(/no file/);
  });

  it('its worked examples point at the three kinds of code the guide promises', () => {
    for (const r of ['kernels/elementwise.ts:unary', 'kernels/elementwise.ts:clipAttrs', 'kernels/elementwise.ts:clipInputs',
      'src/passes/fuse-conv-activation.ts:fuseConvActivation']) expect(refs).toContain(r);
  });
});
