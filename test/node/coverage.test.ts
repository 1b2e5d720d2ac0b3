// Every official node test that exercises a registered op is either run or skipped with a reason; nothing
// listed is missing from the test data; no test is listed twice; no two definitions share (domain, op, since).

import { describe, expect, it } from 'vitest';
import { ALL_OPS, registeredOps } from '../../kernels/registry.js';
import { HAVE_NODE_TESTS } from '../helpers/node-suite.js';
import { nodeTestOps } from '../helpers/onnx-tests.js';
import { SPECS } from './specs/index.js';

describe('operator registry', () => {
  it('has no two definitions with the same (domain, opType, since)', () => {
    const keys = ALL_OPS.map(d => `${d.domain ?? ''}:${d.opType}@${d.since}`);
    expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
  });
});

describe.skipIf(!HAVE_NODE_TESTS)('ONNX node-test coverage', () => {
  const tests = nodeTestOps();
  const registered = new Set(registeredOps().filter(o => o.domain !== 'local').map(o => (o.domain ? `${o.domain}:` : '') + o.opType));
  const listed = new Map<string, string>();
  const dupes: string[] = [];
  for (const s of SPECS) {
    for (const t of [...s.run, ...Object.keys(s.skip ?? {})]) {
      if (listed.has(t)) dupes.push(`${t} (${listed.get(t)} and ${s.family})`);
      listed.set(t, s.family);
    }
  }

  it('lists each node test once', () => expect(dupes).toEqual([]));

  it('lists only node tests that exist', () => {
    expect([...listed.keys()].filter(t => !tests.has(t))).toEqual([]);
  });

  it('runs or skips (with a reason) every node test whose ops are all registered', () => {
    const unlisted: string[] = [];
    for (const [t, { ops }] of tests) {
      if (listed.has(t)) continue;
      if (ops.some(o => registered.has(o)) && ops.every(o => registered.has(o))) unlisted.push(`${t} [${ops.join(', ')}]`);
    }
    expect(unlisted).toEqual([]);
  });

  it('every registered ONNX op has at least one node test run or an explained absence', () => {
    const ran = new Set(SPECS.flatMap(s => s.run).flatMap(t => tests.get(t)?.ops ?? []));
    const without = [...registered].filter(o => !ran.has(o) && !NO_NODE_TEST[o]);
    expect(without).toEqual([]);
  });
});

/** Registered ops with no node test in ONNX 1.12's suite that we can run, and how they are tested instead. */
const NO_NODE_TEST: Record<string, string> = {};
