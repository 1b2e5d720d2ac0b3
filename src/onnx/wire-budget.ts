// Counts the objects protobufjs would build from ModelProto bytes, before it builds them. Every nested message and
// every entry of a repeated bytes field becomes a JavaScript object of 100–400 bytes however little of the file it
// takes (2 bytes when empty): 1M empty initializers, a 2 MB file, cost 338 MiB of heap, so a 25 MB file would
// exhaust V8's heap and abort the process inside ModelProto.decode, before any check of ours could run.
// The walk reads only tags and lengths, by wire type as protobufjs does (which skips a field whose wire type does
// not match the schema's), and stops at the first malformed spot, leaving that error to protobufjs.

/** Most messages and repeated-bytes entries a model may hold (ViT-B/16 has ~10k; ~400 MiB of heap at the worst). */
export const MAX_PROTO_OBJECTS = 2 ** 20;

const BYTES = '';   // a repeated bytes field: counted, nothing inside

/** For each onnx.proto message ocellus decodes: its message-typed fields (and repeated bytes fields) by number. */
const FIELDS: Record<string, Record<number, string>> = {
  ModelProto: { 7: 'GraphProto', 8: 'Leaf', 14: 'Leaf', 20: 'TrainingInfoProto', 25: 'FunctionProto' },
  GraphProto: { 1: 'NodeProto', 5: 'TensorProto', 15: 'SparseTensorProto', 11: 'ValueInfoProto', 12: 'ValueInfoProto', 13: 'ValueInfoProto', 14: 'TensorAnnotation' },
  NodeProto: { 5: 'AttributeProto' },
  AttributeProto: { 5: 'TensorProto', 6: 'GraphProto', 22: 'SparseTensorProto', 14: 'TypeProto', 9: BYTES, 10: 'TensorProto', 11: 'GraphProto', 23: 'SparseTensorProto', 15: 'TypeProto' },
  TrainingInfoProto: { 1: 'GraphProto', 2: 'GraphProto', 3: 'Leaf', 4: 'Leaf' },
  FunctionProto: { 11: 'AttributeProto', 7: 'NodeProto', 9: 'Leaf' },
  TensorAnnotation: { 2: 'Leaf' },
  TensorProto: { 3: 'Leaf', 6: BYTES, 13: 'Leaf' },
  SparseTensorProto: { 1: 'TensorProto', 2: 'TensorProto' },
  ValueInfoProto: { 2: 'TypeProto' },
  TypeProto: { 1: 'TypeTensor', 4: 'TypeElem', 5: 'TypeMap', 9: 'TypeElem', 8: 'TypeTensor' },
  TypeTensor: { 2: 'TensorShapeProto' },
  TypeElem: { 1: 'TypeProto' },
  TypeMap: { 2: 'TypeProto' },
  TensorShapeProto: { 1: 'Leaf' },
  Leaf: {},
};

/**
 * How many objects decoding `bytes` as a ModelProto would create, counting up to just past `limit` (the walk stops
 * there). Malformed bytes end the count where they start.
 */
export function countProtoObjects(bytes: Uint8Array, limit = MAX_PROTO_OBJECTS): number {
  let pos = 0, count = 0;
  const stack: { fields: Record<number, string>; end: number }[] = [{ fields: FIELDS['ModelProto']!, end: bytes.length }];
  /** A varint's low 32 bits (as protobufjs's uint32 keeps them), or -1 if it runs past the end or past 10 bytes. */
  const varint = (): number => {
    let v = 0;
    for (let i = 0; i < 10; i++) {
      if (pos >= bytes.length) return -1;
      const b = bytes[pos++]!;
      if (i < 5) v = (v | ((b & 127) << (7 * i))) >>> 0;
      if (b < 128) return v;
    }
    return -1;
  };
  /** Skips a field's value of wire type `wire` (groups with everything inside them); false if malformed. */
  const skip = (wire: number): boolean => {
    let groups = 0;
    for (;;) {
      if (wire === 0 && varint() < 0) return false;
      if (wire === 1) pos += 8;
      if (wire === 5) pos += 4;
      if (wire === 2) {
        const len = varint();
        if (len < 0) return false;
        pos += len;
      }
      if (wire === 3) groups++;
      if (wire === 4) groups--;
      if (wire > 5 || groups < 0 || pos > bytes.length) return false;
      if (groups === 0) return true;
      const tag = varint();
      if (tag < 0 || tag >>> 3 === 0) return false;
      wire = tag & 7;
    }
  };
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    if (pos >= top.end) {
      if (pos > top.end) return count;
      stack.pop();
      continue;
    }
    const tag = varint();
    if (tag < 0 || tag >>> 3 === 0) return count;
    const wire = tag & 7;
    const sub = wire === 2 ? top.fields[tag >>> 3] : undefined;
    if (sub === undefined) {
      if (wire === 4 || !skip(wire)) return count;   // an end-group here is an error for protobufjs too
      continue;
    }
    const len = varint();
    if (len < 0 || pos + len > top.end) return count;
    if (++count > limit) return count;
    if (sub === BYTES) pos += len;
    else stack.push({ fields: FIELDS[sub]!, end: pos + len });
  }
  return count;
}
