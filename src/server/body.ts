// Request bodies: read with a byte limit enforced while streaming (a declared Content-Length over the limit is
// refused before reading; a body that grows past it is cancelled mid-stream, never buffered whole), then turned
// into image bytes from either form the APIs accept: raw bytes (any content type) or JSON. Hostile bodies get
// short answers: JSON nested deeper than MAX_JSON_DEPTH is refused before parsing, and messages quote at most a
// short prefix of a bad value.

import { ApiError, badRequest, CODES } from './errors.js';

export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${+(n / 1024 / 1024).toFixed(1)} MB` : `${n} bytes`;
}

export function tooLarge(limit: number, what: string): ApiError {
  return new ApiError(413, CODES.requestTooLarge, `Request is too large: ${what}, over the ${formatBytes(limit)} limit`, { Connection: 'close' });
}

/** The error for a body that stopped arriving: the client went away (nobody reads the answer; it is not logged). */
export const bodyCutOff = () => badRequest('The request body ended early: the client disconnected');
/** The error a request is given up with when its client disconnects before the answer (nobody reads it). */
export const clientGone = () => badRequest('The client disconnected before the answer');

/**
 * The whole body of `req`, refusing more than `limit` bytes; an empty body is a 400. When `signal` aborts, the
 * read stops and rejects with the signal's reason.
 */
export async function readBody(req: Request, limit: number, signal?: AbortSignal): Promise<Uint8Array> {
  const declared = req.headers.get('content-length');
  if (declared !== null && Number(declared) > limit) {
    await req.body?.cancel().catch(() => {});
    throw tooLarge(limit, `Content-Length is ${formatBytes(Number(declared))}`);
  }
  const parts: Uint8Array[] = [];
  let total = 0;
  if (req.body) {
    const reader = req.body.getReader();
    const aborted = signal && new Promise<never>((_, reject) => {
      const stop = () => reject(signal.reason);
      if (signal.aborted) stop();
      else signal.addEventListener('abort', stop, { once: true });
    });
    aborted?.catch(() => {});
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await (aborted ? Promise.race([reader.read(), aborted]) : reader.read());
      } catch (e) {
        await reader.cancel().catch(() => {});
        // Only the client feeds the body stream: its errors mean the connection broke, not a server fault.
        throw signal?.aborted && e === signal.reason ? e : bodyCutOff();
      }
      const { done, value } = chunk;
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        await reader.cancel().catch(() => {});
        throw tooLarge(limit, `the body passed ${formatBytes(limit)}`);
      }
      parts.push(value);
    }
  }
  if (total === 0) throw badRequest('Request is missing a body: send the image bytes, or JSON { "image": [bytes…] }');
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** True when the body is JSON: a JSON content type, or a first non-blank byte of '{' (no image format starts so). */
export function isJsonBody(bytes: Uint8Array, contentType: string | null | undefined): boolean {
  if (contentType && /[/+]json\b/i.test(contentType)) return true;
  let i = 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d)) i++;
  return bytes[i] === 0x7b;
}

/** Deepest JSON nesting accepted: the APIs' bodies need 2 ({ "parameters": { "top_k" } }). */
export const MAX_JSON_DEPTH = 16;

/** Refuses JSON nested deeper than `max` arrays/objects, by one pass over the bytes (strings skipped). */
export function checkJsonDepth(bytes: Uint8Array, max = MAX_JSON_DEPTH): void {
  let depth = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0x22) {   // a string: skip to its closing quote
      for (i++; i < bytes.length && bytes[i] !== 0x22; i++) if (bytes[i] === 0x5c) i++;
    } else if (b === 0x5b || b === 0x7b) {
      if (++depth > max) throw badRequest(`JSON body is nested deeper than ${max} levels; the API takes { "image": [bytes…] }`);
    } else if (b === 0x5d || b === 0x7d) {
      depth--;
    }
  }
}

export function parseJson(bytes: Uint8Array): unknown {
  checkJsonDepth(bytes);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw badRequest('Request body is not valid JSON (not UTF-8 text)');
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`Request body is not valid JSON (${clip((e as Error).message, 160)})`);
  }
}

const URL_LIKE = /^\s*[a-z][a-z0-9+.-]*:/i;

/** At most `n` characters of `s`, with an ellipsis when cut. */
export function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

/** A JSON value shown in an error message: numbers, booleans and null as they are, strings cut to a short prefix,
 *  arrays and objects by kind (never formatted whole: one could be megabytes, or nested past the stack). */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return v.length > 24 ? `${JSON.stringify(v.slice(0, 24)).slice(0, -1)}…" (${v.length} characters)` : JSON.stringify(v);
  if (Array.isArray(v)) return `an array (${v.length} elements)`;
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return typeof v;
}

/**
 * The image bytes of a JSON value: an array of integers 0–255 (the Workers AI form; the first bad element is
 * named), or a base64 string. A URL is refused: the server never fetches what a request points at.
 */
export function imageBytesFromJson(value: unknown, field: string): Uint8Array {
  if (Array.isArray(value)) {
    const out = new Uint8Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 255) {
        throw badRequest(`${field}[${i}] is ${describeValue(v)}; every element must be an integer 0–255 (a byte of the encoded image)`, CODES.invalidData);
      }
      out[i] = v;
    }
    if (out.length === 0) throw badRequest(`${field} is an empty array`, CODES.invalidData);
    return out;
  }
  if (typeof value === 'string') {
    if (URL_LIKE.test(value) && !value.startsWith('data:')) {
      throw badRequest(`${field} is a URL; this server does not fetch URLs: send the image bytes`, CODES.invalidData);
    }
    return fromBase64(value.startsWith('data:') ? value.slice(value.indexOf(',') + 1) : value, field);
  }
  if (value === undefined) throw badRequest(`JSON body has no "${field}" field`);
  throw badRequest(`${field} must be an array of byte values (0–255) or a base64 string, got ${value === null ? 'null' : typeof value}`, CODES.invalidData);
}

function fromBase64(s: string, field: string): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(clean) || clean.length === 0) {
    throw badRequest(`${field} is a string but not base64 image data`, CODES.invalidData);
  }
  const bin = atob(clean.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(bin, ch => ch.charCodeAt(0));
}

/** Workers AI body: raw image bytes, or JSON { "image": number[] | base64 }. */
export function workersAiImage(bytes: Uint8Array, contentType: string | null | undefined): Uint8Array {
  if (!isJsonBody(bytes, contentType)) return bytes;
  const json = parseJson(bytes);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw badRequest('JSON body must be an object: { "image": [bytes…] }');
  return imageBytesFromJson((json as { image?: unknown }).image, 'image');
}

/** Hugging Face Inference API body: raw image bytes, or JSON { "inputs": base64, "parameters": { "top_k" } }. */
export function huggingFaceImage(bytes: Uint8Array, contentType: string | null | undefined): { image: Uint8Array; topK?: number } {
  if (!isJsonBody(bytes, contentType)) return { image: bytes };
  const json = parseJson(bytes);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw badRequest('JSON body must be an object: { "inputs": "<base64>" }');
  const { inputs, parameters } = json as { inputs?: unknown; parameters?: { top_k?: unknown } };
  const topK = parameters?.top_k;
  if (topK !== undefined && (typeof topK !== 'number' || !Number.isInteger(topK) || topK < 1)) {
    throw badRequest(`parameters.top_k must be a positive integer, got ${describeValue(topK)}`);
  }
  return { image: imageBytesFromJson(inputs, 'inputs'), topK: topK as number | undefined };
}
