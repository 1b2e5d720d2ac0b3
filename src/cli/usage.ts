// The commands' one-line synopses, apart from the commands themselves: `ocellus --help`, `--version` and usage errors
// print them without importing any command (each command's module, and the engine behind it, loads only when that
// command runs). Each command's options text stays with the command.

export const CLASSIFY_USAGE = `  ocellus classify <image|folder…> [--model M] [--top-k N] [--json] [--dtype fp32|q8] [--batch N] [--preprocessor FILE]`;
export const SERVE_USAGE = `  ocellus serve [--port 8787] [--host 127.0.0.1] [--token T] [--model ID=MODEL…] [--warm]`;
export const INSPECT_USAGE = `  ocellus inspect [model] [--json] [--trace IMAGE [--unfused] [--cold] [--html FILE]]`;
export const QUANTIZE_USAGE = `  ocellus quantize [model] [--output FILE] [--per-tensor] [--ops MatMul,Conv] [--exclude NAMES] [--keep-first-last]`;
