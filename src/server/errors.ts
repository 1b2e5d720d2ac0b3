// API errors: one class carrying the HTTP status and a Workers AI-style numeric code, the Cloudflare envelope
// they are answered in, and the one place that decides which thrown errors are the client's fault (4xx, with
// their message) and which are ours (500, with a fixed message: no internals leak).

import { ImageInputError } from '../image/errors.js';

/** Error codes, after the Workers AI and Cloudflare API tables where one fits. */
export const CODES = {
  incompleteRequest: 3003,   // missing body, unreadable JSON, wrong fields
  invalidData: 5004,         // the bytes are not an image, byte values out of range, URLs
  noSuchModel: 5007,
  requestTooLarge: 3006,
  timeout: 3007,             // Workers AI's "Request timeout", answered with 408 as Workers AI does
  outOfCapacity: 3040,
  internal: 3001,
  auth: 10000,               // Cloudflare API: "Authentication error"
  noRoute: 7000,             // Cloudflare API: "No route for that URI"
  methodNotAllowed: 7001,
} as const;

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(readonly status: number, readonly code: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

export const badRequest = (message: string, code: number = CODES.incompleteRequest) => new ApiError(400, code, message);
export const noSuchModel = (model: string, served: readonly string[]) =>
  new ApiError(404, CODES.noSuchModel, `No such model ${model.length > 120 ? `${model.slice(0, 120)}…` : model}; this server runs ${served.join(', ') || 'no models'}`);

/** The request outlived the server's per-request deadline (Workers AI answers 3007 with 408 the same way). */
export const requestTimeout = (ms: number) =>
  new ApiError(408, CODES.timeout, `Request timeout: no answer within the server's ${+(ms / 1000).toFixed(3)} s deadline; retry, or send a smaller image`);

export interface Envelope<T> {
  result: T | null;
  success: boolean;
  errors: { code: number; message: string }[];
  messages: string[];
}

export function okEnvelope<T>(result: T): Envelope<T> {
  return { result, success: true, errors: [], messages: [] };
}

export function errorEnvelope(e: ApiError): Envelope<never> {
  return { result: null, success: false, errors: [{ code: e.code, message: e.message }], messages: [] };
}

/**
 * Maps anything thrown while serving to an ApiError. Bad input is recognised by class (ImageInputError from
 * the image layer, and by name where the class may come from another copy of the module, as in bundles).
 * Everything else is a 500 whose message says nothing about the cause; `log` receives the original.
 */
export function toApiError(e: unknown, log?: (e: unknown) => void): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof ImageInputError || (e instanceof Error && e.name === 'ImageInputError')) {
    return new ApiError(400, CODES.invalidData, (e as Error).message);
  }
  log?.(e);
  return new ApiError(500, CODES.internal, 'Internal server error');
}
