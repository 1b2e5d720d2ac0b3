// `ocellus quantize`: dynamic int8 quantization of a float model (onnxruntime's quantize_dynamic node patterns),
// written beside it where `--dtype q8` looks for it: <folder>/onnx/model_quantized.onnx, or x_quantized.onnx for x.onnx.

import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_MODEL_ID, resolveModel } from '../pipeline/index.js';
import { resolveDefaultModel } from '../pipeline/default-model.js';
import { quantizedPathFor } from '../pipeline/quantized.js';
import { KEEP_FIRST_AND_LAST_DEFAULT, quantizeModelFile, type QuantizableOp } from '../../weights-tools/quantize.js';
import { progressPrinter } from './classify.js';

const OPS: readonly QuantizableOp[] = ['MatMul', 'Conv'];

export { QUANTIZE_USAGE } from './usage.js';   // the synopsis lives there: main.ts prints it without loading this module

export const QUANTIZE_OPTIONS = `Quantize options:
  model               a folder with onnx/model.onnx, an .onnx file, or 'default' (the bundled ResNet-50, the default)
  --output FILE       where to write (default: beside the float file, where --dtype q8 looks: model_quantized.onnx)
  --per-tensor        one scale per weight tensor (default: per channel — per MatMul column / Conv output channel)
  --ops LIST          which ops to quantize, comma-separated from ${OPS.join(', ')} (default: both)
  --exclude NAMES     node names to keep in float, comma-separated
  --keep-first-last   keep the first and last quantizable nodes (stem conv, classifier) in float (default: ${KEEP_FIRST_AND_LAST_DEFAULT ? 'on' : 'off'})`;

export async function runQuantize(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: {
      output: { type: 'string' }, 'per-tensor': { type: 'boolean', default: false }, ops: { type: 'string' },
      exclude: { type: 'string' }, 'keep-first-last': { type: 'boolean', default: KEEP_FIRST_AND_LAST_DEFAULT },
      verbose: { type: 'boolean', default: false },
    },
  });
  if (positionals.length > 1) throw new Error(`quantize takes one model, got ${positionals.length}: ${positionals.join(' ')}`);
  const ops = values.ops === undefined ? [...OPS] : values.ops.split(',').map(s => s.trim()).filter(Boolean) as QuantizableOp[];
  const bad = ops.filter(o => !OPS.includes(o));
  if (bad.length || !ops.length) throw new Error(`--ops: ${bad.length ? `unknown op ${bad.map(b => `'${b}'`).join(', ')}` : 'empty list'} (expected ${OPS.join(', ')})`);

  const id = positionals[0] ?? 'default';
  const onProgress = progressPrinter();
  const model = id === 'default' || id === DEFAULT_MODEL_ID ? await resolveDefaultModel({ onProgress }) : await resolveLocal(id);
  const output = path.resolve(values.output ?? quantizedPathFor(model.onnxPath));
  const t0 = performance.now();
  const r = await quantizeModelFile(model.onnxPath, output, {
    perChannel: !values['per-tensor'], opTypes: ops, keepFirstAndLast: values['keep-first-last'],
    exclude: values.exclude?.split(',').map(s => s.trim()).filter(Boolean),
    onProgress: e => onProgress({ status: 'progress', name: model.id, file: `quantize: ${e.stage}`, progress: e.total ? (100 * e.done) / e.total : 100 }),
  });
  onProgress({ status: 'done', name: model.id });
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  console.log(`${path.relative(process.cwd(), r.output) || r.output}: ${r.matmuls} MatMul + ${r.convs} Conv quantized ` +
    `(${(r.weightElements / 1e6).toFixed(2)} M weights, ${values['per-tensor'] ? 'per tensor' : 'per channel'}), ` +
    `${mib(r.bytesIn)} → ${mib(r.bytesOut)} in ${((performance.now() - t0) / 1000).toFixed(1)} s` +
    (r.kept.length ? `; kept in float: ${r.kept.join(', ')}` : ''));
  return 0;
}

/** A local folder or .onnx file (hub ids: download first with `ocellus classify --model ID`). */
async function resolveLocal(id: string) {
  if (!fs.existsSync(id)) throw new Error(`${id}: no such file or folder (quantize takes a local model folder, an .onnx file, or 'default')`);
  return resolveModel(id, { dtype: 'fp32' });
}
