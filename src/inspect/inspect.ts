// inspect(): the whole look inside a model — the summary of the file's graph and of the optimised plan, and
// optionally a trace of one image — with one session at a time (unoptimised, then optimised), each released
// before the next, so a large model is never held twice on the backend.

import { loadImage, type ImageInput } from '../image/load.js';
import type { HubOptions } from '../pipeline/hub.js';
import { openModel, type OpenedModel } from './model.js';
import { modelHeader, optimizedSummary, originalSummary, planFeeds, withSession, type ModelSummary } from './summary.js';
import { traceSession, type TraceOptions, type TraceReport } from './trace.js';

export interface InspectOptions {
  hub?: HubOptions;
  /** Also trace one image (passes on unless `optimize: false`). */
  trace?: { image: ImageInput } & Omit<TraceOptions, 'hub'>;
}

/** The summary, plus the trace when asked: the document `ocellus inspect --json` prints. */
export interface InspectReport extends ModelSummary {
  trace?: TraceReport;
}

/**
 * Summarises `model` (an id as the pipeline takes it; 'default' or undefined = the bundled ResNet-50).
 * Example: `const r = await inspect('models/vit'); r.original.macs // 17.56e9`.
 */
export async function inspect(model?: string | OpenedModel, opts: InspectOptions = {}): Promise<InspectReport> {
  const opened = typeof model === 'object' ? model : await openModel(model, opts.hub);
  const t = opts.trace;
  // Decode the image first: a bad image should fail before minutes of planning.
  const image = t && await loadImage(t.image, { name: typeof t.image === 'string' ? t.image : undefined });
  const source = t && typeof t.image === 'string' ? t.image : 'image';
  const g = opened.model;
  const feeds = planFeeds(g);
  const name = opened.resolved.onnxPath;
  let traced: TraceReport | undefined;
  const traceIn = (optimize: boolean) => (image && (t!.optimize ?? true) === optimize);

  const original = await withSession(g, false, s => {
    const o = originalSummary(s, feeds);
    if (traceIn(false)) traced = traceSession(s, opened, image!, source, t);
    return o;
  }, name);
  const optimized = await withSession(g, true, s => {
    const o = optimizedSummary(s, feeds, g.graph.nodes.length);
    if (traceIn(true)) traced = traceSession(s, opened, image!, source, t);
    return o;
  }, name);
  return { ...modelHeader(g, opened.id, opened.resolved.onnxPath, opened.resolved.config), original, optimized, ...(traced ? { trace: traced } : {}) };
}
