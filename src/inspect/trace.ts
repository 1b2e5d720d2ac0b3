// trace(): one image through a model, preprocessed as the pipeline does, recording for every executed node its
// time and its (first) output's statistics and histogram; Softmax outputs add their mean row entropy, attention
// (a 4-D Softmax or a fused local:Attention) adds per-head class-token maps, convolutions add feature-map thumbnails.
// Passes on by default (the fused plan's nodes); `optimize: false` traces every node of the file's graph.

import { Buffer } from 'node:buffer';
import type { ImageInput } from '../image/load.js';
import { loadImage } from '../image/load.js';
import { ImageProcessor } from '../image/preprocess.js';
import type { RawImage } from '../image/types.js';
import type { HubOptions } from '../pipeline/hub.js';
import { labelsFromConfig, softmax, topK, type Classification } from '../pipeline/labels.js';
import type { InferenceSession } from '../runtime/session.js';
import { traceRun, type HostTensor, type PlanStep, type TracedStep } from '../runtime/trace.js';
import { assignGroups } from './groups.js';
import { openModel, type OpenedModel } from './model.js';
import { histogram, numbersOf, rowEntropy, tensorStats, HISTOGRAM_BINS, type Entropy, type Histogram, type TensorStats } from './stats.js';
import type { NodeSummary, OutputSummary } from './summary.js';
import { activationOf, withSession } from './summary.js';
import { attentionFromProbs, attentionFromQK, featureMaps, type AttentionMaps, type FeatureMapOptions, type FeatureMaps } from './visuals.js';

export interface TraceOptions {
  /** Graph passes on (default) or off (`false`: trace the file's own nodes). */
  optimize?: boolean;
  /** Run once untraced first, so times exclude first-call costs (weight packing, memory growth). Default false. */
  warmup?: boolean;
  histogramBins?: number;
  /** Thumbnails of convolution outputs (default 16 channels, ≤ 28 px); false to leave them out. */
  featureMaps?: FeatureMapOptions | false;
  hub?: HubOptions;
}

/** A node as the summary describes it (position, name, op, block, outputs), plus what the traced run measured. */
export interface TraceNode extends Pick<NodeSummary, 'index' | 'name' | 'opType' | 'domain' | 'group' | 'outputs' | 'activation'> {
  macs: number;
  /** The colour family the HTML report draws it in (its definition's `family` trait; absent: 'data'). */
  family?: string;
  /** Kernel time of this step in ms. */
  ms: number;
  /** Of output 0 (absent for string outputs). */
  stats?: TensorStats;
  histogram?: Histogram;
  /** Softmax outputs and attention: mean row entropy of the probabilities. */
  entropy?: Entropy;
  featureMaps?: FeatureMaps;
  attention?: AttentionMaps;
}

export interface TraceReport {
  model: { id: string; file: string };
  optimize: boolean;
  /** The image as the model saw it after resize and crop (RGB uint8, base64), and its decoded size. */
  image: { source: string; width: number; height: number; data: string; originalWidth: number; originalHeight: number };
  input: OutputSummary;
  totalMs: number;
  macs: number;
  nodes: TraceNode[];
  /** Top-5 classes when the model outputs one row of class scores. */
  predictions?: Classification[];
}

/**
 * Traces one image through `model` (an id as the pipeline takes it, 'default'/undefined for the bundled ResNet-50,
 * or an already opened model). Example: `const t = await trace('models/vit', 'cat.jpg'); t.nodes[3].stats.zeros`.
 */
export async function trace(model: string | OpenedModel | undefined, image: ImageInput, opts: TraceOptions = {}): Promise<TraceReport> {
  const opened = typeof model === 'object' ? model : await openModel(model, opts.hub);
  const raw = await loadImage(image, { name: typeof image === 'string' ? image : undefined });
  return withSession(opened.model, opts.optimize ?? true, s => traceSession(s, opened, raw, typeof image === 'string' ? image : 'image', opts), opened.resolved.onnxPath);
}

/** The trace on an existing session (its optimisation setting decides which nodes appear). */
export function traceSession(session: InferenceSession, opened: OpenedModel, image: RawImage, source: string, opts: TraceOptions = {}): TraceReport {
  const cfg = opened.resolved.preprocessorConfig;
  if (!cfg) throw new Error(`${opened.id}: no preprocessor_config.json next to the model (${opened.resolved.dir}): cannot preprocess the image`);
  if (session.inputNames.length !== 1) throw new Error(`${opened.id}: tracing needs a model with one image input, this one has ${session.inputNames.length}`);
  const processor = ImageProcessor.fromConfig(cfg);
  const x = processor.process(image);
  const prepared = processor.prepare(image);
  const feeds = { [session.inputNames[0]!]: x };
  if (opts.warmup) session.runSync(feeds);

  const records: TraceNode[] = [];
  const steps: PlanStep[] = [];
  const outputs = traceRun(session, feeds, t => { steps.push(t.step); records.push(describeStep(t, opts)); },
    { wantInputs: s => s.node.domain === 'local' && s.node.opType === 'Attention' });
  assignGroups(steps.map(s => s.node.name)).forEach((g, i) => { records[i]!.group = g; });

  return {
    model: { id: opened.id, file: opened.resolved.onnxPath },
    optimize: session.passReport.length > 0,   // an optimising session reports every load pass, even unchanged
    image: {
      source, width: prepared.width, height: prepared.height, data: Buffer.from(prepared.data).toString('base64'),
      originalWidth: image.width, originalHeight: image.height,
    },
    input: { name: session.inputNames[0]!, dtype: x.type, shape: [...x.dims] },
    totalMs: records.reduce((a, r) => a + r.ms, 0),
    macs: records.reduce((a, r) => a + r.macs, 0),
    nodes: records,
    predictions: predictionsOf(opened, outputs[session.outputNames[0]!]?.data, outputs[session.outputNames[0]!]?.dims, steps.at(-1)),
  };
}

function describeStep({ index, step, ms, outputs, inputs }: TracedStep, opts: TraceOptions): TraceNode {
  const n = step.node;
  const rec: TraceNode = {
    index, name: n.name, opType: n.opType, domain: n.domain, group: '',
    outputs: n.outputs.flatMap((v, k) => (v ? [{ name: v, dtype: step.ctx.outputs[k]!.dtype, shape: [...step.ctx.outputs[k]!.shape] }] : [])),
    macs: step.def.macs?.(step.attrs, step.ctx.inputs, step.ctx.outputs) ?? 0, ms,   // the plan's definition (macs.ts: the convention)
  };
  if (step.def.family) rec.family = step.def.family;
  const act = activationOf(n);
  if (act) rec.activation = act;
  const y = outputs[0];
  const values = y && numbersOf(y);
  if (!y || !values) return rec;
  rec.stats = tensorStats(values);
  rec.histogram = histogram(values, rec.stats.min, rec.stats.max, opts.histogramBins ?? HISTOGRAM_BINS);
  Object.assign(rec, visualsOf(step, y, inputs, opts));
  return rec;
}

function visualsOf(step: PlanStep, y: HostTensor, inputs: TracedStep['inputs'], opts: TraceOptions):
  Pick<TraceNode, 'entropy' | 'featureMaps' | 'attention'> {
  const n = step.node, key = `${n.domain}:${n.opType}`;
  const fm = opts.featureMaps === false ? undefined : opts.featureMaps;
  if (key === ':Conv' && opts.featureMaps !== false) return { featureMaps: featureMaps(y, 'NCHW', fm) };
  if (key === 'local:NhwcConv' && opts.featureMaps !== false) return { featureMaps: featureMaps(y, 'NHWC', fm) };
  if (key === ':Softmax' && y.data instanceof Float32Array) {
    const att = y.dims.length === 4 ? attentionFromProbs(y) : undefined;
    return { entropy: att?.entropy ?? rowEntropy(y.data, y.dims.at(-1) ?? y.data.length), attention: att?.maps };
  }
  if (key === 'local:Attention' && inputs?.[0] && inputs[1]) {
    const attr = (name: string) => n.attrs[name];
    const heads = attr('heads')?.value as number, scale = (attr('scale')?.value as number | undefined) ?? 1;
    const att = attentionFromQK(inputs[0], inputs[1], heads, scale, attr('layout')?.value === 'nbc');
    return att ? { entropy: att.entropy, attention: att.maps } : {};
  }
  return {};
}

function predictionsOf(opened: OpenedModel, data: unknown, dims: readonly number[] | undefined, last: PlanStep | undefined): Classification[] | undefined {
  if (!(data instanceof Float32Array) || !dims || dims.length !== 2 || dims[0] !== 1 || !opened.resolved.config) return undefined;
  const classes = dims[1]!;
  const probs = last?.node.opType === 'Softmax' ? Array.from(data) : softmax(data);
  return topK(probs, labelsFromConfig(opened.resolved.config, classes), 5);
}
