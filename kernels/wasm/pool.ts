// Worker threads for ocellus's GEMM (Node, threaded tfjs build only): each worker instantiates the same compiled
// module on the same shared heap and waits on a control block; a product's row ranges are handed out through it
// with Atomics (no messages on the hot path). The calling thread takes the first range itself, then waits.

import { envVar } from '../../src/env.js';
import { MAX_THREADS, backendInfo, isNode } from '../backend.js';

export interface GemmCall { fn: 'dense' | 'conv' | 'attention' | 'winograd'; args: number[] }
/** A call of depthwise-module.ts's kernels (kernels/wasm/depthwise.ts). */
export interface ConvCall { fn: 'depthwise' | 'grouped'; args: number[] }

/** Function numbers in the control block. */
const FNS: readonly (GemmCall | ConvCall)['fn'][] = ['dense', 'conv', 'attention', 'winograd', 'depthwise', 'grouped'];

export interface GemmPool {
  /** Worker threads (the calling thread is one more); 0 once a worker could not start. */
  readonly size: number;
  /**
   * Runs calls[0] on this thread and calls[i] on worker i − 1 at the same time; returns when all are done. A trap is
   * rethrown; a call a worker cannot take (it failed to start) runs here instead.
   */
  run<C extends GemmCall | ConvCall>(calls: readonly C[], invoke: (call: C) => void): void;
}

// Control block per worker (Int32): [0] sequence number of the posted call (−1: exit), [1] function (index in FNS),
// [2] argument count, [3…3+MAX_ARGS) arguments, [ERR] 1 if the call trapped, 2 if the worker has no instance (it
// failed to start), [DONE] sequence number last finished.
const MAX_ARGS = 16, ERR = 3 + MAX_ARGS, DONE = ERR + 1, WORDS = DONE + 1;
const TRAPPED = 1, NO_INSTANCE = 2;
/** How long a thread spins on the control word before it sleeps on it (worker: for the next call; caller: for a
 *  worker to finish), in ms: a futex wake costs 0.1–0.3 ms here, and a model's products come back to back (ResNet-50
 *  batch 1 has 53 convolutions of ~4 ms). OCELLUS_SPIN_MS overrides it (0: sleep at once). */
const SPIN_MS = spinMs(envVar('OCELLUS_SPIN_MS'));

function spinMs(v: string | undefined): number {
  const n = v === undefined || v === '' ? NaN : Number(v);
  return Number.isFinite(n) && n >= 0 ? n : 0.5;
}

/**
 * How many polls of a control word take SPIN_MS on this machine, measured once when the pool starts: the fastest of
 * repeated tries over 10 ms, by when V8 has optimized the loop (earlier tries ran 1.5–4× slower per poll here, and a
 * count taken from them would spin short). A spin counts polls and reads no clock: a clock read allocates in V8
 * (performance.now() and Date.now() each return a fresh heap number), and a worker that read the clock while spinning
 * touched new pages of its young generation run after run (with V8's semi-spaces pinned at 16 MiB, RSS crept
 * ~3 KB per ResNet-50 run).
 */
function spinPolls(): number {
  if (SPIN_MS === 0) return 0;
  const probe = new Int32Array(new SharedArrayBuffer(4)), n = 1 << 16, start = performance.now();
  let best = Infinity;
  for (let tries = 0; tries < 8 || performance.now() - start < 10; tries++) {
    const t0 = performance.now();
    for (let p = 0; p < n && Atomics.load(probe, 0) === 0; p++);
    best = Math.min(best, performance.now() - t0);
  }
  return Math.max(1, Math.round((SPIN_MS * n) / Math.max(best, 1e-3)));
}
/** A worker that takes longer than this over one call is taken for dead (no call here takes near that long). */
const ANSWER_TIMEOUT_MS = 60_000;

// The loop allocates nothing per call (a worker's young generation would otherwise grow under a long run): arguments
// go through one array (wasm exports ignore extra ones), and the spin counts polls (spinPolls) instead of reading a clock.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, ctrl, spinPolls } = workerData;
const c = new Int32Array(ctrl);
let fns;
try {
  const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
  fns = ${JSON.stringify(FNS)}.map(name => ex[name]);
} catch (e) { fns = undefined; }
const args = new Array(${MAX_ARGS}).fill(0);
let seq = 0;
for (;;) {
  for (let p = 0; p < spinPolls && Atomics.load(c, 0) === seq; p++);
  Atomics.wait(c, 0, seq);
  seq = Atomics.load(c, 0);
  if (seq < 0) break;
  let err = 0;
  if (!fns) err = ${NO_INSTANCE};
  else {
    for (let i = 0; i < ${MAX_ARGS}; i++) args[i] = c[3 + i];
    try { fns[c[1]].apply(undefined, args); } catch (e) { err = ${TRAPPED}; }
  }
  c[${ERR}] = err;
  Atomics.store(c, ${DONE}, seq);
  Atomics.notify(c, ${DONE});
}
`;

interface Slot { ctrl: Int32Array; seq: number }

let pool: { memory: WebAssembly.Memory; pool: GemmPool | null; stop(): void } | undefined;

/**
 * The pool for this heap: as many workers as the tfjs backend has threads beyond the first (none outside Node).
 * One per process; a new heap (a restarted backend) replaces it.
 */
export function workerPool(module: WebAssembly.Module, memory: WebAssembly.Memory): GemmPool | null {
  if (pool?.memory === memory) return pool.pool;
  pool?.stop();
  pool = { memory, ...startPool(module, memory) };
  return pool.pool;
}

function startPool(module: WebAssembly.Module, memory: WebAssembly.Memory): { pool: GemmPool | null; stop(): void } {
  const none = { pool: null, stop: () => undefined };
  const size = Math.min(MAX_THREADS, backendInfo().threads) - 1;
  if (size < 1 || !isNode()) return none;
  const wt = (process as unknown as { getBuiltinModule?: (id: string) => typeof import('node:worker_threads') }).getBuiltinModule?.('node:worker_threads');
  if (!wt) return none;
  const slots: Slot[] = [];
  const polls = spinPolls();
  for (let i = 0; i < size; i++) {
    const ctrl = new Int32Array(new SharedArrayBuffer(WORDS * 4));
    const w = new wt.Worker(WORKER_SOURCE, { eval: true, workerData: { module, memory, ctrl: ctrl.buffer, spinPolls: polls } });
    w.unref();
    w.on('error', e => console.warn(`ocellus: a GEMM worker failed: ${(e as Error).message}`));
    slots.push({ ctrl, seq: 0 });
  }
  const stop = () => {
    for (const s of slots) { Atomics.store(s.ctrl, 0, -1); Atomics.notify(s.ctrl, 0); }
  };
  let broken = false;
  return { stop, pool: {
    get size() { return broken ? 0 : size; },
    run(calls, invoke) {
      // Plain loops: this runs for every product (no per-call closures or copies).
      const posted = calls.length - 1;
      if (posted > slots.length) throw new Error(`${calls.length} GEMM calls for ${slots.length + 1} threads`);
      for (let i = 0; i < posted; i++) {
        const s = slots[i]!, { fn, args } = calls[i + 1]!;
        if (args.length > MAX_ARGS) throw new Error(`a GEMM call takes at most ${MAX_ARGS} arguments, got ${args.length}`);
        s.ctrl[1] = FNS.indexOf(fn);
        s.ctrl[2] = args.length;
        s.ctrl.set(args, 3);
        s.ctrl.fill(0, 3 + args.length, 3 + MAX_ARGS);
        s.seq++;
        Atomics.store(s.ctrl, 0, s.seq);
        Atomics.notify(s.ctrl, 0);
      }
      let error: unknown;
      try { invoke(calls[0]!); } catch (e) { error = e; }
      for (let i = 0; i < posted; i++) {
        const s = slots[i]!;
        for (let p = 0; p < polls && Atomics.load(s.ctrl, DONE) !== s.seq; p++);
        let answered = true, waited = 0;
        while (Atomics.load(s.ctrl, DONE) !== s.seq) {
          if (Atomics.wait(s.ctrl, DONE, s.seq - 1, 1000) === 'timed-out' && ++waited * 1000 > ANSWER_TIMEOUT_MS) {
            broken = true;
            error ??= new Error(`a GEMM worker thread did not answer within ${ANSWER_TIMEOUT_MS / 1000} s; running on one thread from now on`);
            answered = false;
            break;
          }
        }
        if (!answered) continue;
        if (s.ctrl[ERR] === NO_INSTANCE) {
          broken = true;
          try { invoke(calls[i + 1]!); } catch (e) { error ??= e; }
        } else if (s.ctrl[ERR] === TRAPPED) {
          error ??= new Error('the WASM GEMM trapped in a worker thread');
        }
      }
      if (error) throw error;
    },
  } };
}
