// A small streaming reader for the ustar archives npm packs (bytes in, entries out; gunzip happens before it).
// Bounded and strict, since the archive comes from the network: every header's checksum is verified, sizes must be
// octal numbers within the limits (per entry, in total, entry count), paths that are absolute or contain '..' are
// refused outright, as are links and devices; only regular files are handed out (directories are skipped). pax
// ('x') and GNU long-name ('L') headers may rename the next entry; global pax headers ('g') are read and ignored.

export interface TarEntry {
  path: string;
  size: number;
}

export interface TarLimits {
  /** Largest single entry (default 1 GiB). */
  maxEntryBytes?: number;
  /** Largest sum of all entries (default 2 GiB). */
  maxTotalBytes?: number;
  /** Most entries (default 100 000). */
  maxEntries?: number;
}

/** Returns a sink for the entry's content to keep it, or undefined to skip it. */
export type EntryHandler = (entry: TarEntry) => ((chunk: Uint8Array) => void) | undefined;

const BLOCK = 512;
const META_MAX = 1 << 16;   // pax and long-name headers are small
const text = new TextDecoder();

export class TarReader {
  private head = new Uint8Array(BLOCK);
  private headFill = 0;
  private remaining = 0;                     // content bytes of the current entry still to come
  private padding = 0;                       // zero bytes after it, up to the block boundary
  private sink: ((chunk: Uint8Array) => void) | undefined;
  private meta: { kind: string; parts: Uint8Array[] } | undefined;
  private nextPath: string | undefined;      // from a pax or long-name header, for the next entry
  private entries = 0;
  private total = 0;
  private ended = false;                     // the end-of-archive block was seen

  constructor(private readonly name: string, private readonly onEntry: EntryHandler, private readonly limits: TarLimits = {}) {}

  push(chunk: Uint8Array): void {
    let off = 0;
    while (off < chunk.byteLength) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.byteLength - off);
        const part = chunk.subarray(off, off + n);
        if (this.meta) this.meta.parts.push(part.slice());
        else this.sink?.(part);
        this.remaining -= n;
        off += n;
        if (this.remaining === 0 && this.meta) this.finishMeta();
      } else if (this.padding > 0) {
        const n = Math.min(this.padding, chunk.byteLength - off);
        this.padding -= n;
        off += n;
      } else if (this.ended) {
        return;                              // the rest is the trailing zero blocks (or npm's padding)
      } else {
        const n = Math.min(BLOCK - this.headFill, chunk.byteLength - off);
        this.head.set(chunk.subarray(off, off + n), this.headFill);
        this.headFill += n;
        off += n;
        if (this.headFill === BLOCK) {
          this.headFill = 0;
          this.header(this.head);
        }
      }
    }
  }

  /** Call when the input ends: throws if it stopped inside an entry or before any end-of-archive block. */
  end(): void {
    if (this.remaining > 0 || this.headFill > 0 || this.meta) throw this.fail('the archive is truncated');
    if (!this.ended && this.entries === 0) throw this.fail('not a tar archive (no entries)');
  }

  private fail(detail: string): Error {
    return new Error(`${this.name}: ${detail}`);
  }

  private header(h: Uint8Array): void {
    if (h.every(b => b === 0)) {
      this.ended = true;
      return;
    }
    const stored = octal(h.subarray(148, 156));
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
    if (stored !== sum) throw this.fail(`entry ${this.entries + 1}: header checksum ${stored ?? 'unreadable'}, computed ${sum} (not a tar archive, or corrupt)`);
    const size = octal(h.subarray(124, 136));
    if (size === undefined) throw this.fail(`entry ${this.entries + 1}: the size field is not an octal number`);
    const type = String.fromCharCode(h[156]!);
    const magic = text.decode(h.subarray(257, 262));
    const prefix = magic === 'ustar' ? cString(h.subarray(345, 500)) : '';
    const path = this.nextPath ?? (prefix ? `${prefix}/${cString(h.subarray(0, 100))}` : cString(h.subarray(0, 100)));
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (type === 'x' || type === 'g' || type === 'L') {
      if (size > META_MAX) throw this.fail(`a '${type}' header of ${size} bytes is over the ${META_MAX}-byte limit`);
      this.meta = { kind: type, parts: [] };
      this.remaining = size;
      if (size === 0) this.finishMeta();
      return;
    }
    this.nextPath = undefined;
    if (++this.entries > (this.limits.maxEntries ?? 100_000)) throw this.fail(`more than ${this.limits.maxEntries ?? 100_000} entries`);
    checkPath(path, p => this.fail(`refusing the entry '${p}': the path is absolute or leaves the archive's folder`));
    if (type === '5') {
      if (size !== 0) throw this.fail(`directory '${path}' has a size of ${size}`);
      return;
    }
    if (type !== '0' && type !== '\0' && type !== '7') {
      throw this.fail(`refusing the entry '${path}': only regular files and folders are accepted (type '${type}')`);
    }
    const maxEntry = this.limits.maxEntryBytes ?? 2 ** 30;
    if (size > maxEntry) throw this.fail(`'${path}' is ${size} bytes, over the ${maxEntry}-byte limit per file`);
    this.total += size;
    const maxTotal = this.limits.maxTotalBytes ?? 2 ** 31;
    if (this.total > maxTotal) throw this.fail(`the files add up to more than ${maxTotal} bytes`);
    this.sink = this.onEntry({ path, size });
    this.remaining = size;
  }

  private finishMeta(): void {
    const { kind, parts } = this.meta!;
    this.meta = undefined;
    const body = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
    let o = 0;
    for (const p of parts) { body.set(p, o); o += p.byteLength; }
    if (kind === 'L') this.nextPath = cString(body);
    else if (kind === 'x') {
      const path = paxRecords(body, () => this.fail('a pax header is malformed')).get('path');
      if (path !== undefined) this.nextPath = path;
    }
  }
}

/** Throws (via `fail`) for absolute paths, drive letters, backslashes, NUL and any '..' segment. */
export function checkPath(path: string, fail: (p: string) => Error): void {
  if (path === '' || path.startsWith('/') || /^[A-Za-z]:/.test(path) || path.includes('\\') || path.includes('\0')) throw fail(path);
  if (path.split('/').some(seg => seg === '..')) throw fail(path);
}

/** pax records: "<length> <key>=<value>\n", length counting the whole record. */
function paxRecords(body: Uint8Array, fail: () => Error): Map<string, string> {
  const out = new Map<string, string>();
  let off = 0;
  while (off < body.byteLength) {
    const space = body.indexOf(0x20, off);
    const len = space < 0 ? NaN : Number(text.decode(body.subarray(off, space)));
    if (!Number.isInteger(len) || len <= space - off || off + len > body.byteLength) throw fail();
    const record = text.decode(body.subarray(space + 1, off + len - 1));
    const eq = record.indexOf('=');
    if (eq < 0) throw fail();
    out.set(record.slice(0, eq), record.slice(eq + 1));
    off += len;
  }
  return out;
}

function cString(b: Uint8Array): string {
  const nul = b.indexOf(0);
  return text.decode(nul < 0 ? b : b.subarray(0, nul));
}

/** An octal field (spaces or NULs around the digits); undefined if anything else is in it. */
function octal(b: Uint8Array): number | undefined {
  const s = cString(b).trim();
  if (!/^[0-7]{1,12}$/.test(s)) return undefined;
  return parseInt(s, 8);
}
