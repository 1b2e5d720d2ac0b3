// Format-blind byte mutators (AFL's classic set): bit flips, bytes/words set to interesting values, arithmetic,
// chunk duplicate/delete/insert/overwrite, truncation and splicing two inputs. Each returns a new array.

import type { Rng } from './rng.js';

export const INTERESTING_8 = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x10, 0x20, 0x40, 0x64, 0xfe];
export const INTERESTING_16 = [0x0000, 0x0001, 0x00ff, 0x0100, 0x7fff, 0x8000, 0xffff, 0x3fff, 0x4000, 0x1000, 0xfffe];
export const INTERESTING_32 = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x10000, 0xffff, 0x40000000, 0x18b0, 0x100000];

export type ByteMutator = (rng: Rng, data: Uint8Array) => Uint8Array;

/** Joins byte arrays; takes an array, so any number of parts is fine (a spread call has an argument limit). */
export function concatAll(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return concatAll(parts);
}

/** A position in data biased toward the start, where headers live (half the draws land in the first 256 bytes). */
export function position(rng: Rng, length: number): number {
  if (length <= 1) return 0;
  return rng.chance(0.5) ? rng.int(Math.min(length, 256)) : rng.int(length);
}

function chunkLength(rng: Rng, max: number): number {
  const cap = Math.max(1, Math.min(max, rng.pick([4, 16, 64, 512, 4096])));
  return rng.range(1, cap);
}

const bitFlip: ByteMutator = (rng, data) => {
  if (data.length === 0) return data;
  const out = data.slice();
  const flips = rng.pick([1, 1, 1, 2, 4, 8]);
  for (let k = 0; k < flips; k++) {
    const i = position(rng, out.length);
    out[i] = out[i]! ^ (1 << rng.int(8));
  }
  return out;
};

const interesting: ByteMutator = (rng, data) => {
  if (data.length === 0) return data;
  const out = data.slice();
  const width = rng.pick([1, 2, 4]);
  const i = position(rng, Math.max(1, out.length - width + 1));
  const big = rng.chance(0.5);
  const v = width === 1 ? rng.pick(INTERESTING_8) : width === 2 ? rng.pick(INTERESTING_16) : rng.pick(INTERESTING_32);
  for (let k = 0; k < width && i + k < out.length; k++) {
    const shift = 8 * (big ? width - 1 - k : k);
    out[i + k] = Math.floor(v / 2 ** shift) & 0xff;
  }
  return out;
};

const arithmetic: ByteMutator = (rng, data) => {
  if (data.length === 0) return data;
  const out = data.slice();
  const i = position(rng, out.length);
  out[i] = (out[i]! + rng.range(-35, 35)) & 0xff;
  return out;
};

const randomByte: ByteMutator = (rng, data) => {
  if (data.length === 0) return rng.bytes(1);
  const out = data.slice();
  out[position(rng, out.length)] = rng.int(256);
  return out;
};

const chunkDelete: ByteMutator = (rng, data) => {
  if (data.length < 2) return data;
  const n = chunkLength(rng, data.length - 1);
  const at = position(rng, data.length - n + 1);
  return concat(data.subarray(0, at), data.subarray(at + n));
};

const chunkDuplicate: ByteMutator = (rng, data) => {
  if (data.length === 0) return data;
  const n = chunkLength(rng, data.length);
  const from = rng.int(data.length - n + 1);
  const at = position(rng, data.length + 1);
  const copies = rng.pick([1, 1, 2, 8]);
  const piece = data.subarray(from, from + n);
  return concat(data.subarray(0, at), ...Array.from({ length: copies }, () => piece), data.subarray(at));
};

const chunkInsert: ByteMutator = (rng, data) => {
  const n = chunkLength(rng, 4096);
  const at = position(rng, data.length + 1);
  const fill = rng.chance(0.5) ? rng.bytes(n) : new Uint8Array(n).fill(rng.pick(INTERESTING_8));
  return concat(data.subarray(0, at), fill, data.subarray(at));
};

const chunkOverwrite: ByteMutator = (rng, data) => {
  if (data.length < 2) return data;
  const n = chunkLength(rng, data.length - 1);
  const from = rng.int(data.length - n + 1);
  const to = rng.int(data.length - n + 1);
  const out = data.slice();
  out.set(data.subarray(from, from + n), to);
  return out;
};

export const truncate: ByteMutator = (rng, data) => {
  if (data.length < 2) return data;
  // Mostly cut in the tail (mid-entropy-data, mid-IDAT, mid-initializer); sometimes anywhere.
  const at = rng.chance(0.6) ? data.length - 1 - rng.int(Math.min(data.length - 1, 1024)) : rng.int(data.length);
  return data.slice(0, at);
};

export const BYTE_MUTATORS: readonly [string, ByteMutator, number][] = [
  ['bitflip', bitFlip, 4],
  ['interesting', interesting, 3],
  ['arith', arithmetic, 2],
  ['byte', randomByte, 2],
  ['delete', chunkDelete, 1],
  ['duplicate', chunkDuplicate, 1],
  ['insert', chunkInsert, 1],
  ['overwrite', chunkOverwrite, 1],
  ['truncate', truncate, 1],
];

/** One format-blind mutation; its name goes into the case's description. */
export function mutateBytes(rng: Rng, data: Uint8Array): { name: string; data: Uint8Array } {
  const [name, fn] = BYTE_MUTATORS[rng.weighted(BYTE_MUTATORS.map(m => m[2]))]!;
  return { name, data: fn(rng, data) };
}

/** The head of one input joined to the tail of another, both cut at random points. */
export function splice(rng: Rng, a: Uint8Array, b: Uint8Array): Uint8Array {
  const cutA = a.length ? rng.int(a.length + 1) : 0;
  const cutB = b.length ? rng.int(b.length + 1) : 0;
  return concat(a.subarray(0, cutA), b.subarray(cutB));
}

export { concat };
