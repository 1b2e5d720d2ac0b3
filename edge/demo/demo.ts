// The demo page's script: loads a served model's ONNX file and configs from `ocellus serve`, runs the engine in
// the page (tfjs WASM, the module compiled here and handed over through edge/engine.ts), and shows the top-5 of
// a picked or dropped image with score bars. JPEG and PNG decode with ocellus's own decoders, exactly as in Node.
// A checkbox sends the image to the server's API instead, for comparison.

import { decodeImage } from '../../src/image/decode.js';
import type { ImageClassificationPipeline } from '../../src/pipeline/image-classification.js';
import type { Classification } from '../../src/pipeline/labels.js';
import { WORKERS_AI_LABELS } from '../../src/server/workers-ai-labels.js';
import { engineInfo, pipelineFromParts, useCompiledWasm } from '../engine.js';

interface ServedModelInfo {
  id: string;
  labels: 'workers-ai' | 'config' | string[];
  files: { onnx: string; config: string; preprocessorConfig: string };
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $<HTMLDivElement>('status');
const progress = $<HTMLProgressElement>('progress');

function say(text: string, error = false): void {
  status.textContent = text;
  status.classList.toggle('error', error);
}

// A tiny module using a SIMD instruction: the SIMD build where it validates, the plain one elsewhere.
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 9, 1, 7, 0, 65, 0, 253, 15, 26, 11]);

async function compileBackend(): Promise<void> {
  const file = WebAssembly.validate(SIMD_PROBE) ? 'tfjs-backend-wasm-simd.wasm' : 'tfjs-backend-wasm.wasm';
  const res = await fetch(`/demo/wasm/${file}`);
  if (!res.ok) throw new Error(`${file}: HTTP ${res.status}`);
  useCompiledWasm(await WebAssembly.compileStreaming(res));
}

async function download(url: string, what: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new Error(`${what}: HTTP ${res.status}`);
  const total = Number(res.headers.get('content-length')) || 0;
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let loaded = 0;
  progress.hidden = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    loaded += value.length;
    if (total) progress.value = loaded / total;
    say(`Downloading ${what}: ${(loaded / 1e6).toFixed(1)}${total ? ` of ${(total / 1e6).toFixed(1)}` : ''} MB`);
  }
  progress.hidden = true;
  const out = new Uint8Array(loaded);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

async function fetchJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json() as Promise<T>;
}

async function loadModel(info: ServedModelInfo): Promise<ImageClassificationPipeline> {
  await compileBackend();
  const [config, preprocessorConfig] = await Promise.all([
    fetchJson<Record<string, unknown>>(info.files.config), fetchJson<Record<string, unknown>>(info.files.preprocessorConfig),
  ]);
  const onnx = await download(info.files.onnx, `${info.id} weights`);
  say(`Preparing ${info.id}…`);
  const labels = info.labels === 'workers-ai' ? WORKERS_AI_LABELS : Array.isArray(info.labels) ? info.labels : undefined;
  return pipelineFromParts({ id: info.id, onnx, config, preprocessorConfig }, { labels });
}

function show(results: Classification[], took: string, file: File): void {
  const list = $<HTMLOListElement>('top5');
  list.replaceChildren(...results.map(r => {
    const li = document.createElement('li');
    li.dataset.label = r.label;
    li.dataset.score = String(r.score);
    const row = document.createElement('div');
    row.className = 'row';
    const name = document.createElement('span');
    name.className = 'label';
    name.textContent = r.label;
    const pct = document.createElement('span');
    pct.textContent = `${(r.score * 100).toFixed(1)}%`;
    row.append(name, pct);
    const track = document.createElement('div');
    track.className = 'track';
    const bar = document.createElement('div');
    bar.className = 'bar';
    bar.style.width = `${Math.max(0.5, r.score * 100)}%`;
    track.append(bar);
    li.append(row, track);
    return li;
  }));
  const img = $<HTMLImageElement>('preview');
  if (img.src) URL.revokeObjectURL(img.src);
  img.src = URL.createObjectURL(file);
  $('result').hidden = false;
  say(took);
}

async function main(): Promise<void> {
  const models = await fetchJson<ServedModelInfo[]>('/demo/models.json');
  const info = models.find(m => m.labels === 'workers-ai') ?? models[0];
  if (!info) throw new Error('the server serves no models');
  let model: Promise<ImageClassificationPipeline> | undefined;
  const serverBox = $<HTMLInputElement>('server');

  const classify = async (file: File) => {
    document.body.dataset.state = 'busy';
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      let results: Classification[];
      const t0 = performance.now();
      if (serverBox.checked) {
        say(`Asking the server (${info.id})…`);
        const res = await fetch(`/ai/run/${info.id}`, { method: 'POST', body: bytes });
        const body = await res.json() as { result: Classification[] | null; errors: { message: string }[] };
        if (!res.ok || !body.result) throw new Error(body.errors[0]?.message ?? `HTTP ${res.status}`);
        results = body.result;
      } else {
        model ??= loadModel(info);
        const p = await model;
        say('Classifying in this page…');
        const t1 = performance.now();
        results = await p.classify(decodeImage(bytes, { name: file.name || 'image' }), { topK: 5 });
        const ms = performance.now() - t1;
        const kernels = engineInfo().kernels === 'ocellus-wasm' ? 'ocellus WASM kernels' : 'tfjs WASM kernels';
        show(results, `${file.name}: ${ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(2)} s`} in this page (${kernels})`, file);
        document.body.dataset.state = 'done';
        return;
      }
      show(results, `${file.name}: ${(performance.now() - t0).toFixed(0)} ms on the server`, file);
      document.body.dataset.state = 'done';
    } catch (e) {
      say(`Could not classify ${file.name}: ${(e as Error).message}`, true);
      document.body.dataset.state = 'error';
    }
  };

  const input = $<HTMLInputElement>('file');
  const drop = $<HTMLDivElement>('drop');
  input.addEventListener('change', () => { if (input.files?.[0]) void classify(input.files[0]); });
  drop.addEventListener('click', () => input.click());
  drop.addEventListener('keydown', e => { if (e.key === 'Enter' || e.key === ' ') input.click(); });
  drop.addEventListener('dragover', e => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', e => {
    e.preventDefault();
    drop.classList.remove('over');
    const file = e.dataTransfer?.files[0];
    if (file) void classify(file);
  });
  say(`Ready: ${info.id}. The model (about 100 MB) downloads into the page on first use.`);
  document.body.dataset.state = 'ready';
}

main().catch(e => {
  say(`The demo could not start: ${(e as Error).message}`, true);
  document.body.dataset.state = 'error';
});
