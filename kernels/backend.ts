// Starts tfjs-core on the WASM backend once per process. In Node it runs the threaded SIMD build on
// OCELLUS_THREADS threads (default min(cores, 4)): tfjs's own start-up hands Emscripten blob: URLs for the pthread
// workers, which Node's worker_threads refuse (ERR_WORKER_PATH), so we start the same Emscripten module with real
// file paths (startThreadedBackend). One thread, a failed start, browsers and Workers use tfjs's single-threaded SIMD build.
// When ocellus's own GEMM runs (kernels/wasm: convolutions and products, with its own worker pool on the shared heap),
// the XNNPACK pool gets one thread: what is left to XNNPACK is small, and its pool's threads spin for a while after
// each op, which took a core from the GEMM that came next (ViT-B/16: 885 → 812 ms of products per run).

import * as tf from '@tensorflow/tfjs-core';
import { BackendWasm, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { envVar, processEnv } from '../src/env.js';
import { hasRelaxedSimd, ownGemmWanted } from './wasm/features.js';
import { kernelStatus } from './wasm/status.js';

/** tfjs caps its XNNPACK thread pool at 8 (the Emscripten build pre-creates 8 pthread workers). */
export const MAX_THREADS = 8;
/** How long the threaded module may take to load its workers before we fall back to one thread. */
const THREADED_START_TIMEOUT_MS = 30_000;

export interface BackendInfo {
  backend: string;
  simd: boolean;
  /** Threads ocellus computes on (its GEMM pool, else XNNPACK's; 1 = single-threaded build). */
  threads: number;
  /** Threads tfjs's XNNPACK pool runs on. */
  xnnpackThreads: number;
  /** Who runs convolutions, products, attention and LayerNorm: ocellus's WASM kernels (relaxed SIMD) or tfjs's.
   *  Decided when the first session binds them. */
  kernels: 'ocellus-wasm' | 'tfjs';
  /** Why tfjs's kernels run, when they do. */
  kernelsReason?: string;
  /** Weights ocellus's kernels keep packed in the WASM heap (blocks of their own, not tensors: tf.memory() does not
   *  count them), when any are. */
  packedWeights?: { count: number; MiB: number };
  /** Which Emscripten build runs: 'threaded-simd', 'simd' (tfjs's own start-up) or 'none' (not the WASM backend, or
   *  not started yet: then backend is 'none'). */
  build: 'threaded-simd' | 'simd' | 'none';
  /** Why a threaded start was asked for but not used (the error), if so. */
  fallbackReason?: string;
}

let ready: Promise<void> | undefined;
let threaded: { threads: number; xnnpack: number } | undefined;
let fallbackReason: string | undefined;
let started = false;

export function isNode(): boolean {
  return typeof process !== 'undefined' && !!process.versions?.node;
}

/**
 * Threads asked for: `OCELLUS_THREADS` if set (1…8), else min(cores, 4) in Node and 1 elsewhere (browsers and
 * Workers need cross-origin isolation for SharedArrayBuffer; the edge bundle ships the single-threaded build).
 */
export function requestedThreads(env: Record<string, string | undefined> = isNode() ? processEnv() : {}, cores = nodeCores()): number {
  const raw = env.OCELLUS_THREADS;
  if (raw !== undefined && raw !== '') {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > MAX_THREADS) throw new RangeError(`OCELLUS_THREADS must be an integer from 1 to ${MAX_THREADS}, got '${raw}'`);
    return n;
  }
  return isNode() ? Math.max(1, Math.min(cores, 4)) : 1;
}

function nodeCores(): number {
  if (!isNode()) return 1;
  // `os` is only reachable through the process object here without a static node: import (the edge bundle).
  const os = (process as unknown as { getBuiltinModule?: (id: string) => typeof import('node:os') }).getBuiltinModule?.('node:os');
  return os ? (os.availableParallelism?.() ?? os.cpus().length) : 1;
}

/** Resolves when the WASM backend is active. `OCELLUS_BACKEND=<name>` picks another backend already registered with tfjs-core (debugging). */
export function ensureBackend(): Promise<void> {
  ready ??= (async () => {
    const wanted = (isNode() && envVar('OCELLUS_BACKEND')) || 'wasm';
    if (isNode()) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    if (wanted === 'wasm' && isNode()) useThreadedFactory(requestedThreads());
    const ok = await tf.setBackend(wanted);
    if (!ok) throw new Error(`ocellus: could not start the tfjs '${wanted}' backend`);
    await tf.ready();
    started = true;
  })();
  return ready;
}

export function backendInfo(): BackendInfo {
  // Before ensureBackend() has finished, asking tfjs for its backend would start one (or throw): report none yet.
  if (!started) return { backend: 'none', simd: false, threads: 1, xnnpackThreads: 1, build: 'none', kernels: 'tfjs', kernelsReason: 'the backend has not started yet' };
  const backend = tf.getBackend();
  const wasm = backend === 'wasm';
  return {
    backend,
    simd: wasm && (threaded !== undefined || !!tf.env().getBool('WASM_HAS_SIMD_SUPPORT')),
    threads: threaded?.threads ?? 1,
    xnnpackThreads: threaded?.xnnpack ?? 1,
    kernels: kernelStatus.active ? 'ocellus-wasm' : 'tfjs',
    build: !wasm ? 'none' : threaded ? 'threaded-simd' : 'simd',
    ...(fallbackReason ? { fallbackReason } : {}),
    ...(kernelStatus.packed.count ? { packedWeights: { count: kernelStatus.packed.count, MiB: +(kernelStatus.packed.bytes / 2 ** 20).toFixed(1) } } : {}),
    ...(kernelStatus.active ? {} : { kernelsReason: kernelStatus.reason ?? (!wasm ? 'not the WASM backend' : !hasRelaxedSimd() ? 'no relaxed SIMD in this engine' : !ownGemmWanted() ? 'switched off (OCELLUS_OWN_GEMM=0)' : 'no session has run yet') }),
  };
}

/**
 * Replaces the registered 'wasm' factory with one that starts the threaded build on `threads` threads and, if
 * that fails, logs why once and returns tfjs's own (single-threaded SIMD) backend. Leaves an already started
 * backend alone.
 */
function useThreadedFactory(threads: number): void {
  if (threads <= 1) return;
  const engine = tf.engine() as unknown as { registry: Record<string, unknown> };
  if (engine.registry.wasm) return;   // someone started the backend before us: keep it as it is
  const stock = tf.findBackendFactory('wasm');
  if (!stock) return;
  tf.removeBackend('wasm');
  tf.registerBackend('wasm', async () => {
    try {
      const xnnpack = ownGemmWanted() ? 1 : threads;
      const backend = await startThreadedBackend(threads, xnnpack);
      threaded = { threads, xnnpack };
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
      return backend;
    } catch (e) {
      fallbackReason = (e as Error).message;
      console.warn(`ocellus: the threaded WASM backend did not start (${fallbackReason}); running on one thread`);
      return stock();
    }
  }, 2);
}

interface EmscriptenWorker { terminate(): void; unref(): void }
interface ThreadedModule {
  cwrap(name: string, ret: string | null, args: string[]): (...a: number[]) => number;
  PThread: { unusedWorkers: EmscriptenWorker[]; runningWorkers: EmscriptenWorker[]; terminateAllThreads(): void };
  tfjs?: unknown;
}
type ModuleConfig = Record<string, unknown> & { PThread?: ThreadedModule['PThread'] };

/**
 * Starts tfjs-backend-wasm's threaded SIMD Emscripten module from its files on disk (its heap is shared memory)
 * and wraps it in BackendWasm, with an XNNPACK pool of `xnnpack` threads.
 */
async function startThreadedBackend(threads: number, xnnpack: number): Promise<tf.KernelBackend> {
  const { createRequire } = await import('node:module');
  const fs = await import('node:fs');
  const path = await import('node:path');
  const require = createRequire(import.meta.url);
  const glue = require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js');
  const dir = path.dirname(glue);
  const wasmFile = path.join(dir, 'tfjs-backend-wasm-threaded-simd.wasm');
  const workerFile = await writeWorkerShim(glue, path.join(dir, 'tfjs-backend-wasm-threaded-simd.worker.js'));
  const factory = require(glue) as (config: ModuleConfig) => Promise<ThreadedModule>;

  const config: ModuleConfig = {};
  const module = await new Promise<ThreadedModule>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`its pthread workers did not load within ${THREADED_START_TIMEOUT_MS / 1000} s`)), THREADED_START_TIMEOUT_MS);
    const fail = (e: unknown) => { clearTimeout(timer); reject(e instanceof Error ? e : new Error(String(e))); };
    Object.assign(config, {
      // Workers start from a real file (Node's worker_threads refuse blob: URLs); .wasm is read below.
      locateFile: (file: string, prefix: string) => (file.endsWith('.worker.js') ? workerFile : file.endsWith('.wasm') ? wasmFile : prefix + file),
      mainScriptUrlOrBlob: glue,
      // tfjs sizes its pool as min(asked, logical cores / 2) (it assumes 2 hyper-threads per core): report 2 × threads
      // so the pool gets exactly the threads asked for.
      instantiateWasm: (info: WebAssembly.Imports & { env: WebAssembly.ModuleImports }, receive: (i: WebAssembly.Instance, m: WebAssembly.Module) => void) => {
        const imports = { ...info, env: { ...info.env, emscripten_num_logical_cores: () => 2 * threads } };
        config.wasmMemory = info.env.memory;   // the shared heap, for ocellus's own kernels (kernels/wasm/gemm.ts)
        WebAssembly.instantiate(fs.readFileSync(wasmFile), imports).then(r => receive(r.instance, r.module), fail);
        return {};
      },
      onAbort: (what: unknown) => fail(new Error(`Emscripten aborted: ${String(what)}`)),
    });
    withStandInWorkers(require, xnnpack - 1, () => factory(config).then(m => { clearTimeout(timer); resolve(m); }, fail));
  }).catch(e => {
    config.PThread?.terminateAllThreads();
    throw e;
  });
  // The stand-ins answered 'load' and are never run: drop them so the pool takes the real (loaded) workers.
  const pool = module.PThread.unusedWorkers;
  pool.splice(0, pool.length, ...pool.filter(w => !(w instanceof StandInWorker)));

  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  setThreadsCount(xnnpack);
  const backend = new BackendWasm(module as unknown as ConstructorParameters<typeof BackendWasm>[0]);
  const got = (module.tfjs as { getThreadsCount(): number }).getThreadsCount();
  if (got !== xnnpack) {
    backend.dispose();
    module.PThread.terminateAllThreads();
    throw new Error(`the XNNPACK pool has ${got} thread(s), ${xnnpack} asked for`);
  }
  // The pool's threads are running now; any worker left over would only hold memory. The running ones must not keep
  // the process alive (they block on futexes between calls, waiting for work).
  for (const w of module.PThread.unusedWorkers.splice(0)) w.terminate();
  for (const w of module.PThread.runningWorkers) w.unref();
  return backend;
}

/**
 * Emscripten pre-creates 8 pthread workers (a V8 isolate each, ~17 MiB of RSS) and waits until all have loaded; the
 * XNNPACK pool then uses threads − 1 of them. While the factory starts, `new Worker` (Emscripten's global.Worker,
 * taken from worker_threads) makes `real` real workers and stand-ins after that, which answer 'load' at once and are
 * removed from the pool before it is created. Restored as soon as the factory's synchronous start returns.
 */
function withStandInWorkers(require: NodeJS.Require, real: number, start: () => void): void {
  const wt = require('node:worker_threads') as { Worker: new (file: string) => unknown };
  const Real = wt.Worker;
  let left = real;
  wt.Worker = function PoolWorker(file: string) {
    return left-- > 0 ? new Real(file) : new StandInWorker();
  } as unknown as typeof wt.Worker;
  try {
    start();
  } finally {
    wt.Worker = Real;
    (globalThis as { Worker?: unknown }).Worker = Real;   // later pthread_create calls get real workers
  }
}

/** The part of a Node Worker Emscripten uses, for a pool slot that is never run. */
class StandInWorker implements EmscriptenWorker {
  private readonly listeners = new Map<string, ((data: unknown) => void)[]>();
  on(event: string, fn: (data: unknown) => void): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), fn]);
    return this;
  }
  postMessage(msg: { cmd?: string }): void {
    if (msg?.cmd === 'load') setImmediate(() => this.listeners.get('message')?.forEach(fn => fn({ cmd: 'loaded' })));
  }
  terminate(): void {}
  ref(): void {}
  unref(): void {}
}

/**
 * The pthread worker script, in a fresh private temp folder removed at exit. It runs the package's own worker
 * code, except that loading the main script (Emscripten's importScripts(url) of a blob:) becomes a require of the
 * glue file.
 */
async function writeWorkerShim(glue: string, stockWorker: string): Promise<string> {
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-wasm-'));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'pthread-worker.cjs');
  fs.writeFileSync(file, `'use strict';
// ocellus: tfjs-backend-wasm's pthread worker, started from a file (see kernels/backend.ts).
const factory = require(${JSON.stringify(glue)});
const { wasmWorkerContents } = require(${JSON.stringify(stockWorker)});
// The worker code sits in a template literal whose \\n escapes became newlines; tfjs escapes them back the same way.
eval(wasmWorkerContents.replace(/\\n/g, '\\\\n'));
globalThis.importScripts = () => { globalThis.WasmBackendModuleThreadedSimd = factory; };
`);
  return file;
}
