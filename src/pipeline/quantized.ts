// `dtype: 'q8'` on a local file or folder (or the bundled default model) without an 8-bit twin: the float model is
// quantized on first use by the registered quantizer (weights-tools' dynamic int8 quantization, the same as
// `ocellus quantize`) and the result cached beside the float file — onnx/model.onnx → onnx/model_quantized.onnx, the
// name Hugging Face repos and transformers.js use — or, where that folder is read-only, in the cache folder.

import { defaultCacheDir, type HubOptions, type ResolvedModel } from './hub.js';
import { modelTools } from './tools.js';

const Q8 = new Set(['q8', 'int8', 'uint8', 'quantized']);

export function wantsQuantized(opts: Pick<HubOptions, 'dtype' | 'modelFile'>): boolean {
  return !opts.modelFile && opts.dtype !== undefined && Q8.has(opts.dtype);
}

/** `x.onnx` → `x_quantized.onnx` beside it. */
export function quantizedPathFor(onnxPath: string): string {
  return onnxPath.replace(/(\.onnx)?$/i, '_quantized.onnx');
}

/** The 8-bit twin of a resolved float model: an existing one beside it, else one made now (with progress). */
export async function ensureQuantized(fp32: ResolvedModel, opts: HubOptions): Promise<ResolvedModel> {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const beside = quantizedPathFor(fp32.onnxPath);
  if (fs.existsSync(beside)) return { ...fp32, onnxPath: beside };
  const quantize = modelTools().quantize;
  if (!quantize) {
    throw new Error(`${fp32.id}: no 8-bit model at ${beside}, and no quantizer is registered to make one ` +
      `(import from 'ocellus', or run \`ocellus quantize ${fp32.onnxPath}\`)`);
  }
  const st = fs.statSync(fp32.onnxPath);
  const cached = path.join(opts.cacheDir ?? (await defaultCacheDir()), 'quantized',
    `${path.basename(fp32.onnxPath, '.onnx')}-${hash(`${path.resolve(fp32.onnxPath)}:${st.size}:${st.mtimeMs}`)}_quantized.onnx`);
  if (fs.existsSync(cached)) return { ...fp32, onnxPath: cached };
  const say = (e: { stage: string; done: number; total: number }) => opts.onProgress?.({
    status: 'progress', name: fp32.id, file: `quantize: ${e.stage}`, loaded: e.done, total: e.total, progress: e.total ? (100 * e.done) / e.total : undefined,
  });
  opts.onProgress?.({ status: 'prepare', name: fp32.id, file: 'int8 quantization' });
  try {
    await quantize(fp32.onnxPath, beside, say);
    return { ...fp32, onnxPath: beside };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EROFS' && code !== 'EPERM') throw e;
  }
  fs.mkdirSync(path.dirname(cached), { recursive: true });   // the model's folder is read-only: cache it instead
  await quantize(fp32.onnxPath, cached, say);
  return { ...fp32, onnxPath: cached };
}

/** A short, stable name part (FNV-1a, 32 bits, hex) for a cache file. */
function hash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}
