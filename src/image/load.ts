// loadImage: every input form ocellus accepts → RawImage. Paths and file: URLs (node:fs, imported only then, so
// this bundles for Workers and browsers), http(s) URLs (fetch with a timeout and a byte limit), data: URLs,
// encoded bytes (Uint8Array/Buffer/ArrayBuffer, a Workers AI JSON number[]), Blobs, and decoded RawImages.

import { decodeImage } from './decode.js';
import { ImageInputError } from './errors.js';
import { checkPixelLimit, resolveMaxPixels, type DecodeWork } from './limits.js';
import type { RawImage } from './types.js';

export type ImageInput = string | URL | Uint8Array | ArrayBuffer | readonly number[] | Blob | RawImage;

export interface LoadOptions {
  /** Refuse images with more pixels than this (default 40 megapixels), checked before decoding. */
  maxPixels?: number;
  /** http(s) downloads: give up after this many milliseconds, headers and body together (default 30 000). */
  timeoutMs?: number;
  /** http(s) downloads: refuse bodies larger than this many bytes (default 20 MB). */
  maxBytes?: number;
  /** How errors name in-memory inputs (default 'input'); paths and URLs name themselves. */
  name?: string;
  /** Filled in with what decoding cost against its format's budget (see DecodeWork); untouched for RawImages. */
  work?: DecodeWork;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_BYTES = 20 * 1024 * 1024;

/** A decoded image: `data` is a Uint8Array, sizes positive integers, channels 1–4 (the length is not checked). */
export function isRawImage(x: unknown): x is RawImage {
  if (typeof x !== 'object' || x === null) return false;
  const r = x as Partial<RawImage>;
  return r.data instanceof Uint8Array && isPositiveInt(r.width) && isPositiveInt(r.height)
    && (r.channels === 1 || r.channels === 2 || r.channels === 3 || r.channels === 4);
}

function isPositiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

function validateRawImage(img: RawImage, name: string, maxPixels: number): RawImage {
  const expected = img.width * img.height * img.channels;
  if (img.data.length !== expected) {
    throw new ImageInputError(name, `RawImage data has ${img.data.length} bytes, expected ${img.width}×${img.height}×${img.channels} = ${expected}`);
  }
  checkPixelLimit(img.width, img.height, maxPixels, name);
  return img;
}

/** The Workers AI JSON form: every element an integer 0–255. */
function bytesFromNumbers(arr: readonly unknown[], name: string): Uint8Array {
  const out = new Uint8Array(arr.length);
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 255) {
      throw new ImageInputError(name, `byte array element ${i} is ${JSON.stringify(v) ?? String(v)}, expected an integer 0–255`);
    }
    out[i] = v;
  }
  return out;
}

function errorCode(e: unknown): string | undefined {
  return (e as { code?: string } | null)?.code;
}

async function readFileBytes(path: string): Promise<Uint8Array> {
  const fs = await import('node:fs/promises');
  try {
    return new Uint8Array(await fs.readFile(path));
  } catch (e) {
    const code = errorCode(e);
    const detail = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not an image file'
      : `cannot read the file (${(e as Error).message})`;
    throw new ImageInputError(path, detail, { cause: e });
  }
}

async function filePathOf(url: URL): Promise<string> {
  const { fileURLToPath } = await import('node:url');
  try {
    return fileURLToPath(url);
  } catch (e) {
    throw new ImageInputError(url.href, `not a usable file URL (${(e as Error).message})`, { cause: e });
  }
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${n} bytes`;
}

/** Read a response body, stopping as soon as it passes maxBytes. */
async function readBody(res: Response, url: string, maxBytes: number): Promise<Uint8Array> {
  const tooBig = (what: string) => new ImageInputError(url, `response is ${what}, over the ${formatBytes(maxBytes)} limit (maxBytes)`);
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => {});
    throw tooBig(formatBytes(declared));
  }
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooBig(`more than ${formatBytes(maxBytes)}`);
    }
    parts.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function fetchBytes(url: string, timeoutMs: number, maxBytes: number): Promise<Uint8Array> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const res = await fetch(url, { signal: controller.signal, redirect: 'follow' });
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw new ImageInputError(url, `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
    }
    return await readBody(res, url, maxBytes);
  } catch (e) {
    if (e instanceof ImageInputError) throw e;
    if (controller.signal.aborted) throw new ImageInputError(url, `download timed out after ${timeoutMs / 1000} s`, { cause: e });
    const cause = (e as { cause?: { message?: string } }).cause?.message;
    throw new ImageInputError(url, `download failed (${cause ?? (e as Error).message})`, { cause: e });
  } finally {
    clearTimeout(timer);
  }
}

function dataUrlBytes(url: string): Uint8Array {
  const comma = url.indexOf(',');
  const shown = url.slice(0, Math.min(comma < 0 ? 40 : comma, 40));
  if (comma < 0) throw new ImageInputError(shown, 'malformed data: URL (no comma)');
  const meta = url.slice(5, comma);
  const payload = url.slice(comma + 1);
  if (!/;base64$/i.test(meta)) return new TextEncoder().encode(decodeURIComponent(payload));
  const bin = atob(payload.replace(/\s/g, ''));
  return Uint8Array.from(bin, ch => ch.charCodeAt(0));
}

function positiveOption(v: number | undefined, fallback: number, key: string): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !(v > 0)) throw new RangeError(`loadImage: ${key} must be a positive number, got ${String(v)}`);
  return v;
}

/** Bytes and the name errors use, for every encoded input form. */
async function encodedBytes(input: Exclude<ImageInput, RawImage>, opts: LoadOptions): Promise<[Uint8Array, string]> {
  const name = opts.name ?? 'input';
  if (typeof input === 'string' || input instanceof URL) {
    const href = typeof input === 'string' ? input : input.href;
    const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(href)?.[1]?.toLowerCase();   // 2+ letters: 'C:\x' stays a path
    if (scheme === 'http' || scheme === 'https') {
      return [await fetchBytes(href, positiveOption(opts.timeoutMs, DEFAULT_TIMEOUT_MS, 'timeoutMs'), positiveOption(opts.maxBytes, DEFAULT_MAX_BYTES, 'maxBytes')), href];
    }
    if (scheme === 'file') {
      const path = await filePathOf(typeof input === 'string' ? new URL(input) : input);
      return [await readFileBytes(path), href];
    }
    if (scheme === 'data') return [dataUrlBytes(href), opts.name ?? href.slice(0, 40)];
    if (scheme) throw new ImageInputError(href, `unsupported URL scheme '${scheme}:' (use a path, file:, http:, https: or data:)`);
    return [await readFileBytes(href), href];
  }
  if (input instanceof Uint8Array) return [input, name];
  if (ArrayBuffer.isView(input)) return [new Uint8Array(input.buffer, input.byteOffset, input.byteLength), name];
  if (input instanceof ArrayBuffer) return [new Uint8Array(input), name];
  if (Array.isArray(input)) return [bytesFromNumbers(input, name), name];
  if (typeof Blob !== 'undefined' && input instanceof Blob) return [new Uint8Array(await input.arrayBuffer()), name];
  throw new ImageInputError(name, `unsupported input type ${describe(input)} (expected a path, URL, bytes, number[], Blob or RawImage)`);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v !== 'object') return typeof v;
  return (v as object).constructor?.name ?? 'object';
}

type RawLike = Omit<RawImage, 'data'> & { data: Uint8ClampedArray };

/** transformers.js / canvas images hold Uint8ClampedArray pixels: view the same bytes as a Uint8Array. */
function withUint8Data(img: RawLike): RawImage {
  return { ...img, data: new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength) };
}

/** Load and decode an image from any supported input; errors are ImageInputErrors naming the input. */
export async function loadImage(input: ImageInput, opts: LoadOptions = {}): Promise<RawImage> {
  const maxPixels = resolveMaxPixels(opts.maxPixels);
  const name = opts.name ?? 'input';
  if (typeof input === 'object' && input !== null && 'data' in input && 'width' in input) {
    if ((input as { data: unknown }).data instanceof Uint8ClampedArray) input = withUint8Data(input as unknown as RawLike);
    if (!isRawImage(input)) {
      throw new ImageInputError(name, 'not a valid RawImage (needs data: Uint8Array, positive integer width and height, channels 1–4)');
    }
    return validateRawImage(input, name, maxPixels);
  }
  const [bytes, label] = await encodedBytes(input as Exclude<ImageInput, RawImage>, opts);
  return decodeImage(bytes, { maxPixels, name: label, work: opts.work });
}
