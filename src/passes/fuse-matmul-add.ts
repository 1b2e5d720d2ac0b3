// fuse-matmul-add: MatMul(x, W) + b, with W a constant matrix [K, N] and b a constant vector [N] (either Add
// operand order), becomes local:FusedMatMul(x, W, b): the bias rides along in the XNNPACK product. Shaped pass.

import type { Node } from '../ir/graph.js';
import { GraphIndex } from '../ir/graph-index.js';
import { isFloatInfo, otherInput, sameShape } from '../ir/match.js';
import type { Pass } from './types.js';

export const fuseMatMulAdd: Pass = {
  name: 'fuse-matmul-add',
  run(g, ctx) {
    const idx = new GraphIndex(g, ctx.infos);
    let count = 0;
    for (const mm of g.nodes) {
      if (!idx.has(mm)) continue;
      if (mm.opType !== 'MatMul' || mm.domain !== '') continue;
      const m = matchMatMulAdd(idx, mm);
      if (!m) continue;
      idx.replace([mm, m.add], {
        name: `${mm.name}/FusedMatMul`, opType: 'FusedMatMul', domain: 'local',
        inputs: [mm.inputs[0]!, mm.inputs[1]!, m.bias], outputs: [m.add.outputs[0]!], attrs: {},
      });
      count++;
    }
    idx.commit();
    return count;
  },
};

function matchMatMulAdd(idx: GraphIndex, mm: Node): { add: Node; bias: string } | undefined {
  const [x, w] = mm.inputs as [string, string];
  const xi = idx.info(x), wc = idx.constant(w);
  if (!isFloatInfo(xi) || xi.shape.length < 2 || !wc || wc.dtype !== 'float32' || wc.dims.length !== 2) return undefined;
  const y = mm.outputs[0]!;
  const add = idx.onlyReader(y, 'Add');
  const bias = add && otherInput(add, y);
  const bc = idx.constant(bias);
  if (!add || !bias || !bc || bc.dtype !== 'float32' || bc.dims.length !== 1 || bc.dims[0] !== wc.dims[1]) return undefined;
  if (!sameShape(idx.shape(add.outputs[0]), idx.info(y)?.shape)) return undefined;
  return { add, bias };
}
