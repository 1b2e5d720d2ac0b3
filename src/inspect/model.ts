// Resolves a model id the way the pipeline does (local folder, .onnx file, hub id; 'default' or nothing = the
// bundled ResNet-50) and loads the graph once, so the summary and trace sessions share one decoded model.

import type { Model } from '../ir/graph.js';
import { loadModel } from '../onnx/load.js';
import { DEFAULT_MODEL_ID, resolveDefaultModel } from '../pipeline/default-model.js';
import { resolveModel, type HubOptions, type ResolvedModel } from '../pipeline/hub.js';

export interface OpenedModel {
  id: string;
  resolved: ResolvedModel;
  model: Model;
}

export async function openModel(id?: string, opts: HubOptions = {}): Promise<OpenedModel> {
  const isDefault = !id || id === 'default' || id === DEFAULT_MODEL_ID;
  const resolved = isDefault ? await resolveDefaultModel(opts) : await resolveModel(id, opts);
  const model = await loadModel(resolved.onnxPath, { name: resolved.onnxPath });
  return { id: isDefault ? DEFAULT_MODEL_ID : id, resolved, model };
}
