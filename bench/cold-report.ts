// The cold bench's figures (issue #20): medians over each engine variant's fresh-process tries, the start-up goals
// judged on them, and the text the terminal shows. Pure functions of their inputs (bench/cold.ts does the I/O).

import type { BenchReport, ClassifyCold, ColdResult, ColdTry, TargetCheck } from './schema.js';
import { summarize } from './stats.js';
import { formatTable } from './table.js';

export const COLD_GROUP = 'cold';
export const COLD_HEADING = 'Targets (bench, same run, quiet machine, fresh process per try, median of ≥ 3)';
/** The models the create + first run goals are about; the CNN-family create goal covers ResNet-50 and the zoo's CNNs. */
const START_MODELS = ['resnet50', 'vitb16'];
const NOT_CNN = /^(mini_)?swin_t_|^vitb16/;

const median = (xs: readonly number[]) => summarize(xs).median;

/** One row per model × engine variant × plan-cache state, over its tries without an error (none: no row). */
export function coldResults(tries: readonly ColdTry[]): ColdResult[] {
  const keys = [...new Set(tries.map(t => `${t.model}\t${t.engine}\t${t.planCache}`))];
  return keys.flatMap(k => {
    const ok = tries.filter(t => `${t.model}\t${t.engine}\t${t.planCache}` === k && !t.error);
    if (!ok.length) return [];
    const { model, engine, kind, threads, planCache } = ok[0]!;
    const m = (f: (t: ColdTry) => number) => median(ok.map(f));
    return [{
      model, engine, kind, threads, planCache, tries: ok.length,
      importMs: m(t => t.importMs!), createMs: m(t => t.createMs!), firstRunMs: m(t => t.firstRunMs!),
      createFirstMs: m(t => t.createMs! + t.firstRunMs!), wallMs: m(t => t.wallMs!), peakRssMiB: m(t => t.peakRssMiB!),
    }];
  });
}

/** ocellus's thread count to judge at: 2 when ocellus and the other engine both ran with 2, else the most both ran. */
function pair(results: readonly ColdResult[], model: string, other: string, cache: 'warm' | 'cold'): [ColdResult, ColdResult] | undefined {
  const ours = results.filter(r => r.model === model && r.kind === 'ocellus' && r.planCache === cache);
  const theirs = results.filter(r => r.model === model && r.kind === other);
  const common = ours.map(r => r.threads).filter(t => theirs.some(x => x.threads === t)).sort((a, b) => a - b);
  const t = common.includes(2) ? 2 : common.at(-1);
  return t === undefined ? undefined : [ours.find(r => r.threads === t)!, theirs.find(r => r.threads === t)!];
}

/**
 * The start-up goals, ocellus with its planned-model cache warm (a second start) or cold (removed first): ResNet-50 and ViT-B/16 create + first run ≤ 0.5 × onnxruntime-web's and
 * ≤ 1.0 × onnxruntime-node's (cache warm), ≤ 1.0 × onnxruntime-web's (cache cold); every CNN model's create ≤ 1.5 ×
 * onnxruntime-node's; `ocellus classify` ≤ 1.5 × the plain onnxruntime-node script, whole process.
 */
export function coldTargets(results: readonly ColdResult[], classify?: ClassifyCold): TargetCheck[] {
  const out: TargetCheck[] = [];
  const goal = (model: string, text: string, unit: string, ours: number, theirs: number, limit: number): TargetCheck =>
    ({ group: COLD_GROUP, model, goal: text, unit, ours, theirs, ratio: ours / theirs, met: ours / theirs <= limit });
  const models = [...new Set(results.map(r => r.model))];
  for (const model of models.filter(m => START_MODELS.includes(m))) {
    const web = pair(results, model, 'ort-web', 'warm'), node = pair(results, model, 'ort-node', 'warm');
    const webCold = pair(results, model, 'ort-web', 'cold');
    if (web) out.push(goal(model, `create + first run ≤ 0.5 × onnxruntime-web, cache warm (${web[0].threads} threads)`, 'ms', web[0].createFirstMs, web[1].createFirstMs, 0.5));
    if (node) out.push(goal(model, `create + first run ≤ 1.0 × onnxruntime-node, cache warm (${node[0].threads} threads)`, 'ms', node[0].createFirstMs, node[1].createFirstMs, 1));
    if (webCold) out.push(goal(model, `create + first run ≤ 1.0 × onnxruntime-web, cache cold: first ever start (${webCold[0].threads} threads)`, 'ms', webCold[0].createFirstMs, webCold[1].createFirstMs, 1));
  }
  for (const model of models.filter(m => !NOT_CNN.test(m) && !m.endsWith('-q8'))) {
    const node = pair(results, model, 'ort-node', 'warm');
    if (node) out.push(goal(model, `CNN family: create ≤ 1.5 × onnxruntime-node's (${node[0].threads} threads)`, 'ms', node[0].createMs, node[1].createMs, 1.5));
  }
  if (classify && !classify.error && classify.ocellusMs.length && classify.ortNodeMs.length) {
    out.push(goal('classify', `\`ocellus classify photo\` ≤ 1.5 × a plain onnxruntime-node script, whole process (${classify.ocellusMs.length} tries each)`,
      'ms', classify.ocellusMedian, classify.ortNodeMedian, 1.5));
  }
  return out;
}

const f = (x: number | undefined, digits = 1) => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits));

/** The cold section of the terminal report (empty when the run was not --cold). */
export function formatCold(r: Pick<BenchReport, 'cold' | 'targets' | 'models'>): string {
  if (!r.cold) return '';
  const name = (id: string) => r.models.find(m => m.id === id)?.name ?? id;
  const parts: string[] = [];
  parts.push(`Cold starts (a fresh Node process per try; ocellus from ${r.cold.dist}; medians; create + first run is the median of the sums):\n` + formatTable(
    ['model', 'engine', 'threads', 'plan cache', 'tries', 'import ms', 'create ms', 'first run ms', 'create + first ms', 'process wall ms', 'peak RSS MiB'],
    r.cold.results.map(x => [name(x.model), x.kind, String(x.threads), x.planCache, String(x.tries), f(x.importMs), f(x.createMs), f(x.firstRunMs), f(x.createFirstMs), f(x.wallMs), f(x.peakRssMiB, 0)]),
    ['l', 'l', 'r', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  ));
  for (const t of r.cold.tries.filter(x => x.error)) parts.push(`FAILED ${name(t.model)} ${t.engine} (round ${t.round + 1}): ${t.error}`);
  const c = r.cold.classify;
  if (c) {
    parts.push(c.error ? `classify vs onnxruntime-node script: FAILED: ${c.error}` :
      `classify, whole process (${c.photo}, --model ${c.modelDir}; same top-1: ${c.sameTop1 ? 'yes' : 'NO'}):\n` + formatTable(
        ['command', 'median ms', 'tries ms'],
        [['ocellus classify', f(c.ocellusMedian), c.ocellusMs.map(x => f(x, 0)).join(' ')], ['onnxruntime-node script', f(c.ortNodeMedian), c.ortNodeMs.map(x => f(x, 0)).join(' ')]],
        ['l', 'r', 'l'],
      ));
  }
  const goals = r.targets.filter(t => t.group === COLD_GROUP);
  if (goals.length) {
    parts.push(`${COLD_HEADING}:\n` + formatTable(
      ['model', 'goal', 'ocellus', 'other', 'ratio', ''],
      goals.map(t => [name(t.model), t.goal, `${f(t.ours)} ${t.unit}`, `${f(t.theirs)} ${t.unit}`, f(t.ratio, 2), t.met ? 'met' : 'NOT met']),
      ['l', 'l', 'r', 'r', 'r', 'l'],
    ));
  }
  return parts.join('\n\n');
}
