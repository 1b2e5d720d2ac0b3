// The worker thread of prepare-pool.ts: takes { id, bytes, job } messages, answers { id, image } (its pixels
// transferred, not copied) or { id, error } with the error's name and message, so bad input stays a 400.

import { parentPort } from 'node:worker_threads';
import { prepareImage, type PrepareJob } from './prepare.js';

export interface PrepareRequest { id: number; bytes: Uint8Array; job: PrepareJob }
export type PrepareReply =
  | { id: number; image: { data: Uint8Array; width: number; height: number; channels: 1 | 2 | 3 | 4 } }
  | { id: number; error: { name: string; message: string; input?: string } };

const port = parentPort;
if (port) {
  port.on('message', (msg: PrepareRequest) => {
    let reply: PrepareReply;
    try {
      const image = prepareImage(msg.bytes, msg.job);
      reply = { id: msg.id, image };
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      reply = { id: msg.id, error: { name: err.name, message: err.message, input: (err as { input?: string }).input } };
    }
    const data = 'image' in reply ? reply.image.data : undefined;
    const whole = data && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer;
    port.postMessage(reply, whole ? [data.buffer as ArrayBuffer] : []);
  });
}
