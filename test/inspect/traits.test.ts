// inspect and the report read MAC formulas and display families from the op definitions' traits (kernels/types.ts).
// MACs: every node of the small model zoo (file graph and optimised plan) against the convention's formulas written
// out here on the IR node (fvcore's; what src/inspect/macs.ts computed by op type before the traits), and a total
// that is not zero. Families: the report's colours per op type, as its hand map had them, now from the registry.

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALL_OPS } from '../../kernels/registry.js';
import type { Node, TensorInfo } from '../../src/ir/graph.js';
import { MAC_OPS } from '../../src/inspect/macs.js';
import { optimizedSummary, originalSummary, planFeeds, withSession } from '../../src/inspect/summary.js';
import { traceSession } from '../../src/inspect/trace.js';
import { loadModel } from '../../src/onnx/load.js';
import { SHARED } from '../helpers/onnx-tests.js';
import { haveTestData } from '../helpers/test-data.js';
import { IMAGE_SIZE, PREPROCESSOR, tinyCnn } from './helpers.js';

type Infos = readonly (TensorInfo | undefined)[];
const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const int = (n: Node, k: string, d: number) => (n.attrs[k]?.type === 'int' ? n.attrs[k]!.value as number : d);

/** The convention, written independently of the kernels: MACs of node n, or 0. */
function refMacs(n: Node, [a, b, c]: Infos, [y]: Infos): number {
  switch (`${n.domain}:${n.opType}`) {
    case ':Conv': return b && y ? numel(y.shape) * numel(b.shape.slice(1)) : 0;
    case 'local:NhwcConv': return a && b && y ? numel(y.shape) * b.shape[0]! * b.shape[1]! * (a.shape[3]! / int(n, 'group', 1)) : 0;
    case ':ConvTranspose': return a && b ? numel(a.shape) * numel(b.shape.slice(1)) : 0;
    case ':MatMul': case 'local:FusedMatMul': return a && y ? numel(y.shape) * a.shape.at(-1)! : 0;
    case ':Gemm': return a && y ? numel(y.shape) * (int(n, 'transA', 0) ? a.shape[0]! : a.shape[1]!) : 0;
    case 'local:Attention': {
      if (!a || !b || !c) return 0;
      const seqFirst = n.attrs['layout']?.value === 'nbc';
      return (seqFirst ? a.shape[1]! * a.shape[0]! * b.shape[0]! : a.shape[0]! * a.shape[1]! * b.shape[1]!) * (a.shape[2]! + c.shape[2]!);
    }
    default: return 0;
  }
}

/** The report's colour families as its hand-kept map had them (by op type, any domain); everything else 'data'. */
const REPORT_FAMILIES: Record<string, string> = {
  Conv: 'conv', NhwcConv: 'conv', ConvTranspose: 'conv',
  MatMul: 'matmul', FusedMatMul: 'matmul', Gemm: 'matmul',
  Attention: 'attn', Softmax: 'attn',
  BatchNormalization: 'norm', LayerNorm: 'norm', LayerNormalization: 'norm', InstanceNormalization: 'norm', ReduceMean: 'norm',
  Relu: 'act', Gelu: 'act', Erf: 'act', Sigmoid: 'act', Tanh: 'act', Clip: 'act', LeakyRelu: 'act', HardSigmoid: 'act',
  MaxPool: 'pool', AveragePool: 'pool', GlobalAveragePool: 'pool', NhwcMaxPool: 'pool', NhwcAveragePool: 'pool',
  NhwcGlobalAveragePool: 'pool', NhwcGlobalMaxPool: 'pool', GlobalMaxPool: 'pool',
  Add: 'math', Sub: 'math', Mul: 'math', Div: 'math', Pow: 'math', Sqrt: 'math',
};

describe('op traits in inspect', () => {
  it('every definition\'s family is the one the report used for its op type', () => {
    const wrong = ALL_OPS.filter(d => (d.family ?? 'data') !== (REPORT_FAMILIES[d.opType] ?? 'data'))
      .map(d => `${d.domain || ''}:${d.opType}@${d.since}: ${d.family ?? 'data'}, was ${REPORT_FAMILIES[d.opType] ?? 'data'}`);
    expect(wrong).toEqual([]);
  });

  it('a traced node carries its family for the report (passes off and on), the old map\'s for its op type', async () => {
    const model = tinyCnn();
    const image = { width: IMAGE_SIZE, height: IMAGE_SIZE, channels: 3 as const, data: new Uint8Array(IMAGE_SIZE * IMAGE_SIZE * 3).fill(90) };
    const opened = { id: 'tiny', model, resolved: { id: 'tiny', dir: '.', onnxPath: 'tiny.onnx', preprocessorConfig: PREPROCESSOR } };
    for (const optimize of [false, true]) {
      const t = await withSession(model, optimize, s => traceSession(s, opened, image, 'tiny.png'));
      expect(t.nodes.map(n => `${n.opType}:${n.family ?? 'data'}`)).toEqual(t.nodes.map(n => `${n.opType}:${REPORT_FAMILIES[n.opType] ?? 'data'}`));
      expect(t.nodes.some(n => n.family === 'conv')).toBe(true);
    }
  });

  it('the ops that count MACs are the convention\'s', () => {
    expect(new Set(MAC_OPS)).toEqual(new Set([':Conv', ':ConvTranspose', ':MatMul', ':Gemm', 'local:NhwcConv', 'local:FusedMatMul', 'local:Attention']));
  });

  const DIR = path.join(SHARED, 'zoo', 'small');
  const files = haveTestData(DIR, 'the small model zoo of ../shared') ? fs.readdirSync(DIR).filter(f => f.endsWith('.onnx')).sort() : [];
  it.skipIf(files.length === 0)(`MACs of every node of the ${files.length} small-zoo models (file and optimised plan) follow the convention`, async () => {
    for (const f of files) {
      const model = await loadModel(path.join(DIR, f));
      const feeds = planFeeds(model);
      for (const optimize of [false, true]) {
        const checked = await withSession(model, optimize, s => {
          const plan = s.plan(feeds);
          const summary = optimize ? optimizedSummary(s, feeds, model.graph.nodes.length) : originalSummary(s, feeds);
          const nodes = optimize ? plan.steps.map(st => st.node) : s.model.graph.nodes;
          const ref = nodes.map(n => refMacs(n, n.inputs.map(v => (v ? plan.infos.get(v) : undefined)), n.outputs.map(v => (v ? plan.infos.get(v) : undefined))));
          expect(summary.nodes.map(n => n.macs), `${f} (passes ${optimize ? 'on' : 'off'})`).toEqual(ref);
          return ref.reduce((a, b) => a + b, 0);
        });
        expect(checked, `${f}: total MACs`).toBeGreaterThan(1e6);
      }
    }
  }, 600_000);
});
