#!/usr/bin/env node
// The `ocellus` command. Parses flags, calls the same public API a library user would, prints results.
// Errors are one line on stderr with a non-zero exit (the stack only with --verbose).

import { pathToFileURL } from 'node:url';
import { BENCH_USAGE, runBench } from './bench.js';
import { runClassify } from './classify.js';
import { INSPECT_OPTIONS, INSPECT_USAGE, runInspect } from './inspect.js';
import { runServe, SERVE_OPTIONS, SERVE_USAGE } from './serve.js';

export const USAGE = `ocellus — image classification on a pure-TypeScript ONNX engine

Usage:
  ocellus classify <image|folder…> [--model ID] [--top-k N] [--json] [--dtype fp32|q8] [--batch N]
${SERVE_USAGE}
${INSPECT_USAGE}
${BENCH_USAGE}
  ocellus help

Options:
  --model ID     local folder, .onnx file, or hub id (default: the bundled ResNet-50)
  --top-k N      classes per image (default 5)
  --json         one JSON array: [{ "input", "results": [{ "label", "score" }] }]
  --dtype D      fp32 (onnx/model.onnx, default) or q8 (onnx/model_quantized.onnx)
  --batch N      images per session run (default 8)
  --verbose      stack traces on errors, model preparation details
${SERVE_OPTIONS}
${INSPECT_OPTIONS}
Environment: OCELLUS_CACHE (model cache folder), OCELLUS_REMOTE_HOST (hub host), OCELLUS_OFFLINE=1,
  OCELLUS_THREADS (WASM compute threads in Node, 1–8; default min(cores, 4))`;

export class UsageError extends Error {}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const verbose = rest.includes('--verbose');
  try {
    switch (command) {
      case 'classify': return await runClassify(rest);
      case 'serve': return await runServe(rest);
      case 'inspect': return await runInspect(rest);
      case 'bench': return await runBench(rest);
      case undefined: case 'help': case '--help': case '-h':
        console.log(USAGE);
        return command === undefined ? 1 : 0;
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (e) {
    const err = e as Error;
    if (err instanceof UsageError || err.name === 'TypeError' && /parseArgs|Unknown option|ERR_PARSE_ARGS/.test(String((err as NodeJS.ErrnoException).code ?? err.message))) {
      console.error(`ocellus: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    console.error(`ocellus: ${verbose ? err.stack ?? err.message : err.message.split('\n')[0]}`);
    return 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href || process.argv[1]?.endsWith('/ocellus')) {
  main(process.argv.slice(2)).then(code => { process.exitCode = code; });
}
