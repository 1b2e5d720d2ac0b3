// `ocellus bench`: the speed/memory/accuracy bench against onnxruntime-web and onnxruntime-node. The bench lives in
// the source checkout's bench/ folder (TypeScript run through tsx, with the devDependencies it compares against),
// so this command finds that folder and hands it the arguments; an installed package has no bench.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const BENCH_USAGE = `  ocellus bench [--models resnet50,vitb16|zoo|small-zoo] [--engines ocellus,ort-web,ort-node] [--batch 1,8] [--runs N]
                [--accuracy N] [--profile] [--soak N] [--cold] [--json out.json] [--quick]   (ocellus bench --help for all)`;

/** bench/suite.ts of the checkout this file belongs to (src/cli/ under tsx, dist/src/cli/ when built): the nearest
 *  folder above holding both package.json and bench/suite.ts. */
export function findBenchSuite(from = path.dirname(fileURLToPath(import.meta.url))): string | undefined {
  for (let dir = from, i = 0; i < 6; i++, dir = path.dirname(dir)) {
    const f = path.join(dir, 'bench', 'suite.ts');
    if (fs.existsSync(f) && fs.existsSync(path.join(dir, 'package.json'))) return f;
    if (path.dirname(dir) === dir) break;
  }
  return undefined;
}

interface SuiteModule {
  benchMain(argv: readonly string[], invokedAs?: string): Promise<number>;
  BENCH_USAGE: string;
  BENCH_OPTIONS?: string;
}

export async function runBench(argv: string[], invokedAs = 'ocellus bench'): Promise<number> {
  const suite = findBenchSuite();
  if (!suite) throw new Error('ocellus bench runs from a source checkout (npm run bench): the installed package has no bench/ folder');
  const url = pathToFileURL(suite).href;
  let mod: SuiteModule;
  try {
    mod = (await import(url)) as SuiteModule;   // already under tsx (npm run bench, npx tsx src/cli/main.ts)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw e;
    const { tsImport } = (await import('tsx/esm/api')) as { tsImport(u: string, parent: string): Promise<unknown> };
    mod = (await tsImport(url, import.meta.url)) as SuiteModule;
  }
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(`Usage:\n${mod.BENCH_USAGE}\n\n${mod.BENCH_OPTIONS ?? ''}`);
    return 0;
  }
  return mod.benchMain(argv, invokedAs);
}
