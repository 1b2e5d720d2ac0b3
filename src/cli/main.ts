#!/usr/bin/env node
// The `ocellus` command. Parses flags, calls the same public API a library user would, prints results.
// Errors are one line on stderr with a non-zero exit (the stack only with --verbose); `--help`/`-h` on any
// command prints that command's usage and exits 0; usage errors exit 2.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BENCH_USAGE, runBench } from './bench.js';   // node: modules only; the bench itself loads when it runs
import { CLASSIFY_USAGE, INSPECT_USAGE, QUANTIZE_USAGE, SERVE_USAGE } from './usage.js';

const ENVIRONMENT = `Environment: OCELLUS_CACHE (model cache folder), OCELLUS_REMOTE_HOST (hub host), OCELLUS_OFFLINE=1,
  OCELLUS_THREADS (WASM compute threads in Node, 1–8; default min(cores, 4))`;

/** A command: its synopsis (cheap), and its module, imported only when the command runs or prints its help — so
 *  `--version`, `--help` and usage errors load no engine, and each command loads only what it uses. */
interface Command { usage: string; load(): Promise<{ options: string; run(argv: string[]): Promise<number> }> }

const COMMANDS: Record<string, Command> = {
  classify: { usage: CLASSIFY_USAGE, load: async () => { const m = await import('./classify.js'); return { options: m.CLASSIFY_OPTIONS, run: m.runClassify }; } },
  serve: { usage: SERVE_USAGE, load: async () => { const m = await import('./serve.js'); return { options: m.SERVE_OPTIONS, run: m.runServe }; } },
  inspect: { usage: INSPECT_USAGE, load: async () => { const m = await import('./inspect.js'); return { options: m.INSPECT_OPTIONS, run: m.runInspect }; } },
  quantize: { usage: QUANTIZE_USAGE, load: async () => { const m = await import('./quantize.js'); return { options: m.QUANTIZE_OPTIONS, run: m.runQuantize }; } },
  // The bench's options live with the bench (a source checkout's bench/): it prints its own help.
  bench: { usage: BENCH_USAGE, load: async () => ({ options: '', run: runBench }) },
};

export const USAGE = `ocellus — image classification on a pure-TypeScript ONNX engine

Usage:
${Object.values(COMMANDS).map(c => c.usage).join('\n')}
  ocellus help [command] | --help | --version

Run \`ocellus <command> --help\` for a command's options.
  --verbose      stack traces on errors
${ENVIRONMENT}`;

export class UsageError extends Error {}

/** This package's version, from the package.json above this module (src/cli or dist/src/cli). */
export function packageVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++, dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'ocellus' && pkg.version) return pkg.version;
    }
  }
  return 'unknown';
}

async function commandHelp(name: string): Promise<string> {
  const c = COMMANDS[name]!;
  const { options } = await c.load();
  return `Usage:\n${c.usage}\n${options ? `\n${options}\n` : ''}  --verbose           stack traces on errors\n\n${ENVIRONMENT}`;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const verbose = rest.includes('--verbose');
  try {
    if (command === '--version' || command === '-v' || command === 'version') {
      console.log(packageVersion());
      return 0;
    }
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      const topic = command === 'help' ? rest[0] : undefined;
      if (topic && topic in COMMANDS && topic !== 'bench') console.log(await commandHelp(topic));
      else if (topic === 'bench') return await runBench(['--help']);
      else if (topic) throw new UsageError(`unknown command '${topic}'`);
      else console.log(USAGE);
      return command === undefined ? 1 : 0;
    }
    const cmd = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (!cmd) throw new UsageError(`unknown command '${command}'`);
    if (command !== 'bench' && (rest.includes('--help') || rest.includes('-h'))) {
      console.log(await commandHelp(command));
      return 0;
    }
    const [{ run }, { installModelTools }] = await Promise.all([cmd.load(), import('../model-tools.js')]);
    installModelTools();
    return await run(rest);
  } catch (e) {
    const err = e as Error;
    if (err instanceof UsageError || isParseArgsError(err)) {
      const help = command && Object.hasOwn(COMMANDS, command) ? `Run \`ocellus ${command} --help\` for its options.` : USAGE;
      console.error(`ocellus: ${err.message}\n\n${help}`);
      return 2;
    }
    console.error(`ocellus: ${verbose ? err.stack ?? err.message : err.message.split('\n')[0]}`);
    return 1;
  }
}

function isParseArgsError(err: Error): boolean {
  const code = String((err as NodeJS.ErrnoException).code ?? '');
  return err.name === 'TypeError' && /^ERR_PARSE_ARGS/.test(code);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href || process.argv[1]?.endsWith('/ocellus')) {
  main(process.argv.slice(2)).then(code => { process.exitCode = code; });
}
