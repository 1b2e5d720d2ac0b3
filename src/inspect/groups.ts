// Groups a graph's nodes into blocks by name, for display: Keras ResNet blocks (`conv2_block1_*`, older
// `res2a_branch2a` / `bn2a_branch2a`), torch/Hugging Face scopes (`/vit/encoder/layer.3/...` → the layer). Keras
// names merge and activation layers without a block prefix (`add_3`, `activation_12`): they join the block before.

export interface NameRule {
  pattern: RegExp;
  /** Group label from the match. */
  label(m: RegExpMatchArray): string;
}

const KERAS_RULES: NameRule[] = [
  { pattern: /^(conv\d+_block\d+)_/, label: m => m[1]! },                               // tf.keras ResNet50
  { pattern: /^(?:res|bn)(\d+[a-z]+)_branch/, label: m => `res${m[1]}` },               // keras-applications 2.x
  { pattern: /^(?:conv1|pool1|bn_conv1|zero_padding2d|max_pooling2d)(?:_|$)/, label: () => 'stem' },
];

/** Keras auto-names of layers that belong to the block they follow. */
const JOINS_PREVIOUS = /^(?:add|activation|re_lu|relu)(?:_\d+)?(?:_nhwc)?$/;

/** Torch export scopes: the path up to the first numbered module (`layer.3`, `blocks.11`, `layer1.0`), else the
 *  first two scope levels. The last path segment is the op's own name and never part of the group. */
function scopeGroup(name: string): string | undefined {
  if (!name.includes('/')) return undefined;
  const dirs = name.split('/').filter(Boolean).slice(0, -1);
  if (!dirs.length) return undefined;
  const numbered = dirs.findIndex(d => /\.\d+$/.test(d));
  return (numbered >= 0 ? dirs.slice(0, numbered + 1) : dirs.slice(0, 2)).join('/');
}

/** The block a node name belongs to by itself, or undefined when its name says nothing. */
export function groupOf(name: string): string | undefined {
  for (const r of KERAS_RULES) {
    const m = name.match(r.pattern);
    if (m) return r.label(m);
  }
  return scopeGroup(name);
}

/** One label per node ('' = top level): by name, with Keras merge/activation layers joining the previous block. */
export function assignGroups(names: readonly string[]): string[] {
  const out: string[] = [];
  let previous = '';
  for (const name of names) {
    const g = groupOf(name) ?? (JOINS_PREVIOUS.test(name) ? previous : '');
    out.push(g);
    previous = g;
  }
  return out;
}
