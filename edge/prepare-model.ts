// Node-only, run by edge/build.mjs through tsx: which model files go into the Worker. The default is the int8 twin of
// the bundled ResNet-50 (onnx/model_quantized.onnx), made on first use by the same code as `ocellus quantize` and
// pipeline(…, { dtype: 'q8' }) (src/pipeline/quantized.ts with weights-tools' quantizer registered); fp32 takes
// onnx/model.onnx as is. Never bundled into the Worker.

import fs from 'node:fs';
import path from 'node:path';
import { installModelTools } from '../src/model-tools.js';
import { DEFAULT_MODEL_ID, resolveDefaultModel } from '../src/pipeline/default-model.js';
import type { ResolvedModel } from '../src/pipeline/hub.js';
import { ensureQuantized } from '../src/pipeline/quantized.js';

export type EdgeDtype = 'q8' | 'fp32';

export interface EdgeModelFiles {
  id: string;
  dtype: EdgeDtype;
  onnx: string;
  config: string;
  preprocessorConfig: string;
}

/** The ONNX file and configs for the Worker: `modelDir` (a folder in the Hugging Face layout) or the bundled model. */
export async function edgeModelFiles(dtype: EdgeDtype, modelDir?: string): Promise<EdgeModelFiles> {
  installModelTools();   // the default model's preparer and the int8 quantizer, as the CLI registers them
  const say = (e: { status: string; file?: string; progress?: number }) => {
    if (e.status === 'prepare') console.log(`edge build: preparing ${e.file ?? 'the model'} (first use)`);
  };
  const fp32: ResolvedModel = modelDir
    ? { id: path.basename(path.resolve(modelDir)), onnxPath: path.join(modelDir, 'onnx', 'model.onnx'), dir: modelDir }
    : await resolveDefaultModel({ onProgress: say });
  if (!fs.existsSync(fp32.onnxPath)) throw new Error(`edge build: ${fp32.onnxPath} is missing (model folder ${fp32.dir})`);
  const chosen = dtype === 'q8' ? await ensureQuantized(fp32, { onProgress: say }) : fp32;
  return {
    id: modelDir ? fp32.id : DEFAULT_MODEL_ID,
    dtype,
    onnx: chosen.onnxPath,
    config: path.join(fp32.dir, 'config.json'),
    preprocessorConfig: path.join(fp32.dir, 'preprocessor_config.json'),
  };
}

export { MAX_ASSET_BYTES, partSizes } from './model-assets.js';
