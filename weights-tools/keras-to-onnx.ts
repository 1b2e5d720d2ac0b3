// Converts a Keras model saved in the TF.js layers format (model.json + weight shards) into an ocellus IR Model
// (ONNX opset 13, ir_version 7) laid out as a PyTorch export: NCHW input [batch_size, C, H, W], OIHW conv weights,
// Gemm with transB=1. Layer classes are in keras-layers.ts; serialise the result with encodeModel (src/onnx/encode.ts).

import fs from 'node:fs';
import path from 'node:path';
import { GraphBuilder } from '../src/ir/builder.js';
import type { Model, ValueDecl } from '../src/ir/graph.js';
import { LAYERS, LayerContext, type KTensor } from './keras-layers.js';
import { parseKerasTopology, tensorKey, type Dim, type KerasTopology } from './keras-topology.js';
import { readTfjsWeights, type ProgressFn, type TfjsWeight, type TfjsWeightsGroup } from './tfjs-weights.js';

export const OPSET = 13;
export const IR_VERSION = 7;

export interface KerasConvertOptions {
  /** Name of the graph input (single-input models); default: the Keras input layer's name. */
  inputName?: string;
  /** Name of the graph output (single-output models); default 'probabilities' after a softmax, else 'logits'. */
  outputName?: string;
  /** Keras input shape without the batch dim (channels last), for models saved with unknown height/width. */
  inputShape?: number[];
  /** Symbolic batch dimension (dim_param); default 'batch_size'. */
  batchDim?: string;
  /** Allow manifest weights that no layer reads (default: an error, since it usually means a naming mismatch). */
  allowUnusedWeights?: boolean;
  onProgress?: ProgressFn;
}

/** Keras shape (batch first, channels last) → the ONNX value's shape (NCHW when rank 4). */
function onnxShape(shape: Dim[], batchDim: string): (number | string | null)[] {
  const dims: (number | string | null)[] = [batchDim, ...shape.slice(1)];
  return dims.length === 4 ? [dims[0]!, dims[3]!, dims[1]!, dims[2]!] : dims;
}

function addInputs(b: GraphBuilder, topo: KerasTopology, opts: KerasConvertOptions, where: string): Map<string, KTensor> {
  const tensors = new Map<string, KTensor>();
  if (opts.inputName && topo.inputs.length !== 1) throw new Error(`${where}: inputName given, but the model has ${topo.inputs.length} inputs`);
  for (const input of topo.inputs) {
    if (input.dtype !== 'float32') throw new Error(`${where}: input '${input.layer.name}' has dtype ${input.dtype}; only float32 is supported`);
    let shape = input.shape;
    if (opts.inputShape) {
      if (opts.inputShape.length !== shape.length - 1) {
        throw new Error(`${where}: inputShape [${opts.inputShape}] has rank ${opts.inputShape.length}, input '${input.layer.name}' has rank ${shape.length - 1} (batch excluded)`);
      }
      shape = [null, ...opts.inputShape];
    }
    const name = opts.inputName ?? input.layer.name;
    b.input(name, 'float32', onnxShape(shape, opts.batchDim ?? 'batch_size'));
    tensors.set(tensorKey({ layer: input.layer.name, node: 0, tensor: 0 }), { value: name, shape, nonNeg: false });
  }
  return tensors;
}

function convertCalls(ctx: LayerContext, topo: KerasTopology, tensors: Map<string, KTensor>, where: string): void {
  for (const call of topo.calls) {
    const { name, className, config } = call.layer;
    const fn = LAYERS[className];
    if (!fn) {
      throw new Error(`${where}: layer '${name}' has class '${className}', which the converter does not support ` +
        `(supported: ${Object.keys(LAYERS).join(', ')})`);
    }
    const inputs = call.inputs.map(r => {
      const t = tensors.get(tensorKey(r));
      if (!t) throw new Error(`${where}: layer '${name}' reads output ${r.tensor} of '${r.layer}', which does not exist`);
      return t;
    });
    const node = call.callIndex === 0 ? name : `${name}_${call.callIndex}`;
    const out = fn(ctx, { node, layer: name, className, cfg: config, inputs });
    tensors.set(tensorKey({ layer: name, node: call.callIndex, tensor: 0 }), out);
  }
}

/** Makes the producer of `value` write `name` directly (as torch exports do); falls back to an Identity node. */
function nameOutput(ctx: LayerContext, value: string, name: string, where: string): void {
  const g = ctx.b.graph;
  const taken = g.inputs.some(i => i.name === name) || g.initializers.has(name) || g.nodes.some(n => n.outputs.includes(name));
  if (taken) throw new Error(`${where}: output name '${name}' is already used by another value`);
  const producer = g.nodes.find(n => n.outputs.includes(value));
  const isOutputAlready = g.outputs.some(o => o.name === value);
  if (!producer || isOutputAlready) {
    ctx.b.node('Identity', [value], {}, { name, outputs: [name] });
    return;
  }
  producer.outputs = producer.outputs.map(o => (o === value ? name : o));
  for (const n of g.nodes) n.inputs = n.inputs.map(i => (i === value ? name : i));
}

function addOutputs(ctx: LayerContext, topo: KerasTopology, tensors: Map<string, KTensor>, opts: KerasConvertOptions, where: string): string[] {
  if (opts.outputName && topo.outputs.length !== 1) throw new Error(`${where}: outputName given, but the model has ${topo.outputs.length} outputs`);
  const kinds: string[] = [];
  const decls: ValueDecl[] = topo.outputs.map(ref => {
    const t = tensors.get(tensorKey(ref));
    if (!t) throw new Error(`${where}: output '${ref.layer}' (node ${ref.node}, tensor ${ref.tensor}) is produced by no layer`);
    const value = ctx.val(t);
    const isSoftmax = ctx.b.graph.nodes.find(n => n.outputs.includes(value))?.opType === 'Softmax';
    kinds.push(isSoftmax ? 'probabilities' : 'logits');
    const name = topo.outputs.length === 1 ? (opts.outputName ?? kinds[0]!) : ref.layer;
    if (name !== value) nameOutput(ctx, value, name, where);
    return { name, dtype: 'float32', shape: onnxShape(t.shape, opts.batchDim ?? 'batch_size') };
  });
  ctx.b.graph.outputs.push(...decls);
  return kinds;
}

/** Converts an already-parsed model.json with its weights (by manifest name). `where` names the source in errors. */
export function convertKerasTopology(modelJson: unknown, weights: Map<string, TfjsWeight>,
  opts: KerasConvertOptions = {}, where = 'model.json'): Model {
  const topo = parseKerasTopology(modelJson, where);
  const b = new GraphBuilder(topo.name);
  const ctx = new LayerContext(b, weights);
  const tensors = addInputs(b, topo, opts, where);
  convertCalls(ctx, topo, tensors, where);
  const kinds = addOutputs(ctx, topo, tensors, opts, where);
  const unused = [...weights.keys()].filter(k => !ctx.usedWeights.has(k));
  if (unused.length && !opts.allowUnusedWeights) {
    throw new Error(`${where}: ${unused.length} weight(s) in the manifest are read by no layer: ` +
      `${unused.slice(0, 8).join(', ')}${unused.length > 8 ? ', …' : ''} (pass allowUnusedWeights to ignore)`);
  }
  const json = modelJson as Record<string, unknown>;
  const metadata: Record<string, string> = {
    source_format: 'tfjs layers-model (Keras)',
    keras_model_name: topo.name,
    converter: 'ocellus weights-tools/keras-to-onnx',
    layout: 'NCHW (converted from Keras channels_last)',
    output_kind: kinds.join(','),
  };
  if (kinds.length === 1 && kinds[0] === 'probabilities') metadata.output_activation = 'softmax';
  if (topo.kerasVersion) metadata.keras_version = topo.kerasVersion;
  if (typeof json.generatedBy === 'string') metadata.generated_by = json.generatedBy;
  if (typeof json.convertedBy === 'string') metadata.tfjs_converted_by = json.convertedBy;
  return b.model(OPSET, {
    irVersion: IR_VERSION,
    producerName: 'ocellus-weights-tools',
    producerVersion: '0.1.0',
    docString: `Keras model '${topo.name}' converted from the TF.js layers format; output${kinds.length > 1 ? 's are' : ' is'} ${kinds.join(', ')}.`,
    metadata,
  });
}

/** Reads model.json and its weight shards from disk and converts them; see KerasConvertOptions. */
export function convertKerasLayersModel(modelJsonPath: string, opts: KerasConvertOptions = {}): Model {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(modelJsonPath, 'utf8'));
  } catch (e) {
    throw new Error(`${modelJsonPath}: cannot read model.json (${(e as Error).message})`);
  }
  const manifest = (json as { weightsManifest?: TfjsWeightsGroup[] }).weightsManifest;
  if (!Array.isArray(manifest)) throw new Error(`${modelJsonPath}: no weightsManifest (not a TF.js layers model with weights?)`);
  const weights = readTfjsWeights(path.dirname(modelJsonPath), manifest, opts.onProgress);
  return convertKerasTopology(json, weights, opts, modelJsonPath);
}
