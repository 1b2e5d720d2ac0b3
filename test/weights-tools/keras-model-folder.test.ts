// writeModelFolder (used by the Keras ResNet-50 builder): the Hugging Face layout, replacement of an existing folder,
// and atomicity — a run that fails half-way leaves the previous folder (or none) and no temp folders behind.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeModelFolder } from '../../weights-tools/model-folder.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-folder-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const model = Uint8Array.from({ length: 20 << 20 }, (_, i) => (i * 31) & 0xff);   // 20 MiB: several write chunks
const contents = { model, config: { model_type: 'resnet' }, preprocessorConfig: { do_resize: true }, readme: 'hello\n' };
const read = (dir: string, f: string) => fs.readFileSync(path.join(dir, f));

describe('writeModelFolder', () => {
  it('writes config.json, preprocessor_config.json, README.md and onnx/model.onnx', () => {
    const dir = path.join(root, 'a');
    const files = writeModelFolder(dir, contents);
    expect(files.map(f => path.relative(dir, f)).sort()).toEqual(['README.md', 'config.json', 'onnx/model.onnx', 'preprocessor_config.json']);
    expect(JSON.parse(read(dir, 'config.json').toString())).toEqual({ model_type: 'resnet' });
    expect(JSON.parse(read(dir, 'preprocessor_config.json').toString())).toEqual({ do_resize: true });
    expect(Buffer.compare(read(dir, 'onnx/model.onnx'), Buffer.from(model))).toBe(0);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o755);
  });

  it('replaces an existing folder completely', () => {
    const dir = path.join(root, 'b');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'stale.txt'), 'old');
    writeModelFolder(dir, { ...contents, readme: undefined });
    expect(fs.readdirSync(dir).sort()).toEqual(['config.json', 'onnx', 'preprocessor_config.json']);
    expect(fs.readdirSync(root).filter(f => f.startsWith('.'))).toEqual([]);
  });

  it('a failure half-way leaves the old folder (or nothing) and no temp folder', () => {
    const boom = { ...contents, onProgress: (e: { done: number }) => { if (e.done > 0) throw new Error('disk full'); } };
    const fresh = path.join(root, 'c');
    expect(() => writeModelFolder(fresh, boom)).toThrow(/writing model folder .*c failed: disk full/);
    expect(fs.existsSync(fresh)).toBe(false);

    const kept = path.join(root, 'd');
    writeModelFolder(kept, { ...contents, readme: 'version 1\n' });
    expect(() => writeModelFolder(kept, { ...boom, readme: 'version 2\n' })).toThrow(/disk full/);
    expect(read(kept, 'README.md').toString()).toBe('version 1\n');
    expect(fs.readdirSync(root).filter(f => f.startsWith('.'))).toEqual([]);
  });
});
