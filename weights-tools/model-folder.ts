// Writes a model folder in the Hugging Face layout (config.json, preprocessor_config.json, onnx/model.onnx, README.md)
// atomically: everything goes into a temp folder next to the target, which is renamed into place only when complete,
// so a killed run leaves either the old folder or nothing, never a half-written folder that looks finished.

import fs from 'node:fs';
import path from 'node:path';
import type { ProgressFn } from './tfjs-weights.js';

export interface ModelFolderContents {
  model: Uint8Array;                       // ONNX ModelProto bytes → onnx/model.onnx
  config: object;                          // → config.json
  preprocessorConfig: object;              // → preprocessor_config.json
  readme?: string;                         // → README.md
  onProgress?: ProgressFn;                 // stage 'write', in bytes of model.onnx
}

const CHUNK = 8 << 20;

function writeFileSynced(file: string, bytes: Uint8Array, onChunk?: (written: number) => void): void {
  const fd = fs.openSync(file, 'w');
  try {
    for (let off = 0; off < bytes.byteLength; off += CHUNK) {
      const end = Math.min(off + CHUNK, bytes.byteLength);
      let pos = off;
      while (pos < end) pos += fs.writeSync(fd, bytes, pos, end - pos);
      onChunk?.(end);
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

const json = (v: object) => new TextEncoder().encode(`${JSON.stringify(v, null, 2)}\n`);

/** Writes the folder `dir` (replacing an existing one only after the new one is complete); returns the files written. */
export function writeModelFolder(dir: string, contents: ModelFolderContents): string[] {
  const target = path.resolve(dir);
  const parent = path.dirname(target);
  fs.mkdirSync(parent, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(parent, `.${path.basename(target)}.partial-`));
  fs.chmodSync(tmp, 0o755);   // mkdtemp makes it 0700; the finished folder should look like any other
  const files: [string, Uint8Array][] = [
    ['config.json', json(contents.config)],
    ['preprocessor_config.json', json(contents.preprocessorConfig)],
    ...(contents.readme !== undefined ? [['README.md', new TextEncoder().encode(contents.readme)] as [string, Uint8Array]] : []),
  ];
  const total = contents.model.byteLength;
  const old = `${tmp}.old`;
  try {
    fs.mkdirSync(path.join(tmp, 'onnx'));
    contents.onProgress?.({ stage: 'write', done: 0, total });
    writeFileSynced(path.join(tmp, 'onnx', 'model.onnx'), contents.model,
      done => contents.onProgress?.({ stage: 'write', done, total }));
    for (const [name, bytes] of files) writeFileSynced(path.join(tmp, name), bytes);
    // Swap: move the old folder aside, move the new one in, then delete the old one.
    if (fs.existsSync(target)) fs.renameSync(target, old);
    fs.renameSync(tmp, target);
    fs.rmSync(old, { recursive: true, force: true });
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (fs.existsSync(old) && !fs.existsSync(target)) fs.renameSync(old, target);   // put the previous folder back
    throw new Error(`writing model folder ${target} failed: ${(e as Error).message}`);
  }
  return ['onnx/model.onnx', ...files.map(([name]) => name)].map(f => path.join(target, f));
}
