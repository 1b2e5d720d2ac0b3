// fold-matmul-scale: a per-column constant scale after a linear layer — ConvNeXt's layer scale γ·(x·W + b) — goes
// into the layer: local:FusedMatMul(x, W, b) with no activation whose only reader multiplies it by a constant γ
// holding one value per output column (dims [N] or [1, …, 1, N]) becomes FusedMatMul(x, W·diag(γ), b·γ), written
// once here into new initializers. The Mul's step goes, and fuse-matmul-residual can then take the residual Add
// that follows. Shaped pass (before fuse-matmul-residual).

import type { ConstTensor, Node } from '../ir/graph.js';
import { GraphIndex } from '../ir/graph-index.js';
import { isFloatInfo, otherInput } from '../ir/match.js';
import type { Pass } from './types.js';

/** A float32 constant with its values on the host. */
function hostFloat(c: ConstTensor | undefined): (ConstTensor & { data: Float32Array }) | undefined {
  return c && c.dtype === 'float32' && c.data instanceof Float32Array ? (c as ConstTensor & { data: Float32Array }) : undefined;
}

interface Match { mul: Node; w: Float32Array; k: number; n: number; bias?: Float32Array; gamma: Float32Array }

function match(idx: GraphIndex, mm: Node): Match | undefined {
  if (mm.opType !== 'FusedMatMul' || mm.domain !== 'local' || mm.inputs.length > 3) return undefined;
  const act = mm.attrs['activation']?.value;
  if (act !== undefined && act !== '' && act !== 'linear') return undefined;
  const y = mm.outputs[0]!;
  const mul = idx.onlyReader(y, 'Mul');
  if (!mul || idx.isOutput(y)) return undefined;
  const other = otherInput(mul, y);
  const w = hostFloat(idx.constant(mm.inputs[1]));
  const gamma = hostFloat(idx.constant(other));
  const yi = idx.info(y), outShape = idx.shape(mul.outputs[0]);
  if (!w || !gamma || w.dims.length !== 2 || !isFloatInfo(yi) || !outShape) return undefined;
  const [k, n] = w.dims as [number, number];
  // γ scales columns only: its last dim is N, all others 1, and it does not widen the product's shape
  if (gamma.dims.at(-1) !== n || gamma.dims.slice(0, -1).some(d => d !== 1) || gamma.dims.length > yi.shape.length) return undefined;
  if (outShape.length !== yi.shape.length || outShape.some((d, i) => d !== yi.shape[i])) return undefined;
  let bias: Float32Array | undefined;
  if (mm.inputs[2]) {
    const b = hostFloat(idx.constant(mm.inputs[2]));
    if (!b || b.data.length !== n) return undefined;
    bias = b.data;
  }
  return { mul, w: w.data, k, n, bias, gamma: gamma.data };
}

export const foldMatMulScale: Pass = {
  name: 'fold-matmul-scale',
  run(g, ctx) {
    const idx = new GraphIndex(g, ctx.infos);
    let count = 0;
    for (const mm of g.nodes) {
      if (!idx.has(mm)) continue;
      const m = match(idx, mm);
      if (!m) continue;
      const w = new Float32Array(m.k * m.n);
      for (let r = 0; r < m.k; r++) for (let c = 0; c < m.n; c++) w[r * m.n + c] = m.w[r * m.n + c]! * m.gamma[c]!;
      const wName = idx.fresh(`${mm.inputs[1]}_scaled`);
      g.initializers.set(wName, { dtype: 'float32', dims: [m.k, m.n], data: w });
      const inputs = [mm.inputs[0]!, wName];
      if (m.bias) {
        const bName = idx.fresh(`${mm.inputs[2]}_scaled`);
        g.initializers.set(bName, { dtype: 'float32', dims: [m.n], data: m.bias.map((v, c) => v * m.gamma[c]!) });
        inputs.push(bName);
      }
      idx.replace([mm, m.mul], { ...mm, name: `${mm.name}/scaled`, inputs, outputs: [m.mul.outputs[0]!] });
      count++;
    }
    if (count) idx.removeDead();
    idx.commit();
    return count;
  },
};
