// The dependency direction of STYLE.md, checked on the import statements of every source file:
// cli | server → pipeline → runtime → kernels → tfjs-core, and runtime → passes → ir ← onnx.

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './helpers/onnx-tests.js';

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(REPO, dir), { recursive: true, withFileTypes: true })
    .filter(e => e.isFile() && /\.ts$/.test(e.name) && !e.name.endsWith('.d.ts'))
    .map(e => path.relative(REPO, path.join(e.parentPath, e.name)));
}

/** Every module specifier a file imports (static, dynamic and re-exports), resolved to repo paths when relative. */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(path.join(REPO, file), 'utf8');
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)]
    .map(m => m[1] ?? m[2]!);
  return specs.map(s => (s.startsWith('.') ? path.relative(REPO, path.resolve(path.dirname(path.join(REPO, file)), s)) : s));
}

const RULES: { from: string[]; forbidden: RegExp; why: string }[] = [
  { from: ['src/pipeline', 'src/server', 'src/cli', 'src/image', 'src/inspect'], forbidden: /^(kernels\/|@tensorflow\/)/, why: 'only the runtime talks to kernels and tfjs' },
  { from: ['src/passes', 'src/onnx', 'src/ir'], forbidden: /^(kernels\/|@tensorflow\/|src\/runtime\/|src\/pipeline\/)/, why: 'passes and the loader see only the IR' },
  { from: ['src/ir'], forbidden: /^(protobufjs|src\/onnx\/)/, why: 'the IR knows nothing of protobuf' },
  { from: ['src/pipeline', 'src/server', 'src/image', 'src/runtime', 'src/onnx', 'src/ir', 'src/passes', 'src/inspect', 'kernels'], forbidden: /^weights-tools\//, why: 'offline tooling is wired in by the composition roots (src/index.ts, src/cli)' },
  { from: ['src/pipeline', 'src/server', 'src/cli'], forbidden: /^src\/(ir|passes)\//, why: 'the graph is the runtime\'s business: above it, ask the session (e.g. runtime/outputs.ts)' },
  { from: ['src', 'kernels', 'weights-tools'], forbidden: /^(bench|edge|test|fuzz)\//, why: 'the library never reaches into the bench, the edge builds or the tests' },
  { from: ['kernels'], forbidden: /^src\/(runtime|pipeline|server|cli|image|inspect|passes)\//, why: 'kernels sit below the runtime' },
];

describe('layering', () => {
  for (const rule of RULES) {
    it(`${rule.from.join(', ')} import nothing matching ${rule.forbidden} (${rule.why})`, () => {
      const bad = rule.from.flatMap(sources).flatMap(f => importsOf(f).filter(i => rule.forbidden.test(i)).map(i => `${f} → ${i}`));
      expect(bad).toEqual([]);
    });
  }

  it("the package root ('ocellus') does not pull in the server: that is 'ocellus/server'", () => {
    expect(importsOf('src/index.ts').filter(i => i.startsWith('src/server/'))).toEqual([]);
  });

  it('protobufjs is imported only by src/onnx', () => {
    const all = ['src', 'kernels'].flatMap(sources);
    const bad = all.filter(f => !f.startsWith('src/onnx/') && importsOf(f).some(i => i.startsWith('protobufjs')));
    expect(bad).toEqual([]);
  });
});
