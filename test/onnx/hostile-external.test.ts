// External data from hostile files (issue #18, item 3): only regular files inside the model's folder once symlinks
// are resolved (or inside the real folder of a symlinked model file, the Hugging Face cache layout onnxruntime also
// allows), exactly the declared bytes, ranges checked against the file's size before reading. Cases that used to
// hang (a FIFO, /dev/zero) load in a child process under a watchdog.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelLoadError } from '../../src/onnx/errors.js';
import { loadModel } from '../../src/onnx/load.js';
import { onnx } from '../../src/onnx/proto.js';
import { SHARED, runOnnxTestFolder } from '../helpers/onnx-tests.js';
import { loadInChild } from './child-load.js';

const T = onnx.TensorProto.DataType;
const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-ext-')));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const posix = process.platform !== 'win32';

/** Initializer TensorProto fields for float32 [n] stored externally. */
function ext(n: number, location: string, offset?: number, length?: number): onnx.ITensorProto {
  const kv = [{ key: 'location', value: location }];
  if (offset !== undefined) kv.push({ key: 'offset', value: String(offset) });
  if (length !== undefined) kv.push({ key: 'length', value: String(length) });
  return { dims: [n], dataType: T.FLOAT, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL, externalData: kv };
}

/** A model `Y = Sum(W0, W1, …)` whose initializers are the given TensorProtos. */
function modelBytes(inits: onnx.ITensorProto[]): Uint8Array {
  const names = inits.map((_, i) => `W${i}`);
  return onnx.ModelProto.encode({
    irVersion: 8, opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'g', node: [{ opType: 'Sum', input: names, output: ['Y'], name: 'sum' }],
      initializer: inits.map((t, i) => ({ name: names[i], ...t })),
      output: [{ name: 'Y', type: { tensorType: { elemType: T.FLOAT } } }],
    },
  }).finish();
}

let folders = 0;
/** A fresh folder holding model.onnx (and whatever `setup` puts beside it); returns the model's path. */
function folder(inits: onnx.ITensorProto[], setup: (dir: string) => void = () => {}): string {
  const dir = path.join(tmp, `case-${folders++}`, 'model');
  fs.mkdirSync(dir, { recursive: true });
  setup(dir);
  fs.writeFileSync(path.join(dir, 'model.onnx'), modelBytes(inits));
  return path.join(dir, 'model.onnx');
}

const floats = (...v: number[]) => new Uint8Array(new Float32Array(v).buffer);

async function refusal(file: string): Promise<Error> {
  const err = await loadModel(file).then(() => expect.fail(`${file} was accepted`), (e: Error) => e);
  expect(err).toBeInstanceOf(ModelLoadError);
  expect(err.message.startsWith(`${file}: `), err.message).toBe(true);
  return err;
}

describe.skipIf(!posix)('external data stays inside the model folder', () => {
  it('a symlink in the model folder to a file beside the folder is refused (its bytes became a tensor)', async () => {
    const file = folder([ext(2, 'weights.bin')], dir => {
      fs.writeFileSync(path.join(dir, '..', 'secret.bin'), floats(13, 17));
      fs.symlinkSync('../secret.bin', path.join(dir, 'weights.bin'));
    });
    const err = await refusal(file);
    expect(err.message).toBe(`${file}: initializer 'W0': external data file 'weights.bin' cannot be read (location 'weights.bin' resolves to ` +
      `${path.join(path.dirname(file), '..', 'secret.bin')}, outside the model's folder (${path.dirname(file)}))`);
  });

  it('relative and absolute paths out of the folder are refused before anything is opened', async () => {
    const up = folder([ext(1, '../x.bin')], dir => fs.writeFileSync(path.join(dir, '..', 'x.bin'), floats(1)));
    expect((await refusal(up)).message).toMatch(/external data file '\.\.\/x\.bin' cannot be read \(location '\.\.\/x\.bin' is outside the model's folder\)$/);
    const abs = folder([ext(1, '/etc/hostname')]);
    expect((await refusal(abs)).message).toMatch(/cannot be read \(location '\/etc\/hostname' must be a path relative to the model's folder\)$/);
  });

  it('/dev/zero behind a symlink and a FIFO in the folder are refused without reading (a read never ended)', () => {
    const zero = folder([ext(4, 'weights.bin', 0, 16)], dir => fs.symlinkSync('/dev/zero', path.join(dir, 'weights.bin')));
    const fifo = folder([ext(4, 'weights.bin', 0, 16)], dir => execFileSync('mkfifo', [path.join(dir, 'weights.bin')]));
    const r = loadInChild([zero, fifo], 64, 60_000);
    expect(r.signal, `watchdog: ${r.stderr.slice(-1000)}`).toBeNull();
    expect(r.lines).toEqual([
      `${zero}\tModelLoadError\t${zero}: initializer 'W0': external data file 'weights.bin' cannot be read (location 'weights.bin' resolves to /dev/zero, outside the model's folder (${path.dirname(zero)}))`,
      `${fifo}\tModelLoadError\t${fifo}: initializer 'W0': external data file 'weights.bin' cannot be read ('weights.bin' is a FIFO, not a regular file)`,
    ]);
  });

  it('a folder as external data, and a model path that is a device or FIFO, are refused', () => {
    const dirData = folder([ext(1, 'weights.bin')], dir => fs.mkdirSync(path.join(dir, 'weights.bin')));
    const fifoModel = path.join(tmp, 'fifo.onnx');
    execFileSync('mkfifo', [fifoModel]);
    const r = loadInChild([dirData, fifoModel, '/dev/zero'], 64, 60_000);
    expect(r.signal, `watchdog: ${r.stderr.slice(-1000)}`).toBeNull();
    expect(r.lines).toEqual([
      `${dirData}\tModelLoadError\t${dirData}: initializer 'W0': external data file 'weights.bin' cannot be read ('weights.bin' is a folder, not a regular file)`,
      `${fifoModel}\tModelLoadError\t${fifoModel}: is a FIFO, not a regular file`,
      '/dev/zero\tModelLoadError\t/dev/zero: is a character device, not a regular file',
    ]);
  });

  it('offset and length are checked against the file size, and length against the dims, before reading', async () => {
    const past = folder([ext(2, 'w.bin', 4, 8)], dir => fs.writeFileSync(path.join(dir, 'w.bin'), floats(1, 2)));
    expect((await refusal(past)).message).toBe(`${past}: initializer 'W0': external data file 'w.bin' cannot be read (it has 8 bytes; offset 4 + length 8 runs past its end)`);
    const huge = folder([ext(2, 'w.bin', 2 ** 52)], dir => fs.writeFileSync(path.join(dir, 'w.bin'), floats(1, 2)));
    expect((await refusal(huge)).message).toMatch(/it has 8 bytes; offset 4503599627370496 \+ length 8 runs past its end\)$/);
    const wrong = folder([ext(2, 'w.bin', 0, 4)], dir => fs.writeFileSync(path.join(dir, 'w.bin'), floats(1, 2)));
    expect((await refusal(wrong)).message).toBe(`${wrong}: initializer 'W0' (external data 'w.bin'): length is 4 bytes, but float32 dims [2] need 8`);
    const bad = folder([ext(2, 'w.bin', -4)], dir => fs.writeFileSync(path.join(dir, 'w.bin'), floats(1, 2)));
    expect((await refusal(bad)).message).toBe(`${bad}: initializer 'W0': bad external_data offset/length '-4'/'undefined'`);
  });

  it('tensors may not read more bytes from a file than it holds, whatever the spelling of its name', async () => {
    // Each tensor takes the whole 1 MiB file: n of them would be n MiB of host memory from a 1 MiB file.
    const mib = 2 ** 18;
    const spellings = ['w.bin', './w.bin', 'sub/../w.bin', 'link.bin'];
    const file = folder(spellings.map(s => ext(mib, s, 0, 4 * mib)), dir => {
      fs.writeFileSync(path.join(dir, 'w.bin'), new Uint8Array(4 * mib));
      fs.mkdirSync(path.join(dir, 'sub'));
      fs.symlinkSync('w.bin', path.join(dir, 'link.bin'));
    });
    expect((await refusal(file)).message).toBe(`${file}: initializer 'W1': external data file './w.bin' cannot be read ` +
      `(the model's tensors read ${8 * mib} bytes from it, more than its ${4 * mib} bytes (their ranges overlap))`);
  });

  it('symlinks that stay inside the folder load, with the right values', async () => {
    const file = folder([ext(2, 'link.bin'), ext(1, 'data/w.bin', 8)], dir => {
      fs.mkdirSync(path.join(dir, 'data'));
      fs.writeFileSync(path.join(dir, 'data', 'w.bin'), floats(1, 2, 3));
      fs.symlinkSync('data/w.bin', path.join(dir, 'link.bin'));
    });
    const m = await loadModel(file);
    expect(Array.from(m.graph.initializers.get('W0')!.data as Float32Array)).toEqual([1, 2]);
    expect(Array.from(m.graph.initializers.get('W1')!.data as Float32Array)).toEqual([3]);
  });
});

describe.skipIf(!posix)('the Hugging Face cache layout (snapshot files linking into blobs/), as onnxruntime allows', () => {
  /** hub/{blobs/, snapshots/rev/} with the model (and data) as links into blobs; returns the snapshot's model path. */
  function hubCache(dataBlob: string): string {
    const hub = path.join(tmp, `hub-${folders++}`);
    fs.mkdirSync(path.join(hub, 'blobs', 'more'), { recursive: true });
    fs.mkdirSync(path.join(hub, 'snapshots', 'rev'), { recursive: true });
    fs.writeFileSync(path.join(hub, 'blobs', 'm1'), modelBytes([ext(2, 'model.onnx.data')]));
    fs.writeFileSync(path.join(hub, dataBlob), floats(5, 6));
    fs.symlinkSync('../../blobs/m1', path.join(hub, 'snapshots', 'rev', 'model.onnx'));
    fs.symlinkSync(`../../${dataBlob}`, path.join(hub, 'snapshots', 'rev', 'model.onnx.data'));
    return path.join(hub, 'snapshots', 'rev', 'model.onnx');
  }

  it('data linked into the blobs folder of the linked model file loads (and below it)', async () => {
    for (const blob of ['blobs/d1', 'blobs/more/d1']) {
      const m = await loadModel(hubCache(blob));
      expect(Array.from(m.graph.initializers.get('W0')!.data as Float32Array), blob).toEqual([5, 6]);
    }
  });

  it('data linked anywhere else is refused', async () => {
    const file = hubCache('d-outside');
    expect((await refusal(file)).message).toMatch(/location 'model\.onnx\.data' resolves to .*\/d-outside, outside the model's folder/);
  });

  it('the external-data ResNet fixture linked file by file from a snapshot folder runs as from its own folder', async () => {
    const src = path.join(SHARED, 'fixtures/resnet-hf-tiny-op17-extdata');
    const snap = path.join(tmp, 'snapshot-resnet');
    fs.mkdirSync(snap);
    for (const f of fs.readdirSync(src)) fs.symlinkSync(path.join(src, f), path.join(snap, f));
    const maxDiff = await runOnnxTestFolder(snap, { rtol: 1e-3, atol: 1e-4 });
    expect(maxDiff).toBeLessThan(1e-4);
  });
});
