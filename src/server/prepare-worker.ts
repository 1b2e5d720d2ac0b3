// The worker thread of prepare-pool.ts: takes { id, bytes, job } messages, answers { id, image, topK } (its pixels
// transferred, not copied) or { id, error } with the error's name, message and API status/code, so bad input stays a 4xx.

import { parentPort } from 'node:worker_threads';
import { prepareImage, type PrepareJob } from './prepare.js';

export interface PrepareRequest { id: number; bytes: Uint8Array; job: PrepareJob }
export type PrepareReply =
  | { id: number; image: { data: Uint8Array; width: number; height: number; channels: 1 | 2 | 3 | 4 }; topK?: number }
  | { id: number; error: { name: string; message: string; input?: string; status?: number; code?: number } };

const port = parentPort;
if (port) {
  port.on('message', (msg: PrepareRequest) => {
    let reply: PrepareReply;
    try {
      reply = { id: msg.id, ...prepareImage(msg.bytes, msg.job) };
    } catch (e) {
      const err = (e instanceof Error ? e : new Error(String(e))) as Error & { input?: string; status?: number; code?: number };
      reply = { id: msg.id, error: { name: err.name, message: err.message, input: err.input, status: err.status, code: typeof err.code === 'number' ? err.code : undefined } };
    }
    const data = 'image' in reply ? reply.image.data : undefined;
    const whole = data && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer;
    port.postMessage(reply, whole ? [data.buffer as ArrayBuffer] : []);
  });
}
