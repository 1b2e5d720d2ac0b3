// Case i of a run: its bytes depend only on (seed, kind, i) and the corpus, never on what ran before, so any case
// can be regenerated or replayed alone. Images: mostly mutants of the seed images (format-aware and byte-level
// mutations stacked, sometimes spliced with another seed), some crafted. ONNX: mutants of the small models
// (protobuf-aware, then sometimes byte-level), some crafted; the external-data fixture runs from a folder.

import type { Corpus } from './corpus.js';
import { type FolderFile, jpegHugeFrame, onnxCrafted, pngCrafted, progressiveBomb } from './crafted.js';
import { mutateJpeg, parseJpeg, serializeJpeg } from './jpeg-mutate.js';
import { mutateBytes, splice, truncate } from './mutate.js';
import { mutateOnnx } from './onnx-mutate.js';
import { mutatePng, parsePng, serializePng } from './png-mutate.js';
import { Rng, caseSeed } from './rng.js';

export type CaseKind = 'image' | 'onnx' | 'selftest';

/** What a child runs. files: an ONNX case run from a folder (model.onnx = bytes, plus these). */
export interface FuzzCase {
  kind: CaseKind;
  index: number;
  desc: string;
  bytes: Uint8Array;
  files?: FolderFile[];
  selftest?: SelftestKind;
}

export const SELFTESTS = ['hang', 'wall-hang', 'crash', 'throw-string', 'throw-object', 'empty-message', 'slow', 'memory'] as const;
export type SelftestKind = (typeof SELFTESTS)[number];

const CRAFTED_IMAGE_SHARE = 0.03;
const CRAFTED_ONNX_SHARE = 0.08;

function mutateImageOnce(rng: Rng, bytes: Uint8Array, corpus: Corpus): { name: string; bytes: Uint8Array } {
  const w = rng.weighted([6, 3, 1]);
  if (w === 0) {
    const jpeg = parseJpeg(bytes);
    if (jpeg) {
      const donorSeed = rng.pick(corpus.images).bytes;
      const r = mutateJpeg(rng, jpeg, parseJpeg(donorSeed));
      return { name: `jpeg:${r.name}`, bytes: serializeJpeg(r.segs) };
    }
    const png = parsePng(bytes);
    if (png) {
      const r = mutatePng(rng, png, 0.8);
      return { name: `png:${r.name}`, bytes: serializePng(r.chunks) };
    }
  }
  if (w === 2) return { name: 'splice', bytes: splice(rng, bytes, rng.pick(corpus.images).bytes) };
  const r = mutateBytes(rng, bytes);
  return { name: r.name, bytes: r.data };
}

/** craftedShare: the share of crafted cases (default 3% of images, 8% of models); a run's flag, part of its identity. */
export function imageCase(seed: number, index: number, corpus: Corpus, craftedShare = CRAFTED_IMAGE_SHARE): FuzzCase {
  const rng = new Rng(caseSeed(seed, 'image', index));
  if (rng.chance(craftedShare)) {
    const which = rng.int(4);
    if (which === 3) {
      const s = rng.pick(corpus.images);
      return { kind: 'image', index, desc: `truncated ${s.name}`, bytes: truncate(rng, s.bytes) };
    }
    const c = which === 0 ? progressiveBomb(rng) : which === 1 ? jpegHugeFrame(rng) : pngCrafted(rng);
    return { kind: 'image', index, desc: `crafted: ${c.desc}`, bytes: c.bytes };
  }
  const s = rng.pick(corpus.images);
  let bytes = s.bytes;
  const names: string[] = [];
  for (let k = rng.pick([1, 1, 1, 2, 3, 6]); k > 0; k--) {
    const r = mutateImageOnce(rng, bytes, corpus);
    names.push(r.name);
    bytes = r.bytes;
  }
  return { kind: 'image', index, desc: `${s.name}: ${names.join(', ')}`, bytes };
}

export function onnxCase(seed: number, index: number, corpus: Corpus, craftedShare = CRAFTED_ONNX_SHARE): FuzzCase {
  const rng = new Rng(caseSeed(seed, 'onnx', index));
  if (rng.chance(craftedShare)) {
    const c = onnxCrafted(rng);
    return { kind: 'onnx', index, desc: `crafted: ${c.desc}`, bytes: c.bytes, files: c.files };
  }
  const s = rng.pick(corpus.models);
  let bytes = s.bytes;
  const names: string[] = [];
  const w = rng.weighted([6, 2, 2]);
  if (w !== 2) {
    const r = mutateOnnx(rng, bytes);
    if (r) { names.push(r.name); bytes = r.bytes; }
  }
  if (w !== 0 || names.length === 0) {
    for (let k = rng.pick([1, 1, 2, 4]); k > 0; k--) {
      const r = mutateBytes(rng, bytes);
      names.push(r.name);
      bytes = r.data;
    }
  }
  let files: FolderFile[] | undefined;
  if (s.dataFile) {
    // The external-data fixture: its data file as is, cut short, or a symlink to a device or outside the folder.
    const d = rng.weighted([6, 2, 1, 1]);
    const dataName = 'model.onnx.data';
    files = d === 0 ? [{ name: dataName, bytes: s.dataFile }]
      : d === 1 ? [{ name: dataName, bytes: s.dataFile.subarray(0, rng.int(s.dataFile.length)) }]
        : [{ name: dataName, symlink: d === 2 ? '/dev/zero' : '/etc/hostname' }];
    names.push(['data ok', 'data cut', 'data → /dev/zero', 'data → /etc/hostname'][d]!);
  }
  return { kind: 'onnx', index, desc: `${s.name}: ${names.join(', ')}`, bytes, files };
}

export function selftestCase(index: number, which: SelftestKind): FuzzCase {
  return { kind: 'selftest', index, desc: `planted: ${which}`, bytes: new Uint8Array(0), selftest: which };
}
