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

interface Match { mul: Node; w: ConstTensor & { data: Float32Array }; n: number; bias?: ConstTensor & { data: Float32Array }; gamma: ConstTensor & { data: Float32Array } }

/** Scaled copies by source constant and γ: each shape-specialised plan of a session clones the same initializer
 *  objects, so a model's second plan (another batch size) reuses the first one's scaled weights. */
const SCALED = new WeakMap<ConstTensor, WeakMap<ConstTensor, ConstTensor>>();

function scaled(src: ConstTensor & { data: Float32Array }, gamma: ConstTensor & { data: Float32Array }, n: number): ConstTensor {
  let byGamma = SCALED.get(src);
  if (!byGamma) SCALED.set(src, byGamma = new WeakMap());
  let out = byGamma.get(gamma);
  if (!out) {
    const data = src.data.map((v, j) => v * gamma.data[j % n]!);   // row-major [K, N] or [N]: column j % n
    byGamma.set(gamma, out = { dtype: 'float32', dims: [...src.dims], data });
  }
  return out;
}

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
  const n = w.dims[1]!;
  // γ scales columns only: its last dim is N, all others 1, and it does not widen the product's shape
  if (gamma.dims.at(-1) !== n || gamma.dims.slice(0, -1).some(d => d !== 1) || gamma.dims.length > yi.shape.length) return undefined;
  if (outShape.length !== yi.shape.length || outShape.some((d, i) => d !== yi.shape[i])) return undefined;
  let bias: Match['bias'];
  if (mm.inputs[2]) {
    bias = hostFloat(idx.constant(mm.inputs[2]));
    if (!bias || bias.data.length !== n) return undefined;
  }
  return { mul, w, n, bias, gamma };
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
      const wName = idx.fresh(`${mm.inputs[1]}_scaled`);
      g.initializers.set(wName, scaled(m.w, m.gamma, m.n));
      const inputs = [mm.inputs[0]!, wName];
      if (m.bias) {
        const bName = idx.fresh(`${mm.inputs[2]}_scaled`);
        g.initializers.set(bName, scaled(m.bias, m.gamma, m.n));
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
