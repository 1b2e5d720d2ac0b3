// A schema-less protobuf reader and writer for mutating ONNX files: a message is a list of fields; a
// length-delimited field whose payload parses cleanly as a message is kept as one (so mutations deep in the tree
// get their enclosing lengths fixed when written back), anything else stays bytes. Writing an unmutated tree gives
// back the input bytes exactly (varints are re-encoded in their original width).

export type Field =
  | { no: number; wire: 0; value: bigint; width: number }                  // varint (width: its encoded bytes)
  | { no: number; wire: 1 | 5; raw: Uint8Array }                          // fixed64 / fixed32
  | { no: number; wire: 2; bytes: Uint8Array; msg?: Field[] };            // length-delimited (msg: parsed payload)

const MAX_DEPTH = 12;
/** Field 9 is TensorProto.raw_data (and AttributeProto.strings): weights, never worth parsing as a message. */
const RAW_DATA = 9;

function readVarint(b: Uint8Array, pos: number): [bigint, number] | null {
  let v = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos + i >= b.length) return null;
    const byte = b[pos + i]!;
    v |= BigInt(byte & 0x7f) << BigInt(7 * i);
    if (!(byte & 0x80)) return [v, i + 1];
  }
  return null;
}

/** Fields of a message, or null when the bytes are not a well-formed message (or, below the top, look like text). */
export function parseMessage(b: Uint8Array, depth = 0): Field[] | null {
  const fields: Field[] = [];
  let pos = 0;
  while (pos < b.length) {
    const key = readVarint(b, pos);
    if (!key) return null;
    const [k, kw] = key;
    const no = Number(k >> 3n), wire = Number(k & 7n);
    if (no === 0 || no > 1 << 20) return null;
    pos += kw;
    if (wire === 0) {
      const v = readVarint(b, pos);
      if (!v) return null;
      fields.push({ no, wire: 0, value: v[0], width: v[1] });
      pos += v[1];
    } else if (wire === 1 || wire === 5) {
      const n = wire === 1 ? 8 : 4;
      if (pos + n > b.length) return null;
      fields.push({ no, wire, raw: b.slice(pos, pos + n) });
      pos += n;
    } else if (wire === 2) {
      const l = readVarint(b, pos);
      if (!l || l[0] > BigInt(b.length - pos - l[1])) return null;
      pos += l[1];
      const bytes = b.subarray(pos, pos + Number(l[0]));
      pos += bytes.length;
      const msg = depth < MAX_DEPTH && bytes.length > 0 && !(no === RAW_DATA && bytes.length > 256) ? parseMessage(bytes, depth + 1) : null;
      fields.push(msg && !looksLikeText(bytes) ? { no, wire: 2, bytes, msg } : { no, wire: 2, bytes });
    } else return null;
  }
  return fields;
}

/** Printable ASCII names ("conv1.weight") sometimes parse as messages; keep them as strings. */
function looksLikeText(b: Uint8Array): boolean {
  if (b.length > 256) return false;
  for (const c of b) if (c < 0x20 || c > 0x7e) return false;
  return true;
}

export function encodeVarint(v: bigint, minWidth = 1): Uint8Array {
  let x = BigInt.asUintN(64, v);
  const out: number[] = [];
  do {
    const byte = Number(x & 0x7fn);
    x >>= 7n;
    out.push(byte);
  } while (x > 0n || out.length < minWidth);
  for (let i = 0; i < out.length - 1; i++) out[i]! |= 0x80;
  return Uint8Array.from(out);
}

function pushField(parts: Uint8Array[], f: Field): void {
  parts.push(encodeVarint(BigInt((f.no << 3) | f.wire)));
  if (f.wire === 0) parts.push(encodeVarint(f.value, f.width));
  else if (f.wire === 2) {
    const payload = f.msg ? writeMessage(f.msg) : f.bytes;
    parts.push(encodeVarint(BigInt(payload.length)), payload);
  } else parts.push(f.raw);
}

export function writeMessage(fields: readonly Field[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const f of fields) pushField(parts, f);
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

// Builders for crafting messages by hand: pb.msg(pb.int(1, 8), pb.str(2, 'x'), pb.sub(7, [...]))
export const pb = {
  int: (no: number, v: number | bigint): Field => ({ no, wire: 0, value: BigInt.asUintN(64, BigInt(v)), width: 1 }),
  str: (no: number, s: string): Field => ({ no, wire: 2, bytes: new TextEncoder().encode(s) }),
  bytes: (no: number, b: Uint8Array): Field => ({ no, wire: 2, bytes: b }),
  sub: (no: number, fields: Field[]): Field => ({ no, wire: 2, bytes: new Uint8Array(0), msg: fields }),
  f32: (no: number, v: number): Field => {
    const raw = new Uint8Array(4);
    new DataView(raw.buffer).setFloat32(0, v, true);
    return { no, wire: 5, raw };
  },
};

/** Every field in the tree, depth first, with the message that holds it. */
export function walk(fields: Field[], visit: (f: Field, parent: Field[], depth: number) => void, depth = 0): void {
  for (const f of fields) {
    visit(f, fields, depth);
    if (f.wire === 2 && f.msg) walk(f.msg, visit, depth + 1);
  }
}
