// The demo page in headless Chromium: `ocellus serve` (in process) serves the page, its bundled script, the tfjs
// WASM binary and the model; the page runs the engine itself. A JPEG and a PNG (ocellus's decoders in the
// page) are uploaded; the labels and scores shown must equal pipeline()'s in Node.
// Needs Debian's chromium at /usr/bin/chromium (CI installs it); skipped with a message without it.

import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pipeline, type ImageClassifier } from '../../src/pipeline/index.js';
import { startServer, type RunningServer } from '../../src/server/node.js';
import { WORKERS_AI_LABELS } from '../../src/server/workers-ai-labels.js';
import { REPO } from '../helpers/onnx-tests.js';
import { photo, readPhoto } from '../server/helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = fs.existsSync(CHROMIUM);
if (!hasChromium) console.warn(`browser demo test skipped: no ${CHROMIUM} (apt-get install chromium)`);

describe.skipIf(!hasChromium)('the in-browser demo', () => {
  let server: RunningServer;
  let browser: Browser;
  let direct: ImageClassifier;

  beforeAll(async () => {
    // The server serves the prebuilt page (dist/demo): rebuild it from the current sources first, as `npm run build` does.
    const { writeDemo } = await import(pathToFileURL(path.join(REPO, 'edge', 'build.mjs')).href) as { writeDemo(dir: string): Promise<void> };
    await writeDemo(path.join(REPO, 'dist', 'demo'));
    server = await startServer({ port: 0 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    direct = await pipeline('image-classification', undefined, { labels: WORKERS_AI_LABELS });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await direct?.dispose();
  });

  it('classifies an uploaded JPEG and PNG in the page, matching pipeline() in Node', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', e => errors.push(e.message));
    await page.goto(`${server.url}/`);
    await page.waitForFunction(() => document.body.dataset.state === 'ready' || document.body.dataset.state === 'error');
    expect(await page.getAttribute('body', 'data-state'), await page.textContent('#status') ?? '').toBe('ready');

    for (const rel of ['darknet/dog.jpg', 'skimage/coffee.png']) {
      await page.setInputFiles('#file', photo(rel));
      await page.waitForFunction(() => document.body.dataset.state === 'done' || document.body.dataset.state === 'error', null, { timeout: 300_000 });
      const status = await page.textContent('#status');
      expect(await page.getAttribute('body', 'data-state'), status ?? '').toBe('done');
      expect(status).toMatch(/in this page \(ocellus WASM kernels\)/);   // Chromium has relaxed SIMD: our GEMM runs
      const shown = await page.$$eval('#top5 li', lis => lis.map(li => ({ label: li.dataset.label!, score: Number(li.dataset.score), text: li.textContent })));
      const want = await direct(readPhoto(rel), { topK: 5 });
      expect(shown.map(s => s.label)).toEqual(want.map(w => w.label));
      shown.forEach((s, i) => {
        expect(s.score).toBeCloseTo(want[i]!.score, 4);
        expect(s.text).toContain(`${(want[i]!.score * 100).toFixed(1)}%`);
      });
    }
    expect(errors).toEqual([]);
    await page.close();
  });
});
