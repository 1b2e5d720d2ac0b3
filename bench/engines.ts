// The three engines behind one small interface, each created inside its own child process: ocellus (our session
// on the tfjs WASM backend, threads via OCELLUS_THREADS), onnxruntime-web (WASM, ort.env.wasm.numThreads) and
// onnxruntime-node (native CPU, intraOpNumThreads). run() takes a float32 NCHW batch and returns the first output.

import type { EngineKind } from './options.js';
import type { ProfileRecorder } from './profile.js';

export interface Engine {
  /** Facts for the report: builds, thread pools, versions. */
  info(): Record<string, unknown>;
  run(data: Float32Array, dims: readonly number[]): Promise<{ data: Float32Array; dims: readonly number[] }>;
  /** One run with per-node timing (ocellus only). */
  runProfiled?(data: Float32Array, dims: readonly number[], rec: ProfileRecorder): void;
  /** Live tensors on the compute backend (ocellus only; for the soak). */
  liveTensors?(): number;
  dispose(): Promise<void>;
}

export async function createEngine(kind: EngineKind, threads: number, modelPath: string): Promise<Engine> {
  switch (kind) {
    case 'ocellus': return createOcellus(threads, modelPath);
    case 'ort-web': return createOrtWeb(threads, modelPath);
    case 'ort-node': return createOrtNode(threads, modelPath);
  }
}

async function createOcellus(threads: number, modelPath: string): Promise<Engine> {
  process.env.OCELLUS_THREADS = String(threads);   // read when the backend starts, on the first session
  const tf = await import('@tensorflow/tfjs-core');
  const { InferenceSession } = await import('../src/runtime/session.js');
  const { Tensor } = await import('../src/runtime/tensor.js');
  const { backendInfo } = await import('../kernels/backend.js');
  const session = await InferenceSession.create(modelPath);
  const input = session.inputNames[0]!;
  const output = session.outputNames[0]!;
  const stepKeys = new Map<object, string>();
  return {
    info: () => ({ ...backendInfo(), passes: session.passReport.filter(r => r.changes > 0).map(r => `${r.pass}:${r.changes}`).join(' ') }),
    async run(data, dims) {
      const out = session.runSync({ [input]: new Tensor('float32', data, dims) })[output]!;
      return { data: out.data as Float32Array, dims: out.dims };
    },
    runProfiled(data, dims, rec) {
      rec.startRun();
      session.runSync({ [input]: new Tensor('float32', data, dims) }, undefined, {
        afterStep(step, outs, ms) {
          let key = stepKeys.get(step);
          if (!key) stepKeys.set(step, (key = String(stepKeys.size)));
          rec.record(key, step.node.name, step.node.opType, ms, outs[0]?.shape ?? []);
        },
      });
    },
    liveTensors: () => tf.memory().numTensors,
    dispose: () => session.release(),
  };
}

interface OrtLike {
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => unknown;
  InferenceSession: { create(path: string, opts?: Record<string, unknown>): Promise<OrtSession> };
  env: { versions?: Record<string, string>; wasm?: { numThreads?: number; simd?: boolean; proxy?: boolean } };
}
interface OrtSession {
  inputNames: readonly string[];
  outputNames: readonly string[];
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown; dims: readonly number[] }>>;
  release(): Promise<void>;
}

function ortEngine(ort: OrtLike, session: OrtSession, info: () => Record<string, unknown>): Engine {
  const input = session.inputNames[0]!;
  const output = session.outputNames[0]!;
  return {
    info,
    async run(data, dims) {
      const out = (await session.run({ [input]: new ort.Tensor('float32', data, dims) }))[output]!;
      return { data: out.data as Float32Array, dims: out.dims };
    },
    dispose: () => session.release(),
  };
}

async function createOrtWeb(threads: number, modelPath: string): Promise<Engine> {
  const ort = (await import('onnxruntime-web')) as unknown as OrtLike;
  ort.env.wasm!.numThreads = threads;
  ort.env.wasm!.proxy = false;
  const session = await ort.InferenceSession.create(modelPath, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  return ortEngine(ort, session, () => ({ numThreads: ort.env.wasm!.numThreads, versions: ort.env.versions }));
}

async function createOrtNode(threads: number, modelPath: string): Promise<Engine> {
  const ort = (await import('onnxruntime-node')) as unknown as OrtLike;
  const session = await ort.InferenceSession.create(modelPath, {
    executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential',
  });
  return ortEngine(ort, session, () => ({ intraOpNumThreads: threads, versions: ort.env.versions }));
}
