// Is a model file what its name claims? An .onnx file must decode as an ONNX ModelProto with a graph, a supported
// ir_version and a default-domain opset (the protobuf decode of src/onnx; nothing is planned), a .json file must parse
// as a JSON object. Checked on every download before it is renamed into place, and once on files already in the cache
// (a file saved by an older version may be an HTML page or cut short): a file that passed is recorded by size and
// mtime in the folder's .verified.json, so later loads only stat it. A file that fails is moved aside, never deleted
// silently, and fetched or prepared again.

import { MAX_IR_VERSION, MIN_IR_VERSION, onnx } from '../onnx/index.js';
import { countProtoObjects, MAX_PROTO_OBJECTS } from '../onnx/wire-budget.js';

const STAMP = '.verified.json';

/** Throws, naming the reason, unless `file`'s content is what its `name` says (.onnx, .json; other names pass). */
export async function checkContent(file: string, name = file): Promise<void> {
  const fs = await import('node:fs');
  if (/\.onnx$/i.test(name)) checkOnnx(fs.readFileSync(file));
  else if (/\.json$/i.test(name)) checkJson(fs.readFileSync(file, 'utf8'));
}

function checkOnnx(bytes: Uint8Array): void {
  if (bytes.byteLength === 0) throw new Error('the file is empty');
  // The loader's own budget, first: protobufjs would build every message before we see any (src/onnx/wire-budget.ts).
  if (countProtoObjects(bytes) > MAX_PROTO_OBJECTS) throw new Error(`holds more than ${MAX_PROTO_OBJECTS} protobuf messages; the loader refuses it`);
  let proto: onnx.ModelProto;
  try {
    proto = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new Error(`not an ONNX model: protobuf decoding failed (${(e as Error).message}); truncated or not a model file`);
  }
  const ir = Number(proto.irVersion ?? 0);
  if (!proto.graph) throw new Error('not an ONNX model: it has no graph');
  if (ir < MIN_IR_VERSION || ir > MAX_IR_VERSION) throw new Error(`not a usable ONNX model: ir_version ${ir} (expected ${MIN_IR_VERSION} to ${MAX_IR_VERSION})`);
  if (!(proto.opsetImport ?? []).some(o => !o.domain || o.domain === 'ai.onnx')) throw new Error('not a usable ONNX model: no default-domain opset_import');
}

function checkJson(text: string): void {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`not valid JSON (${(e as Error).message})${/^\s*</.test(text) ? '; it looks like an HTML or XML page' : ''}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object');
}

export interface CorruptFile {
  file: string;
  reason: string;
  /** Where the bad file now is (undefined when it was left in place). */
  movedTo?: string;
}

/**
 * Checks the cached files `names` (relative to `dir`) that exist; each that fails is reported and, unless `setAside`
 * is false, renamed to `<name>.corrupt-<time>` (an older one of that name is removed, so at most one is kept).
 */
export async function verifyCached(dir: string, names: readonly string[], setAside = true): Promise<CorruptFile[]> {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const stampFile = path.join(dir, STAMP);
  let stamps: Record<string, string> = {};
  try {
    stamps = JSON.parse(fs.readFileSync(stampFile, 'utf8')) as Record<string, string>;
  } catch { /* no record yet (or unreadable): check everything */ }
  const corrupt: CorruptFile[] = [];
  let changed = false;
  for (const name of names) {
    const file = path.join(dir, name);
    let st: import('node:fs').Stats;
    try {
      st = fs.statSync(file);
    } catch {
      continue;
    }
    const key = `${st.size}:${st.mtimeMs}`;
    if (stamps[name] === key) continue;
    try {
      if (!st.isFile()) throw new Error('not a regular file');
      await checkContent(file, name);
      stamps[name] = key;
    } catch (e) {
      delete stamps[name];
      corrupt.push({ file, reason: (e as Error).message, movedTo: setAside ? moveAside(fs, path, file) : undefined });
    }
    changed = true;
  }
  if (changed) writeStamps(fs, stampFile, stamps);
  return corrupt;
}

/** Records that `names` in `dir` passed checkContent as they are now (after a download). */
export async function markVerified(dir: string, names: readonly string[]): Promise<void> {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const stampFile = path.join(dir, STAMP);
  let stamps: Record<string, string> = {};
  try {
    stamps = JSON.parse(fs.readFileSync(stampFile, 'utf8')) as Record<string, string>;
  } catch { /* first record */ }
  for (const name of names) {
    const st = fs.statSync(path.join(dir, name));
    stamps[name] = `${st.size}:${st.mtimeMs}`;
  }
  writeStamps(fs, stampFile, stamps);
}

/** Renames `file` (or folder) to `<file>.corrupt-<time>`, removing an earlier one; returns the new path. */
export function moveAside(fs: typeof import('node:fs'), path: typeof import('node:path'), file: string): string {
  const base = `${path.basename(file)}.corrupt-`;
  for (const old of fs.readdirSync(path.dirname(file)).filter(f => f.startsWith(base))) {
    fs.rmSync(path.join(path.dirname(file), old), { recursive: true, force: true });
  }
  const to = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  fs.renameSync(file, to);
  return to;
}

function writeStamps(fs: typeof import('node:fs'), stampFile: string, stamps: Record<string, string>): void {
  const tmp = `${stampFile}.${process.pid}.${Date.now()}.part`;
  try {
    fs.writeFileSync(tmp, `${JSON.stringify(stamps, null, 1)}\n`);
    fs.renameSync(tmp, stampFile);
  } catch {
    fs.rmSync(tmp, { force: true });   // a read-only cache still works: it is only checked again next time
  }
}
