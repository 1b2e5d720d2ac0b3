// Worker threads for ocellus's GEMM (Node, threaded tfjs build only): each worker instantiates the same compiled
// module on the same shared heap and waits on a control block; a product's row ranges are handed out through it
// with Atomics (no messages on the hot path). The calling thread takes the first range itself, then waits.

import { MAX_THREADS, backendInfo, isNode } from '../backend.js';

export interface GemmCall { fn: 'dense' | 'conv'; args: number[] }

export interface GemmPool {
  /** Worker threads (the calling thread is one more). */
  readonly size: number;
  /**
   * Runs `calls[i]` on worker i while `own()` runs here; returns when all are done. A worker's trap is rethrown.
   */
  run(calls: readonly GemmCall[], own: () => void): void;
}

// Control block per worker (Int32): [0] sequence number of the posted call (−1: exit), [1] function (1 dense, 2 conv),
// [2] argument count, [3…3+MAX_ARGS) arguments, [ERR] 1 if the call trapped, [DONE] sequence number last finished.
const MAX_ARGS = 16, ERR = 3 + MAX_ARGS, DONE = ERR + 1, WORDS = DONE + 1;

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, ctrl } = workerData;
const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
const c = new Int32Array(ctrl);
let seq = 0;
for (;;) {
  Atomics.wait(c, 0, seq);
  seq = Atomics.load(c, 0);
  if (seq < 0) break;
  const args = Array.from(c.subarray(3, 3 + c[2]));
  let err = 0;
  try { (c[1] === 1 ? ex.dense : ex.conv)(...args); } catch (e) { err = 1; }
  c[${ERR}] = err;
  Atomics.store(c, ${DONE}, seq);
  Atomics.notify(c, ${DONE});
}
`;

interface Slot { ctrl: Int32Array; seq: number }

let pool: GemmPool | null | undefined;

/** The pool for this module and heap: as many workers as the tfjs backend has threads beyond the first. */
export function workerPool(module: WebAssembly.Module, memory: WebAssembly.Memory): GemmPool | null {
  if (pool !== undefined) return pool;
  pool = null;
  const size = Math.min(MAX_THREADS, backendInfo().threads) - 1;
  if (size < 1 || !isNode()) return pool;
  const wt = (process as unknown as { getBuiltinModule?: (id: string) => typeof import('node:worker_threads') }).getBuiltinModule?.('node:worker_threads');
  if (!wt) return pool;
  const slots: Slot[] = [];
  for (let i = 0; i < size; i++) {
    const ctrl = new Int32Array(new SharedArrayBuffer(WORDS * 4));
    const w = new wt.Worker(WORKER_SOURCE, { eval: true, workerData: { module, memory, ctrl: ctrl.buffer } });
    w.unref();
    w.on('error', e => console.warn(`ocellus: a GEMM worker failed: ${(e as Error).message}`));
    slots.push({ ctrl, seq: 0 });
  }
  pool = {
    size,
    run(calls, own) {
      const used = slots.slice(0, calls.length);
      used.forEach((s, i) => {
        const { fn, args } = calls[i]!;
        s.ctrl[1] = fn === 'dense' ? 1 : 2;
        s.ctrl[2] = args.length;
        s.ctrl.set(args, 3);
        s.seq++;
        Atomics.store(s.ctrl, 0, s.seq);
        Atomics.notify(s.ctrl, 0);
      });
      let error: unknown;
      try { own(); } catch (e) { error = e; }
      for (const s of used) {
        while (Atomics.load(s.ctrl, DONE) !== s.seq) Atomics.wait(s.ctrl, DONE, s.seq - 1);
        if (s.ctrl[ERR]) error ??= new Error('the WASM GEMM trapped in a worker thread');
      }
      if (error) throw error;
    },
  };
  return pool;
}
