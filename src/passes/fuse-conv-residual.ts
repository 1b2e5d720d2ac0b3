// fuse-conv-residual: a residual block's end — local:NhwcConv (no activation of its own) whose only reader adds a
// value of the same shape, optionally followed by a Relu that is the Add's only reader — becomes one NhwcConv with
// that value as a fourth input Z: Y = act(conv(X, W) + B + Z), as onnxruntime's FusedConv has it. The kernel adds Z
// as it writes the output, so the sum and the Relu cost no pass of their own. Shaped pass (Z must match exactly,
// not broadcast).

import type { Node } from '../ir/graph.js';
import { GraphIndex } from '../ir/graph-index.js';
import { residualAdd } from '../ir/match.js';
import type { Pass } from './types.js';

export const fuseConvResidual: Pass = {
  name: 'fuse-conv-residual',
  run(g, ctx) {
    const idx = new GraphIndex(g, ctx.infos);
    let count = 0;
    for (const conv of g.nodes) {
      if (!idx.has(conv)) continue;
      if (conv.opType !== 'NhwcConv' || conv.domain !== 'local' || conv.inputs.length > 3) continue;
      const act = conv.attrs['activation']?.value;
      if (act !== undefined && act !== '' && act !== 'linear') continue;
      const m = matchResidual(idx, conv);
      if (!m) continue;
      const end = m.relu ?? m.add;
      const [x, w, b] = conv.inputs;
      idx.replace([conv, m.add, ...(m.relu ? [m.relu] : [])], {
        name: `${conv.name}/residual`, opType: 'NhwcConv', domain: 'local',
        inputs: [x!, w!, b ?? '', m.z], outputs: [end.outputs[0]!],
        attrs: { ...conv.attrs, activation: { type: 'string', value: m.relu ? 'relu' : '' } },
      });
      count++;
    }
    idx.commit();
    return count;
  },
};

function matchResidual(idx: GraphIndex, conv: Node): { add: Node; z: string; relu?: Node } | undefined {
  const y = conv.outputs[0]!;
  if (idx.info(y)?.dtype !== 'float32') return undefined;
  const r = residualAdd(idx, y);
  return r && { ...r, relu: idx.onlyReader(r.add.outputs[0]!, 'Relu') };
}
