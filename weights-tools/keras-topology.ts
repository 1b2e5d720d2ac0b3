// Parses the Keras topology inside a TF.js layers model.json (functional `Model`/`Functional` or `Sequential`, as
// written by keras 2.x/3.x and tfjs-layers) into plain layer calls in dependency order. No weights, no ONNX here.

export type Dim = number | null;

export interface KerasLayer {
  name: string;
  className: string;
  config: Record<string, unknown>;
}

/** A Keras tensor: output `tensor` of call `node` of layer `layer`. */
export interface TensorRef { layer: string; node: number; tensor: number }

export interface KerasInput { layer: KerasLayer; shape: Dim[]; dtype: string }

/** One call of a layer on its input tensors; produces tensor `{layer, node: callIndex, tensor: 0}`. */
export interface LayerCall { layer: KerasLayer; callIndex: number; inputs: TensorRef[] }

export interface KerasTopology {
  name: string;
  kerasVersion?: string;
  inputs: KerasInput[];
  calls: LayerCall[];        // every non-input layer call, each after the calls producing its inputs
  outputs: TensorRef[];
}

export const tensorKey = (r: TensorRef) => `${r.layer}:${r.node}:${r.tensor}`;

type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function toLayer(raw: unknown, where: string): KerasLayer {
  if (!isObj(raw) || typeof raw.class_name !== 'string' || !isObj(raw.config)) {
    throw new Error(`${where}: a layer entry needs 'class_name' and 'config'`);
  }
  const name = typeof raw.name === 'string' ? raw.name : raw.config.name;
  if (typeof name !== 'string') throw new Error(`${where}: a ${raw.class_name} layer has no name`);
  return { name, className: raw.class_name, config: raw.config };
}

/** [name, node, tensor] (keras 2) or {keras_history: [...]} / {config: {keras_history}} (keras 3). */
function toRef(v: unknown, where: string): TensorRef {
  const hist = Array.isArray(v) ? v : isObj(v) ? (isObj(v.config) ? v.config.keras_history : v.keras_history) : undefined;
  if (!Array.isArray(hist) || typeof hist[0] !== 'string') throw new Error(`${where}: cannot read inbound tensor ${JSON.stringify(v)}`);
  return { layer: hist[0], node: Number(hist[1] ?? 0), tensor: Number(hist[2] ?? 0) };
}

/** The inputs of each call of a layer, from `inbound_nodes` in either the keras 2 or the keras 3 form. */
function inboundCalls(raw: Json, layer: KerasLayer, where: string): TensorRef[][] {
  const nodes = raw.inbound_nodes ?? [];
  if (!Array.isArray(nodes)) throw new Error(`${where}: layer '${layer.name}' has malformed inbound_nodes`);
  return nodes.map(n => {
    if (Array.isArray(n)) return n.map(r => toRef(r, `${where} layer '${layer.name}'`));
    if (isObj(n) && Array.isArray(n.args)) {
      const args = n.args.length === 1 && Array.isArray(n.args[0]) ? n.args[0] : n.args;
      return (args as unknown[]).map(r => toRef(r, `${where} layer '${layer.name}'`));
    }
    throw new Error(`${where}: layer '${layer.name}' has an inbound node of unknown form`);
  });
}

function batchShape(cfg: Json): Dim[] | undefined {
  const s = cfg.batch_input_shape ?? cfg.batch_shape;
  return Array.isArray(s) ? s.map(d => (typeof d === 'number' ? d : null)) : undefined;
}

function inputOf(layer: KerasLayer, where: string): KerasInput {
  const shape = batchShape(layer.config);
  if (!shape) throw new Error(`${where}: input '${layer.name}' has no batch_input_shape`);
  return { layer, shape, dtype: typeof layer.config.dtype === 'string' ? layer.config.dtype : 'float32' };
}

function refList(v: unknown, where: string): TensorRef[] {
  if (!Array.isArray(v)) throw new Error(`${where}: expected a list of [layer, node, tensor]`);
  return (typeof v[0] === 'string' ? [v] : v).map(r => toRef(r, where));
}

function functional(cfg: Json, where: string): Omit<KerasTopology, 'kerasVersion'> {
  if (!Array.isArray(cfg.layers)) throw new Error(`${where}: model config has no 'layers' list`);
  const raws = cfg.layers as unknown[];
  const layers = raws.map(r => toLayer(r, where));
  const inputNames = new Set(refList(cfg.input_layers, `${where} input_layers`).map(r => r.layer));
  const inputs = layers.filter(l => inputNames.has(l.name)).map(l => inputOf(l, where));
  const calls: LayerCall[] = [];
  layers.forEach((layer, i) => {
    if (layer.className === 'InputLayer') return;
    inboundCalls(raws[i] as Json, layer, where).forEach((inputs, callIndex) => calls.push({ layer, callIndex, inputs }));
  });
  return {
    name: typeof cfg.name === 'string' ? cfg.name : 'model',
    inputs,
    calls: dependencyOrder(calls, inputs, where),
    outputs: refList(cfg.output_layers, `${where} output_layers`),
  };
}

function sequential(cfg: unknown, where: string): Omit<KerasTopology, 'kerasVersion'> {
  const list = Array.isArray(cfg) ? cfg : isObj(cfg) && Array.isArray(cfg.layers) ? cfg.layers : undefined;
  if (!list?.length) throw new Error(`${where}: Sequential model has no layers`);
  const layers = list.map(r => toLayer(r, where));
  let input: KerasInput;
  if (layers[0]!.className === 'InputLayer') {
    input = inputOf(layers.shift()!, where);
  } else {
    const shape = batchShape(layers[0]!.config);
    if (!shape) throw new Error(`${where}: the first layer '${layers[0]!.name}' of the Sequential model has no batch_input_shape`);
    const name = `${layers[0]!.name}_input`;
    input = { layer: { name, className: 'InputLayer', config: { name } }, shape, dtype: 'float32' };
  }
  let prev: TensorRef = { layer: input.layer.name, node: 0, tensor: 0 };
  const calls = layers.map(layer => {
    const call = { layer, callIndex: 0, inputs: [prev] };
    prev = { layer: layer.name, node: 0, tensor: 0 };
    return call;
  });
  return { name: isObj(cfg) && typeof cfg.name === 'string' ? cfg.name : 'sequential', inputs: [input], calls, outputs: [prev] };
}

/** Orders calls so each comes after the calls its inputs need, otherwise keeping the saved order (already topological
 * in files Keras writes, except around shared layers). */
function dependencyOrder(calls: LayerCall[], inputs: KerasInput[], where: string): LayerCall[] {
  const ready = new Set(inputs.map(i => tensorKey({ layer: i.layer.name, node: 0, tensor: 0 })));
  const isReady = (c: LayerCall) => c.inputs.every(r => ready.has(tensorKey(r)));
  const pending = [...calls];
  const order: LayerCall[] = [];
  while (pending.length) {
    const i = pending.findIndex(isReady);
    if (i < 0) {
      const c = pending[0]!;
      const missing = c.inputs.find(r => !ready.has(tensorKey(r)))!;
      throw new Error(`${where}: layer '${c.layer.name}' (${c.layer.className}) reads '${missing.layer}' ` +
        `(node ${missing.node}, tensor ${missing.tensor}), which no layer produces`);
    }
    const [c] = pending.splice(i, 1);
    order.push(c!);
    ready.add(tensorKey({ layer: c!.layer.name, node: c!.callIndex, tensor: 0 }));
  }
  return order;
}

/** Reads `modelTopology` of a layers-model model.json; `where` names the file in errors. */
export function parseKerasTopology(modelJson: unknown, where: string): KerasTopology {
  if (!isObj(modelJson) || !isObj(modelJson.modelTopology)) throw new Error(`${where}: no 'modelTopology' object (not a TF.js layers model?)`);
  const topo = modelJson.modelTopology;
  const root = isObj(topo.model_config) ? topo.model_config : topo;
  if (typeof root.class_name !== 'string') throw new Error(`${where}: modelTopology has no model class_name`);
  const kerasVersion = typeof topo.keras_version === 'string' ? topo.keras_version : undefined;
  if (root.class_name === 'Sequential') return { ...sequential(root.config, where), kerasVersion };
  if (root.class_name === 'Model' || root.class_name === 'Functional') {
    if (!isObj(root.config)) throw new Error(`${where}: ${root.class_name} has no config`);
    return { ...functional(root.config, where), kerasVersion };
  }
  throw new Error(`${where}: model class '${root.class_name}' is not supported (expected Model, Functional or Sequential)`);
}
