// Builds an ImageClassificationPipeline from in-memory parts (ONNX bytes + config.json + preprocessor_config.json)
// for runtimes without a filesystem (Workers, browsers). Uses ImageClassificationPipeline.fromParts when the
// pipeline module has it; until then, a stand-in that repeats what ImageClassificationPipeline.create does
// after resolving files (kept to that one job; remove it once fromParts lands).

import { ImageClassificationPipeline, type PipelineOptions } from '../src/pipeline/index.js';
import { labelsFromConfig } from '../src/pipeline/labels.js';
import { ImageProcessor } from '../src/image/preprocess.js';
import { producers } from '../src/ir/edit.js';
import { InferenceSession } from '../src/runtime/session.js';

export interface ModelParts {
  /** Name used in errors and /models. */
  id: string;
  onnx: Uint8Array | ArrayBuffer;
  config?: Record<string, unknown>;
  preprocessorConfig: Record<string, unknown>;
}

type FromParts = (parts: ModelParts, opts?: PipelineOptions) => Promise<ImageClassificationPipeline>;

export async function pipelineFromParts(parts: ModelParts, opts: PipelineOptions = {}): Promise<ImageClassificationPipeline> {
  const native = (ImageClassificationPipeline as unknown as { fromParts?: FromParts }).fromParts;
  if (native) return native.call(ImageClassificationPipeline, parts, opts);
  return standIn(parts, opts);
}

type PipelineCtor = new (...args: unknown[]) => ImageClassificationPipeline;

async function standIn(parts: ModelParts, opts: PipelineOptions): Promise<ImageClassificationPipeline> {
  const processor = ImageProcessor.fromConfig(parts.preprocessorConfig);
  const onnx = parts.onnx instanceof Uint8Array ? parts.onnx : new Uint8Array(parts.onnx);
  const session = await InferenceSession.create(onnx, { name: parts.id, ...opts.session });
  const classes = Number(session.outputMetadata[0]?.shape?.at(-1));
  const labels = opts.labels ?? labelsFromConfig(parts.config, Number.isFinite(classes) ? classes : Object.keys((parts.config?.id2label ?? {}) as object).length);
  const g = session.model.graph;
  let prod = producers(g).get(g.outputs[0]!.name);
  while (prod && prod.opType === 'Identity') prod = producers(g).get(prod.inputs[0]!);
  const model = { id: parts.id, onnxPath: `${parts.id} (in memory)`, dir: '', config: parts.config, preprocessorConfig: parts.preprocessorConfig };
  return new (ImageClassificationPipeline as unknown as PipelineCtor)(model, session, processor, labels, prod?.opType === 'Softmax', opts.image ?? {});
}
