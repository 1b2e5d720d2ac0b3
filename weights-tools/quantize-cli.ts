// CLI: dynamic int8 quantization of a model folder → <folder>/onnx/model_quantized.onnx (loaded by dtype 'q8').
//   npx tsx weights-tools/quantize-cli.ts <folder> [--per-tensor] [--ops MatMul,Conv] [--exclude NAMES] [--[no-]keep-first-last]

import path from 'node:path';
import { KEEP_FIRST_AND_LAST_DEFAULT, quantizeModelFolder, type QuantizableOp, type QuantizeProgress } from './quantize.js';

const OPS: readonly QuantizableOp[] = ['MatMul', 'Conv'];

function usage(msg?: string): never {
  if (msg) console.error(`error: ${msg}`);
  console.error(`usage: npx tsx weights-tools/quantize-cli.ts <folder> [--per-tensor] [--ops MatMul,Conv] [--exclude NAMES] [--[no-]keep-first-last]
  <folder>         a model folder with onnx/model.onnx; writes onnx/model_quantized.onnx next to it
  --per-tensor     one scale per weight tensor (default: --per-channel, one per MatMul column / Conv output channel)
  --ops LIST       which ops to quantize, comma-separated from ${OPS.join(', ')} (default: both)
  --exclude NAMES  node names to keep in float, comma-separated (a Gemm by its own name)
  --keep-first-last, --no-keep-first-last
                   keep the first and last quantizable nodes (stem conv, classifier) in float (default: ${KEEP_FIRST_AND_LAST_DEFAULT ? 'on' : 'off'})`);
  process.exit(msg ? 2 : 0);
}

interface Args { dir: string; perChannel: boolean; ops: QuantizableOp[]; exclude: string[]; keepFirstAndLast: boolean }

function parseArgs(argv: string[]): Args {
  let dir: string | undefined, perChannel = true, ops: QuantizableOp[] = [...OPS], keepFirstAndLast = KEEP_FIRST_AND_LAST_DEFAULT;
  const exclude: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') usage();
    else if (a === '--per-channel') perChannel = true;
    else if (a === '--per-tensor') perChannel = false;
    else if (a === '--ops') {
      const v = argv[++i];
      if (!v || v.startsWith('--')) usage('--ops needs a value, e.g. --ops MatMul,Conv');
      ops = v.split(',').map(s => s.trim()).filter(Boolean) as QuantizableOp[];
      const bad = ops.filter(o => !OPS.includes(o));
      if (bad.length || !ops.length) usage(`--ops: ${bad.length ? `unknown op ${bad.map(b => `'${b}'`).join(', ')}` : 'empty list'} (expected ${OPS.join(', ')})`);
    } else if (a === '--exclude') {
      const v = argv[++i];
      if (!v || v.startsWith('--')) usage('--exclude needs node names, e.g. --exclude conv1,fc1000');
      exclude.push(...v.split(',').map(s => s.trim()).filter(Boolean));
    } else if (a === '--keep-first-last') keepFirstAndLast = true;
    else if (a === '--no-keep-first-last') keepFirstAndLast = false;
    else if (a.startsWith('--')) usage(`unknown option '${a}'`);
    else if (dir) usage(`only one folder, got '${dir}' and '${a}'`);
    else dir = path.resolve(a);
  }
  if (!dir) usage('no model folder given');
  return { dir, perChannel, ops, exclude, keepFirstAndLast };
}

function progressPrinter(): (e: QuantizeProgress) => void {
  let last = '';
  return e => {
    const decile = e.total ? Math.floor((10 * e.done) / e.total) * 10 : 100;   // each stage at 0, 10, …, 100 %
    const key = `${e.stage}:${decile}`;
    if (key !== last) console.log(`  ${e.stage}${e.stage === 'quantize' ? `: ${decile}% (${e.done}/${e.total} nodes)` : ''}`);
    last = key;
  };
}

async function main(): Promise<void> {
  const { dir, perChannel, ops, exclude, keepFirstAndLast } = parseArgs(process.argv.slice(2));
  console.log(`Quantizing ${ops.join(' + ')} (${perChannel ? 'per channel' : 'per tensor'}${keepFirstAndLast ? ', first and last in float' : ''}) in ${dir}`);
  const t0 = performance.now();
  const r = await quantizeModelFolder(dir, { perChannel, opTypes: ops, exclude, keepFirstAndLast, onProgress: progressPrinter() });
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  console.log(`Done in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${r.matmuls} MatMul + ${r.convs} Conv quantized ` +
    `(${(r.weightElements / 1e6).toFixed(2)} M weights), ${r.activations} DynamicQuantizeLinear, ${r.gemmsSplit} Gemm split, ` +
    `${r.batchNormsFolded} BatchNorm folded; ${mib(r.bytesIn)} → ${mib(r.bytesOut)}`);
  if (r.kept.length) console.log(`  kept in float: ${r.kept.join(', ')}`);
  console.log(`  ${path.relative(process.cwd(), r.output) || r.output}`);
}

main().catch(e => {
  console.error(`error: ${(e as Error).message}`);
  process.exit(1);
});
