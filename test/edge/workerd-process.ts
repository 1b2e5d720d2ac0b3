// workerd as a child process for the edge tests: started on a free loopback port, waited for (a watchdog catches a
// hang, nothing is timed against a budget), its memory read from /proc/<pid>/status, stopped by its own pid.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO } from '../server/helpers.js';

export const WORKERD = path.join(REPO, 'node_modules/.bin/workerd');

export interface Workerd {
  base: string;
  pid: number;
  /** ms from spawn to the first answer of `readyPath` (the global scope has run by then; no model is loaded). */
  readyMs: number;
  /** The V8 inspector's port (with `inspector: true`). */
  inspectorPort?: number;
  log(): string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    }).on('error', reject);
  });
}

/** `workerd serve config` on a free port; resolves once GET `readyPath` answers 200. */
export async function startWorkerd(config: string, opts: { env?: Record<string, string>; readyPath?: string; inspector?: boolean } = {}): Promise<Workerd> {
  const port = await freePort();
  const inspectorPort = opts.inspector ? await freePort() : undefined;
  const base = `http://127.0.0.1:${port}`;
  let log = '';
  const t0 = performance.now();
  const child: ChildProcess = spawn(WORKERD, ['serve', config, '--socket-addr', `http=127.0.0.1:${port}`, '--verbose', ...(inspectorPort ? ['--inspector-addr', `127.0.0.1:${inspectorPort}`] : [])], {
    env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', d => { log += d; });
  child.stderr!.on('data', d => { log += d; });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise(r => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise(r => setTimeout(r, 5000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  for (;;) {
    if (child.exitCode !== null) throw new Error(`workerd exited with ${child.exitCode}: ${log}`);
    const ok = await fetch(`${base}${opts.readyPath ?? '/health'}`).then(r => r.ok, () => false);
    if (ok) break;
    if (performance.now() - t0 > 120_000) {   // watchdog: a hang, not a budget
      await stop();
      throw new Error(`workerd did not answer within 120 s: ${log}`);
    }
    await new Promise(r => setTimeout(r, 20));
  }
  const readyMs = performance.now() - t0;
  // Another process's server on the same port would have answered too: this workerd must still be running.
  await new Promise(r => setTimeout(r, 200));
  if (child.exitCode !== null) throw new Error(`workerd exited with ${child.exitCode} after the port answered (taken by another process?): ${log}`);
  return { base, pid: child.pid!, readyMs, inspectorPort, log: () => log, stop };
}

/** VmRSS and VmHWM of a process, in bytes. */
export function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!m) throw new Error(`/proc/${pid}/status has no ${key}`);
    return Number(m[1]) * 1024;
  };
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

/** V8's own count for one Worker's isolate (Runtime.getHeapUsage over the inspector): the JS heap, and the
 *  ArrayBuffer backing stores outside it. Asked from a child Node with WebSocket (a flag in Node 20, default later). */
export async function isolateHeap(w: Workerd, service: string): Promise<{ usedSize: number; totalSize: number; backingStorageSize: number }> {
  if (!w.inspectorPort) throw new Error('workerd was started without the inspector');
  // A full collection first, where the inspector offers one: what the isolate holds, not the garbage it has not yet
  // collected (an isolate near its limit collects before it fails; ArrayBuffers of finished requests otherwise swing
  // the figure by tens of MiB). If it does not answer within 5 s, the usage is read without it.
  const script = `const ws = new WebSocket(process.argv[1]);
let asked = false;
const usage = () => { if (!asked) { asked = true; ws.send(JSON.stringify({ id: 1, method: 'Runtime.getHeapUsage' })); } };
ws.onopen = () => { ws.send(JSON.stringify({ id: 0, method: 'HeapProfiler.collectGarbage' })); setTimeout(usage, 5000); };
ws.onmessage = e => {
  const m = JSON.parse(e.data);
  if (m.id === 0) usage();
  if (m.id === 1) { console.log(JSON.stringify(m.result ?? m)); process.exit(0); }
};
ws.onerror = e => { console.error(String(e.message ?? e)); process.exit(1); };`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--experimental-websocket', '--no-warnings', '-e', script, `ws://127.0.0.1:${w.inspectorPort}/${service}`], { timeout: 30_000 });
  const r = JSON.parse(stdout);
  if (typeof r.totalSize !== 'number' || typeof r.backingStorageSize !== 'number') throw new Error(`Runtime.getHeapUsage answered ${stdout}`);
  return r;
}

/** A config serving a Worker that answers every request with 'ok': the baseline workerd's RSS is measured against. */
export function writeTrivialWorker(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'trivial.js'), "export default { fetch() { return new Response('ok'); } };\n");
  const config = path.join(dir, 'trivial.capnp');
  fs.writeFileSync(config, `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = (modules = [ (name = "trivial.js", esModule = embed "trivial.js") ], compatibilityDate = "2024-09-23")) ],
  sockets = [ (name = "http", address = "127.0.0.1:8787", http = (), service = "main") ],
);
`);
  return config;
}

export const MiB = 2 ** 20;
export const mib = (b: number) => `${(b / MiB).toFixed(1)} MiB`;
