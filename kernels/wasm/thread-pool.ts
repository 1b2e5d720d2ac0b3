// Worker threads for ocellus's GEMM (Node, threaded tfjs build only): each worker instantiates the same compiled
// modules on the same shared heap and waits on a control block; a product's row ranges are handed out through it
// with Atomics (no messages on the hot path). The calling thread takes the first range itself, then waits.
// Two module slots: the float kernels (module.ts, given when the pool starts) and the integer kernels
// (int8-module.ts, added by int8.ts when it binds to the heap): a module added later goes to the workers over a
// MessagePort, and a worker takes it from there (receiveMessageOnPort, synchronously) at its first call into it.

import { envVar } from '../../src/env.js';
import { MAX_THREADS, backendInfo, isNode } from '../backend.js';

export interface GemmCall { fn: 'dense' | 'conv' | 'attention' | 'winograd'; args: number[] }
/** A call of depthwise-module.ts's kernels (kernels/wasm/depthwise.ts). */
export interface ConvCall { fn: 'depthwise' | 'grouped'; args: number[] }
/** A call of int8-module.ts's kernels (kernels/wasm/int8.ts). */
export interface Int8Call { fn: 'qgemm' | 'qdepthwise'; args: number[] }
type AnyCall = GemmCall | ConvCall | Int8Call;

/** Function numbers in the control block, and the module slot each one is in (0: float, 1: int8). */
const FNS: readonly AnyCall['fn'][] = ['dense', 'conv', 'attention', 'winograd', 'depthwise', 'grouped', 'qgemm', 'qdepthwise'];
const SLOT_OF: readonly number[] = [0, 0, 0, 0, 0, 0, 1, 1];
const SLOTS = 2;

export interface GemmPool {
  /** Worker threads (the calling thread is one more); 0 once a worker could not start. */
  readonly size: number;
  /**
   * Runs calls[0] on this thread and calls[i] on worker i − 1 at the same time; returns when all are done. A trap is
   * rethrown; a call a worker cannot take (it failed to start) runs here instead.
   */
  run<C extends AnyCall>(calls: readonly C[], invoke: (call: C) => void): void;
  /** Counts run() calls that used workers (tests check threaded products took the pool). */
  readonly runs?: number;
  /** Puts an integer kernels' module into the workers' int8 slot when another is there (a no-op when it is). */
  useInt8?(module: WebAssembly.Module): void;
  /** The module the workers' int8 slot holds (tests). */
  readonly int8Module?: WebAssembly.Module;
}

// Control block per worker (Int32): [0] sequence number of the posted call (−1: exit), [1] function (index in FNS),
// [2] argument count, [3…3+MAX_ARGS) arguments, [ERR] 1 if the call trapped, 2 if the worker has no instance (it
// failed to start), [DONE] sequence number last finished, [GEN + slot] the generation of the module the caller has
// in that slot (the worker reads its port until it has the same).
const MAX_ARGS = 16, ERR = 3 + MAX_ARGS, DONE = ERR + 1, GEN = DONE + 1, WORDS = GEN + SLOTS;
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
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const { module, memory, ctrl, spinPolls, port } = workerData;
const c = new Int32Array(ctrl);
const NAMES = ${JSON.stringify(FNS)}, SLOT_OF = ${JSON.stringify(SLOT_OF)};
const fns = new Array(NAMES.length).fill(undefined), gens = new Array(${SLOTS}).fill(0);
function load(slot, mod, gen) {
  let ex;
  try { ex = new WebAssembly.Instance(mod, { env: { memory } }).exports; } catch (e) { ex = undefined; }
  for (let f = 0; f < NAMES.length; f++) if (SLOT_OF[f] === slot) fns[f] = ex && ex[NAMES[f]];
  gens[slot] = gen;
}
if (module) load(0, module, 1);
const args = new Array(${MAX_ARGS}).fill(0);
let seq = 0;
for (;;) {
  for (let p = 0; p < spinPolls && Atomics.load(c, 0) === seq; p++);
  Atomics.wait(c, 0, seq);
  seq = Atomics.load(c, 0);
  if (seq < 0) break;
  let err = 0;
  const f = c[1], slot = SLOT_OF[f];
  while (gens[slot] !== c[${GEN} + slot]) {
    const m = receiveMessageOnPort(port);
    if (!m) break;
    load(m.message.slot, m.message.module, m.message.gen);
  }
  if (!fns[f] || gens[slot] !== c[${GEN} + slot]) err = ${NO_INSTANCE};
  else {
    for (let i = 0; i < ${MAX_ARGS}; i++) args[i] = c[3 + i];
    try { fns[f].apply(undefined, args); } catch (e) { err = ${TRAPPED}; }
  }
  c[${ERR}] = err;
  Atomics.store(c, ${DONE}, seq);
  Atomics.notify(c, ${DONE});
}
`;

interface Slot { ctrl: Int32Array; seq: number; port: import('node:worker_threads').MessagePort }

interface Started { pool: GemmPool | null; stop(): void; load(slot: number, module: WebAssembly.Module): void }
let pool: ({ memory: WebAssembly.Memory } & Started) | undefined;

/**
 * The pool for this heap, with the float kernels' module: as many workers as the tfjs backend has threads beyond
 * the first (none outside Node). One per process; a new heap (a restarted backend) replaces it.
 */
export function workerPool(module: WebAssembly.Module, memory: WebAssembly.Memory): GemmPool | null {
  return poolWith(0, module, memory);
}

/** The same pool with the integer kernels' module (int8-module.ts) in its second slot; a later module replaces it. */
export function int8WorkerPool(module: WebAssembly.Module, memory: WebAssembly.Memory): GemmPool | null {
  return poolWith(1, module, memory);
}

function poolWith(slot: number, module: WebAssembly.Module, memory: WebAssembly.Memory): GemmPool | null {
  if (pool?.memory !== memory) {
    pool?.stop();
    pool = { memory, ...startPool(slot === 0 ? module : undefined, memory) };
  }
  pool.load(slot, module);
  return pool.pool;
}

function startPool(module: WebAssembly.Module | undefined, memory: WebAssembly.Memory): Started {
  const none = { pool: null, stop: () => undefined, load: () => undefined };
  const size = Math.min(MAX_THREADS, backendInfo().threads) - 1;
  if (size < 1 || !isNode()) return none;
  const wt = (process as unknown as { getBuiltinModule?: (id: string) => typeof import('node:worker_threads') }).getBuiltinModule?.('node:worker_threads');
  if (!wt) return none;
  const slots: Slot[] = [];
  const polls = spinPolls();
  for (let i = 0; i < size; i++) {
    const ctrl = new Int32Array(new SharedArrayBuffer(WORDS * 4)), channel = new wt.MessageChannel();
    const w = new wt.Worker(WORKER_SOURCE, {
      eval: true, workerData: { module, memory, ctrl: ctrl.buffer, spinPolls: polls, port: channel.port2 }, transferList: [channel.port2],
    });
    w.unref();
    channel.port1.unref();
    w.on('error', e => console.warn(`ocellus: a GEMM worker failed: ${(e as Error).message}`));
    slots.push({ ctrl, seq: 0, port: channel.port1 });
  }
  const stop = () => {
    for (const s of slots) { Atomics.store(s.ctrl, 0, -1); Atomics.notify(s.ctrl, 0); s.port.close(); }
  };
  // The module each slot holds and its generation (the workers started with generation 1 of slot 0 when given).
  const modules: (WebAssembly.Module | undefined)[] = [module, undefined], gens = [module ? 1 : 0, 0];
  for (const s of slots) s.ctrl[GEN] = gens[0]!;
  const load = (slot: number, m: WebAssembly.Module) => {
    if (modules[slot] === m) return;
    modules[slot] = m;
    const gen = ++gens[slot]!;
    for (const s of slots) { s.port.postMessage({ slot, module: m, gen }); s.ctrl[GEN + slot] = gen; }
  };
  let broken = false, runs = 0;
  return { stop, load, pool: {
    get size() { return broken ? 0 : size; },
    get runs() { return runs; },
    useInt8: m => load(1, m),
    get int8Module() { return modules[1]; },
    run(calls, invoke) {
      // Plain loops: this runs for every product (no per-call closures or copies).
      const posted = calls.length - 1;
      if (posted > 0) runs++;
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
