// Loads a model from a path, a Uint8Array or an ArrayBuffer. Node's fs is imported only for paths, so this
// module bundles for Workers and browsers. Files are read only once known to be regular files, and external data
// only from inside the model's folder, exactly the bytes each tensor declares.

import type { Model } from '../ir/graph.js';
import { decodeModel } from './decode.js';
import { ModelLoadError } from './errors.js';

export type ModelSource = string | Uint8Array | ArrayBuffer;

type Fs = typeof import('node:fs');
type Path = typeof import('node:path');

/** Largest .onnx file read: protobuf's 2 GiB message limit (weights beyond that go to external data). */
export const MAX_MODEL_FILE_BYTES = 2 ** 31 - 1;

export async function loadModel(source: ModelSource, opts: { name?: string } = {}): Promise<Model> {
  if (typeof source === 'string') {
    const fs = await import('node:fs');
    const path = await import('node:path');
    const name = opts.name ?? source;
    let bytes: Uint8Array;
    try {
      bytes = readRegularFile(fs, source, MAX_MODEL_FILE_BYTES);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new ModelLoadError(source, code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not an .onnx file' : (e as Error).message);
    }
    const external = new ExternalFiles(fs, path, source);
    try {
      return decodeModel(bytes, { name, ownsBytes: true, readExternal: (location, offset, length) => external.read(location, offset, length) });
    } finally {
      external.close();
    }
  }
  const bytes = source instanceof Uint8Array ? source : new Uint8Array(source);
  return decodeModel(bytes, { name: opts.name ?? 'model bytes' });
}

/** O_NONBLOCK: opening a FIFO for reading must not wait for a writer (the fstat that follows refuses it). */
function openFlags(fs: Fs): number {
  const c = fs.constants;
  return c.O_RDONLY | (c.O_NONBLOCK ?? 0);
}

function kindOf(st: import('node:fs').Stats): string {
  return st.isDirectory() ? 'a folder' : st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() ? 'a character device'
    : st.isBlockDevice() ? 'a block device' : st.isSocket() ? 'a socket' : 'not a regular file';
}

/** The whole content of a regular file of at most `max` bytes (a device or FIFO is refused before any read). */
function readRegularFile(fs: Fs, file: string, max: number): Uint8Array {
  const fd = fs.openSync(file, openFlags(fs));
  try {
    const st = fs.fstatSync(fd);
    if (st.isDirectory()) throw Object.assign(new Error('is a folder'), { code: 'EISDIR' });
    if (!st.isFile()) throw new Error(`is ${kindOf(st)}, not a regular file`);
    if (st.size > max) throw new Error(`is ${st.size} bytes, more than the ${max} a protobuf model can be (large weights belong in external data)`);
    return readExactly(fs, fd, st.size, 0);
  } finally {
    fs.closeSync(fd);
  }
}

/** `length` bytes at `offset` into a fresh buffer of its own (the decoder may keep float32 views of it). */
function readExactly(fs: Fs, fd: number, length: number, offset: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let got = 0; got < length;) {
    const n = fs.readSync(fd, out, got, length - got, offset + got);
    if (n === 0) throw new Error(`ended after ${got} of ${length} bytes (did it change while being read?)`);
    got += n;
  }
  return out;
}

function inside(root: string, p: string, path: Path): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * External data files of one model, opened once each. A location must be relative and, once every symlink is
 * resolved, lie inside the model's folder — or inside the real folder of the model file when that is itself a
 * symlink, as in the Hugging Face cache (snapshots/… links into blobs/; onnxruntime allows the same two roots).
 * Only regular files are read, each tensor's range checked against the file's size first, and all tensors
 * together may not read more bytes from a file than it has (overlapping ranges would multiply it).
 */
class ExternalFiles {
  private readonly dir: string;
  private roots?: string[];
  /** By real path: 'w.bin', './w.bin' and a link to it share one budget. */
  private readonly files = new Map<string, { fd: number; size: number; handedOut: number }>();
  private readonly byLocation = new Map<string, { fd: number; size: number; handedOut: number }>();

  constructor(private readonly fs: Fs, private readonly path: Path, private readonly model: string) {
    this.dir = path.dirname(path.resolve(model));
  }

  read(location: string, offset: number, length: number): Uint8Array {
    const f = this.open(location);
    if (offset + length > f.size) {
      throw new Error(`it has ${f.size} bytes; offset ${offset} + length ${length} runs past its end`);
    }
    f.handedOut += length;
    if (f.handedOut > f.size) {
      throw new Error(`the model's tensors read ${f.handedOut} bytes from it, more than its ${f.size} bytes (their ranges overlap)`);
    }
    return readExactly(this.fs, f.fd, length, offset);
  }

  close(): void {
    for (const f of this.files.values()) this.fs.closeSync(f.fd);
    this.files.clear();
  }

  private open(location: string): { fd: number; size: number; handedOut: number } {
    const known = this.byLocation.get(location);
    if (known) return known;
    const { fs, path } = this;
    if (location.includes('\0') || path.isAbsolute(location) || path.win32.isAbsolute(location)) {
      throw new Error(`location '${location}' must be a path relative to the model's folder`);
    }
    const full = path.resolve(this.dir, location);
    if (!inside(this.dir, full, path)) throw new Error(`location '${location}' is outside the model's folder`);
    let real: string;
    try {
      real = fs.realpathSync(full);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`no such file next to the model (${full})`);
      throw e;
    }
    this.roots ??= [...new Set([fs.realpathSync(this.dir), path.dirname(fs.realpathSync(this.model))])];
    if (!this.roots.some(root => inside(root, real, path))) {
      throw new Error(`location '${location}' resolves to ${real}, outside the model's folder (${this.roots[0]})`);
    }
    let f = this.files.get(real);
    if (!f) {
      // O_NOFOLLOW: `real` has no links left; one put there since realpath() is refused.
      const fd = fs.openSync(real, openFlags(fs) | (fs.constants.O_NOFOLLOW ?? 0));
      const st = fs.fstatSync(fd);
      if (!st.isFile()) {
        fs.closeSync(fd);
        throw new Error(`'${location}' is ${kindOf(st)}, not a regular file`);
      }
      f = { fd, size: st.size, handedOut: 0 };
      this.files.set(real, f);
    }
    this.byLocation.set(location, f);
    return f;
  }
}
