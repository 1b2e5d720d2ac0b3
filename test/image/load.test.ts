// loadImage: every input form (path, file: URL string and object, http(s) URL on a local server, data: URL,
// Uint8Array/Buffer/ArrayBuffer, Workers AI number[], Blob, RawImage) decodes to the same pixels, and every
// failure (404, timeout, too big, bad bytes, bad RawImage, unsupported type) is one line naming the input.

import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../../src/image/decode.js';
import { ImageInputError } from '../../src/image/errors.js';
import { isRawImage, loadImage } from '../../src/image/load.js';
import type { RawImage } from '../../src/image/types.js';
import { imageDifference, PREPROCESS_DIR } from './helpers.js';
import { writePng } from './png-writer.js';

const PNG_PATH = path.join(PREPROCESS_DIR, 'images/chelsea.png');
const PNG_BYTES = new Uint8Array(fs.readFileSync(PNG_PATH));
const SMALL = writePng({ width: 3, height: 2, colorType: 2, bitDepth: 8, samples: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18] });
const SMALL_PIXELS: RawImage = { data: Uint8Array.from({ length: 18 }, (_, i) => i + 1), width: 3, height: 2, channels: 3 };

async function loadError(input: unknown, opts?: Parameters<typeof loadImage>[1]): Promise<string> {
  try {
    await loadImage(input as Parameters<typeof loadImage>[0], opts);
  } catch (e) {
    expect(e).toBeInstanceOf(ImageInputError);
    expect((e as Error).message).not.toContain('\n');
    return (e as Error).message;
  }
  throw new Error('expected loadImage to fail');
}

let server: http.Server;
let base = '';
const sockets = new Set<import('node:net').Socket>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = req.url ?? '';
    if (url === '/small.png') {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': SMALL.length });
      res.end(SMALL);
    } else if (url === '/chunked.png') {
      res.writeHead(200, { 'content-type': 'image/png' });  // no Content-Length: sent chunked
      res.write(SMALL.subarray(0, 10));
      res.end(SMALL.subarray(10));
    } else if (url === '/big-declared') {
      res.writeHead(200, { 'content-length': 50_000_000 });
      res.write(new Uint8Array(1000));   // then hangs: the client must refuse from the header alone
    } else if (url === '/big-streamed') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      let sent = 0;
      const push = () => {
        while (sent < 5_000_000 && res.write(new Uint8Array(64 * 1024))) sent += 64 * 1024;
        if (sent < 5_000_000) res.once('drain', push); else res.end();
      };
      push();
    } else if (url === '/slow') {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.write(SMALL.subarray(0, 10));  // and never finishes
    } else if (url === '/redirect') {
      res.writeHead(302, { location: '/small.png' });
      res.end();
    } else if (url === '/page.html') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!DOCTYPE html><html></html>');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('nope');
    }
  });
  server.on('connection', s => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>(resolve => server.close(() => resolve()));
});

describe('loadImage input forms', () => {
  const expected = decodeImage(PNG_BYTES);

  it('a file path', async () => {
    expect(imageDifference(await loadImage(PNG_PATH), expected)).toBeNull();
  });

  it('a file: URL, as a string and as a URL object', async () => {
    const url = pathToFileURL(PNG_PATH);
    expect(imageDifference(await loadImage(url.href), expected)).toBeNull();
    expect(imageDifference(await loadImage(url), expected)).toBeNull();
  });

  it('bytes: Uint8Array, Buffer, ArrayBuffer, a DataView', async () => {
    expect(imageDifference(await loadImage(PNG_BYTES), expected)).toBeNull();
    expect(imageDifference(await loadImage(Buffer.from(PNG_BYTES)), expected)).toBeNull();
    expect(imageDifference(await loadImage(PNG_BYTES.slice().buffer), expected)).toBeNull();
    expect(imageDifference(await loadImage(new DataView(SMALL.buffer, SMALL.byteOffset, SMALL.byteLength) as unknown as Uint8Array), SMALL_PIXELS)).toBeNull();
  });

  it('a number[] of bytes (the Workers AI JSON form)', async () => {
    expect(imageDifference(await loadImage(Array.from(SMALL)), SMALL_PIXELS)).toBeNull();
  });

  it('a Blob', async () => {
    expect(imageDifference(await loadImage(new Blob([SMALL.slice().buffer], { type: 'image/png' })), SMALL_PIXELS)).toBeNull();
  });

  it('a base64 data: URL', async () => {
    const url = `data:image/png;base64,${Buffer.from(SMALL).toString('base64')}`;
    expect(imageDifference(await loadImage(url), SMALL_PIXELS)).toBeNull();
  });

  it('an http URL, with and without Content-Length, and through a redirect', async () => {
    expect(imageDifference(await loadImage(`${base}/small.png`), SMALL_PIXELS)).toBeNull();
    expect(imageDifference(await loadImage(new URL(`${base}/chunked.png`)), SMALL_PIXELS)).toBeNull();
    expect(imageDifference(await loadImage(`${base}/redirect`), SMALL_PIXELS)).toBeNull();
  });

  it('a RawImage passes through as it is; Uint8ClampedArray pixels are accepted', async () => {
    const raw = { ...SMALL_PIXELS };
    expect(await loadImage(raw)).toBe(raw);
    expect(isRawImage(raw)).toBe(true);
    const clamped = { ...SMALL_PIXELS, data: new Uint8ClampedArray(SMALL_PIXELS.data) };
    expect(imageDifference(await loadImage(clamped as unknown as RawImage), SMALL_PIXELS)).toBeNull();
  });
});

describe('loadImage errors', () => {
  it('http: 404, timeout, too big by Content-Length, too big while streaming', async () => {
    expect(await loadError(`${base}/missing.jpg`)).toBe(`${base}/missing.jpg: HTTP 404 Not Found`);
    const t0 = Date.now();
    expect(await loadError(`${base}/slow`, { timeoutMs: 300 })).toBe(`${base}/slow: download timed out after 0.3 s`);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(await loadError(`${base}/big-declared`)).toBe(`${base}/big-declared: response is 47.7 MB, over the 20.0 MB limit (maxBytes)`);
    expect(await loadError(`${base}/big-streamed`, { maxBytes: 1_000_000 }))
      .toBe(`${base}/big-streamed: response is more than 1000000 bytes, over the 1000000 bytes limit (maxBytes)`);
  });

  it('http: a page that is not an image, and a refused connection, name the URL', async () => {
    expect(await loadError(`${base}/page.html`)).toBe(`${base}/page.html: not an image (starts with 3c 21 44 4f)`);
    const closed = http.createServer();
    await new Promise<void>(r => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>(r => closed.close(() => r()));
    expect(await loadError(`http://127.0.0.1:${port}/x.png`)).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/x\\.png: download failed \\(.*ECONNREFUSED`));
  });

  it('files: missing, a directory', async () => {
    const missing = path.join(os.tmpdir(), 'ocellus-no-such-image.png');
    expect(await loadError(missing)).toBe(`${missing}: no such file`);
    expect(await loadError(os.tmpdir())).toBe(`${os.tmpdir()}: is a directory, not an image file`);
  });

  it('number[]: names the first bad index and value', async () => {
    expect(await loadError([137, 80, 300, 71], { name: 'input 3' })).toBe('input 3: byte array element 2 is 300, expected an integer 0–255');
    expect(await loadError([137, -1])).toBe('input: byte array element 1 is -1, expected an integer 0–255');
    expect(await loadError([137, 1.5])).toBe('input: byte array element 1 is 1.5, expected an integer 0–255');
    expect(await loadError([137, '80'])).toBe('input: byte array element 1 is "80", expected an integer 0–255');
  });

  it('RawImage: wrong data length, bad fields, over the pixel limit', async () => {
    expect(await loadError({ ...SMALL_PIXELS, data: new Uint8Array(17) }, { name: 'frame' }))
      .toBe('frame: RawImage data has 17 bytes, expected 3×2×3 = 18');
    expect(await loadError({ ...SMALL_PIXELS, channels: 5 })).toMatch(/^input: not a valid RawImage/);
    expect(await loadError({ ...SMALL_PIXELS, width: 0 })).toMatch(/^input: not a valid RawImage/);
    expect(await loadError({ ...SMALL_PIXELS, data: [1, 2, 3] })).toMatch(/^input: not a valid RawImage/);
    expect(await loadError(SMALL_PIXELS, { maxPixels: 5 })).toMatch(/^input: 3×2 pixels .* over the limit/);
    expect(isRawImage({ ...SMALL_PIXELS, data: new Uint8ClampedArray(18) })).toBe(false);
    expect(isRawImage(null)).toBe(false);
  });

  it('bytes that are not a supported image, an unsupported scheme, an unsupported type', async () => {
    expect(await loadError(Uint8Array.from([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0, 0]), { name: 'input 3' }))
      .toBe('input 3: GIF images are not supported (JPEG and PNG are)');
    expect(await loadError('ftp://example.invalid/a.png')).toBe("ftp://example.invalid/a.png: unsupported URL scheme 'ftp:' (use a path, file:, http:, https: or data:)");
    expect(await loadError(42)).toBe('input: unsupported input type number (expected a path, URL, bytes, number[], Blob or RawImage)');
    expect(await loadError(new Map())).toMatch(/unsupported input type Map/);
  });

  it('the pixel limit is applied to every encoded input', async () => {
    expect(await loadError(PNG_PATH, { maxPixels: 1000 })).toMatch(new RegExp(`^${PNG_PATH.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: 451×300 pixels`));
    expect(await loadError(`${base}/small.png`, { maxPixels: 5 })).toMatch(/small\.png: 3×2 pixels/);
  });
});
