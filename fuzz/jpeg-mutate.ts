// JPEG-aware mutations: the file split into marker segments (and each scan's entropy-coded data), a segment's
// fields changed (SOF sizes and sampling, DHT counts, SOS spectral selection and approximation, DQT, DRI), segments
// duplicated, dropped, swapped or borrowed from another JPEG, entropy data corrupted, and the file put back with
// correct segment lengths so the change reaches the decoder.

import { INTERESTING_16, concat, concatAll } from './mutate.js';
import type { Rng } from './rng.js';

export interface Segment {
  marker: number;        // the byte after 0xFF
  body: Uint8Array;      // the payload after the length field (empty for standalone markers)
  ecs?: Uint8Array;      // SOS only: the entropy-coded data up to the next marker that is not RSTn
}

const STANDALONE = (m: number): boolean => m === 0xd8 || m === 0xd9 || m === 0x01 || (m >= 0xd0 && m <= 0xd7);

/** Segments of a JPEG, or null when the bytes do not start with SOI. Bytes after a broken length end the walk. */
export function parseJpeg(bytes: Uint8Array): Segment[] | null {
  if (bytes.length < 2 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
  const segs: Segment[] = [{ marker: 0xd8, body: new Uint8Array(0) }];
  let pos = 2;
  while (pos + 1 < bytes.length) {
    if (bytes[pos] !== 0xff) { pos++; continue; }
    const marker = bytes[pos + 1]!;
    if (marker === 0xff || marker === 0x00) { pos++; continue; }
    pos += 2;
    if (STANDALONE(marker)) { segs.push({ marker, body: new Uint8Array(0) }); continue; }
    if (pos + 2 > bytes.length) break;
    const len = (bytes[pos]! << 8) | bytes[pos + 1]!;
    const end = Math.min(bytes.length, pos + Math.max(2, len));
    const seg: Segment = { marker, body: bytes.slice(pos + 2, end) };
    pos = end;
    if (marker === 0xda) {
      let e = pos;
      while (e + 1 < bytes.length && !(bytes[e] === 0xff && bytes[e + 1] !== 0x00 && !(bytes[e + 1]! >= 0xd0 && bytes[e + 1]! <= 0xd7))) e++;
      if (e + 1 >= bytes.length) e = bytes.length;
      seg.ecs = bytes.slice(pos, e);
      pos = e;
    }
    segs.push(seg);
  }
  return segs;
}

export function serializeJpeg(segs: readonly Segment[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const s of segs) {
    if (STANDALONE(s.marker)) { parts.push(Uint8Array.of(0xff, s.marker)); continue; }
    const body = s.body.length > 65533 ? s.body.subarray(0, 65533) : s.body;
    const len = body.length + 2;
    parts.push(Uint8Array.of(0xff, s.marker, len >> 8, len & 0xff), body);
    if (s.ecs) parts.push(s.ecs);
  }
  return concatAll(parts);
}

function set16(b: Uint8Array, at: number, v: number): void {
  if (at + 1 < b.length) { b[at] = (v >> 8) & 0xff; b[at + 1] = v & 0xff; }
}

/** Change one meaningful field of a segment in place (its body is a fresh copy). */
function mutateField(rng: Rng, s: Segment): string {
  const b = (s.body = s.body.slice());
  const m = s.marker;
  if (b.length === 0) return 'empty';
  if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {       // SOFn: P Y X Nf (C H/V Tq)*
    const what = rng.int(6);
    if (what === 0) set16(b, 1, rng.pick([...INTERESTING_16, 6320, 8192, 8193, 16384]));
    else if (what === 1) set16(b, 3, rng.pick([...INTERESTING_16, 6320, 8192, 8193, 16384]));
    else if (what === 2) b[5] = rng.pick([0, 1, 2, 3, 4, 5, 255]);
    else if (what === 3) b[0] = rng.pick([0, 1, 8, 12, 16, 255]);
    else if (b.length > 6) {
      const c = 6 + 3 * rng.int(Math.max(1, Math.floor((b.length - 6) / 3)));
      if (what === 4 && c + 1 < b.length) b[c + 1] = (rng.int(16) << 4) | rng.int(16);     // sampling factors
      else if (c + 2 < b.length) b[c + 2] = rng.pick([0, 1, 2, 3, 4, 255]);                  // quant table id
    }
    return `SOF${m - 0xc0}`;
  }
  if (m === 0xc4) {                                                                // DHT: Tc/Th, 16 counts, symbols
    const what = rng.int(3);
    if (what === 0) b[0] = rng.pick([0x00, 0x01, 0x10, 0x11, 0x04, 0x14, 0x20, 0xff]);
    else if (what === 1) b[1 + rng.int(Math.min(16, b.length - 1))] = rng.pick([0, 1, 2, 16, 255]);
    else b[rng.int(b.length)] = rng.int(256);
    return 'DHT';
  }
  if (m === 0xda) {                                                                // SOS: Ns (Cs Td/Ta)* Ss Se Ah/Al
    const ns = b[0]!;
    const tail = 1 + 2 * ns;
    const what = rng.int(5);
    if (what === 0) b[0] = rng.pick([0, 1, 2, 3, 4, 5, 255]);
    else if (what === 1 && tail + 2 < b.length) {
      b[tail] = rng.pick([0, 1, 5, 63, 64, 255]);
      b[tail + 1] = rng.pick([0, 1, 5, 63, 64, 255]);
    } else if (what === 2 && tail + 2 < b.length) b[tail + 2] = (rng.int(16) << 4) | rng.int(16);
    else if (what === 3 && b.length > 2) b[2 + 2 * rng.int(Math.max(1, ns))] = rng.pick([0x00, 0x11, 0x44, 0xff]);
    else if (b.length > 1) b[1 + 2 * rng.int(Math.max(1, ns))] = rng.pick([0, 1, 2, 3, 4, 255]);
    return 'SOS';
  }
  if (m === 0xdb) {                                                                // DQT: Pq/Tq then 64 or 128 bytes
    if (rng.chance(0.5)) b[0] = rng.pick([0x00, 0x01, 0x03, 0x04, 0x10, 0x13, 0xff]);
    else b[1 + rng.int(Math.max(1, b.length - 1))] = rng.pick([0, 1, 255]);
    return 'DQT';
  }
  if (m === 0xdd) {                                                                // DRI
    set16(b, 0, rng.pick([0, 1, 2, 0xffff]));
    return 'DRI';
  }
  b[rng.int(b.length)] = rng.int(256);
  return `APP/other ${m.toString(16)}`;
}

function mutateEcs(rng: Rng, s: Segment): string {
  const d = s.ecs!;
  const what = rng.int(4);
  if (d.length === 0 || what === 0) {
    const extra = rng.chance(0.5) ? new Uint8Array(rng.range(1, 64)).fill(rng.pick([0x00, 0xff, 0x55])) : Uint8Array.of(0xff, 0xd0 + rng.int(8));
    const at = d.length ? rng.int(d.length + 1) : 0;
    s.ecs = concat(d.subarray(0, at), extra, d.subarray(at));
    return 'ecs-insert';
  }
  if (what === 1) { s.ecs = d.slice(0, rng.int(d.length)); return 'ecs-truncate'; }
  const out = d.slice();
  for (let k = rng.pick([1, 2, 8]); k > 0; k--) {
    const i = rng.int(out.length);
    if (out[i] === 0xff || (i > 0 && out[i - 1] === 0xff)) continue;   // keep the marker structure
    out[i] = what === 2 ? out[i]! ^ (1 << rng.int(8)) : rng.int(255);
  }
  s.ecs = out;
  return 'ecs-corrupt';
}

/** One segment-aware mutation of a parsed JPEG; donor is another JPEG's segments (for borrowing). */
export function mutateJpeg(rng: Rng, segs: Segment[], donor: Segment[] | null): { name: string; segs: Segment[] } {
  const out = segs.map(s => ({ ...s }));
  const pickIdx = (pred: (s: Segment) => boolean): number => {
    const idx = out.map((s, i) => (pred(s) ? i : -1)).filter(i => i >= 0);
    return idx.length ? rng.pick(idx) : -1;
  };
  switch (rng.weighted([5, 2, 1, 1, 1, 1, 1])) {
    case 0: {
      const i = pickIdx(s => s.body.length > 0);
      return { name: i < 0 ? 'none' : `field ${mutateField(rng, out[i]!)}`, segs: out };
    }
    case 1: {
      const i = pickIdx(s => s.ecs !== undefined);
      return { name: i < 0 ? 'none' : mutateEcs(rng, out[i]!), segs: out };
    }
    case 2: {
      const i = pickIdx(s => s.marker !== 0xd8);
      if (i >= 0) out.splice(i, 1);
      return { name: 'segment-delete', segs: out };
    }
    case 3: {
      const i = pickIdx(() => true);
      const copies = rng.pick([1, 1, 3, 50]);
      out.splice(rng.range(1, out.length), 0, ...Array.from({ length: copies }, () => out[i]!));
      return { name: `segment-duplicate x${copies}`, segs: out };
    }
    case 4: {
      if (out.length > 2) {
        const i = rng.range(1, out.length - 1), j = rng.range(1, out.length - 1);
        [out[i], out[j]] = [out[j]!, out[i]!];
      }
      return { name: 'segment-swap', segs: out };
    }
    case 5: {
      if (donor && donor.length > 1) out.splice(rng.range(1, out.length), 0, donor[rng.range(1, donor.length - 1)]!);
      return { name: 'segment-borrow', segs: out };
    }
    default: {
      const i = pickIdx(s => s.marker === 0xd9);
      if (i >= 0) out.splice(i, 1);
      else out.push({ marker: 0xd9, body: new Uint8Array(0) });
      return { name: 'eoi-toggle', segs: out };
    }
  }
}
