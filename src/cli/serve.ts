// `ocellus serve`: the Workers AI-compatible HTTP API (and the in-browser demo at /) on a local port, until
// SIGTERM/SIGINT, which stop accepting, finish in-flight requests and exit 0.

import { parseArgs } from 'node:util';
import { envVar } from '../env.js';
import { closeOnSignals, startServer } from '../server/node.js';
import { defaultModelTable, type ModelTable } from '../server/registry.js';
import { progressPrinter } from './classify.js';

export { SERVE_USAGE } from './usage.js';   // the synopsis lives there: main.ts prints it without loading this module

export const SERVE_OPTIONS = `Serve options:
  --port N         port (default 8787; 0 = any free port)
  --host H         address to listen on (default 127.0.0.1)
  --token T        require Authorization: Bearer T on the API (default: env OCELLUS_API_TOKEN, else none)
  --model ID=M     also serve pipeline model M (folder, .onnx, hub id) as ID; repeatable
  --warm           load the models before listening (default: on first request)
  --max-queue N    requests waiting per model before 503 (default 64)
  --max-batch N    queued requests run together as one batch (default 4)
  --max-body-mb N  largest request body (default 10)
  --deadline-s N   answer 408 (Workers AI code 3007) when a classification takes longer (default 30)
  --image-workers N  threads decoding images (default 1 on ≤ 2 cores, else 2; 0 = on the event loop)
  --no-demo        do not serve the demo page at /`;

function positiveInt(v: string | undefined, flag: string, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} must be a non-negative integer, got '${v}'`);
  return n;
}

export function parseModelFlags(flags: readonly string[]): ModelTable {
  const table = defaultModelTable();
  for (const f of flags) {
    const eq = f.indexOf('=');
    const [id, model] = eq > 0 ? [f.slice(0, eq), f.slice(eq + 1)] : [f, f];
    if (!id || !model) throw new Error(`--model expects ID=MODEL or MODEL, got '${f}'`);
    table[id] = { model };
  }
  return table;
}

export async function runServe(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv, strict: true,
    options: {
      port: { type: 'string' }, host: { type: 'string' }, token: { type: 'string' }, model: { type: 'string', multiple: true },
      warm: { type: 'boolean', default: false }, 'max-queue': { type: 'string' }, 'max-batch': { type: 'string' },
      'max-body-mb': { type: 'string' }, 'no-demo': { type: 'boolean', default: false }, verbose: { type: 'boolean', default: false },
      'deadline-s': { type: 'string' }, 'image-workers': { type: 'string' },
    },
  });
  const maxBatch = positiveInt(values['max-batch'], '--max-batch', 4);
  const maxBodyMb = Number(values['max-body-mb'] ?? 10);
  if (!(maxBodyMb > 0)) throw new Error(`--max-body-mb must be a positive number, got '${values['max-body-mb']}'`);
  const deadlineS = Number(values['deadline-s'] ?? 30);
  if (!(deadlineS > 0)) throw new Error(`--deadline-s must be a positive number, got '${values['deadline-s']}'`);
  const onProgress = progressPrinter();
  const models = parseModelFlags(values.model ?? []);
  for (const e of Object.values(models)) if (typeof e === 'object') e.options = { ...e.options, onProgress };

  const running = await startServer({
    port: positiveInt(values.port, '--port', 8787),
    host: values.host ?? '127.0.0.1',
    token: values.token ?? envVar('OCELLUS_API_TOKEN'),
    models,
    warm: values.warm,
    maxQueue: positiveInt(values['max-queue'], '--max-queue', 64),
    maxBatch: Math.max(1, maxBatch),
    maxBodyBytes: Math.round(maxBodyMb * 1024 * 1024),
    demo: !values['no-demo'],
    deadlineMs: Math.round(deadlineS * 1000),
    imageWorkers: values['image-workers'] === undefined ? undefined : positiveInt(values['image-workers'], '--image-workers', 1),
    log: e => console.error('ocellus serve:', values.verbose ? e : (e as Error)?.message ?? e),
  });
  console.log(`ocellus serve: listening on ${running.url} (models: ${running.app.registry.ids().join(', ')})`);
  return new Promise<number>(resolve => {
    const off = closeOnSignals(running.close, code => {
      off();
      console.error('ocellus serve: stopped');
      resolve(code);
    });
  });
}
