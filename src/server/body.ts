// Request bodies: read with a byte limit enforced while streaming (a declared Content-Length over the limit is
// refused before reading; a body that grows past it is cancelled mid-stream, never buffered whole), then turned
// into image bytes from either form the APIs accept: raw bytes (any content type) or JSON.

import { ApiError, badRequest, CODES } from './errors.js';

export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${+(n / 1024 / 1024).toFixed(1)} MB` : `${n} bytes`;
}

export function tooLarge(limit: number, what: string): ApiError {
  return new ApiError(413, CODES.requestTooLarge, `Request is too large: ${what}, over the ${formatBytes(limit)} limit`, { Connection: 'close' });
}

/** The whole body of `req`, refusing more than `limit` bytes; an empty body is a 400. */
export async function readBody(req: Request, limit: number): Promise<Uint8Array> {
  const declared = req.headers.get('content-length');
  if (declared !== null && Number(declared) > limit) {
    await req.body?.cancel().catch(() => {});
    throw tooLarge(limit, `Content-Length is ${formatBytes(Number(declared))}`);
  }
  const parts: Uint8Array[] = [];
  let total = 0;
  if (req.body) {
    const reader = req.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
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

export function parseJson(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw badRequest('Request body is not valid JSON (not UTF-8 text)');
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`Request body is not valid JSON (${(e as Error).message})`);
  }
}

const URL_LIKE = /^\s*[a-z][a-z0-9+.-]*:/i;

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
        throw badRequest(`${field}[${i}] is ${JSON.stringify(v) ?? String(v)}; every element must be an integer 0–255 (a byte of the encoded image)`, CODES.invalidData);
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
    throw badRequest(`parameters.top_k must be a positive integer, got ${JSON.stringify(topK)}`);
  }
  return { image: imageBytesFromJson(inputs, 'inputs'), topK: topK as number | undefined };
}
