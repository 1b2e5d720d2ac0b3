/// <reference types="long" preserve="true" />
// (tfjs-core's declarations use the global `Long` of @types/long, its dependency: consumers need not list it in `types`.)
// ocellus inspect as a library: model summaries (shapes, parameters, MACs, what the passes did), traces of one
// image (per-node time and activation statistics), and the self-contained HTML report built from both.

// An entry point of the package, so a composition root: it registers the offline tooling the pipeline uses (the default
// model's preparer, the int8 quantizer; src/model-tools.ts), imported lazily when first needed.
import { installModelTools } from '../model-tools.js';

installModelTools();

export { inspect, type InspectOptions, type InspectReport } from './inspect.js';
export { trace, traceSession, type TraceOptions, type TraceReport, type TraceNode } from './trace.js';
export { openModel, type OpenedModel } from './model.js';
export {
  modelHeader, originalSummary, optimizedSummary, summarizeNodes, planFeeds, planInputTypes, withSession,
  type ModelSummary, type ModelHeader, type NodeSummary, type GraphSummary, type OptimizedSummary, type PassSummary,
} from './summary.js';
export { macsOf, MAC_OPS } from './macs.js';
export { tensorStats, histogram, rowEntropy, HISTOGRAM_BINS, type TensorStats, type Histogram, type Entropy } from './stats.js';
export { featureMaps, attentionFromProbs, attentionFromQK, type FeatureMaps, type AttentionMaps } from './visuals.js';
export { assignGroups, groupOf } from './groups.js';
export { formatSummary, formatTrace, si } from './format.js';
export { renderHtml } from './html.js';
