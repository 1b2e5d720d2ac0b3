// The Worker's model as static assets (edge/model-assets.ts): how the build cuts a file into parts of at most 25 MiB,
// and how the Worker fetches and joins them through an ASSETS binding (a stand-in Fetcher over a Map here; the real
// binding is exercised in workerd by workerd.test.ts).

import { describe, expect, it } from 'vitest';
import { fetchModelBytes, MAX_ASSET_BYTES, partSizes, type AssetFetcher, type ModelManifest } from '../../edge/model-assets.js';

function fetcher(files: Map<string, Uint8Array>, seen: string[] = []): AssetFetcher {
  return {
    async fetch(input) {
      const url = typeof input === 'string' ? input : input.url;
      seen.push(url);
      const body = files.get(new URL(url).pathname);
      return body ? new Response(body as BodyInit) : new Response('not found', { status: 404 });
    },
  };
}

/** Bytes 0..n-1 mod 251 (a prime: no part boundary lines up with the pattern). */
const pattern = (n: number) => Uint8Array.from({ length: n }, (_, i) => i % 251);

function manifestFor(bytes: Uint8Array, sizes: number[]): { manifest: ModelManifest; files: Map<string, Uint8Array> } {
  const files = new Map<string, Uint8Array>();
  let at = 0;
  const parts = sizes.map((size, i) => {
    const path = `/model/m.onnx.part${i}`;
    files.set(path, bytes.slice(at, at + size));
    at += size;
    return { path, bytes: size };
  });
  return { manifest: { id: 'test', dtype: 'fp32', bytes: bytes.length, parts }, files };
}

describe('partSizes', () => {
  it('keeps a file that fits one asset whole (the int8 ResNet-50: 25,813,118 bytes)', () => {
    expect(MAX_ASSET_BYTES).toBe(26_214_400);
    expect(partSizes(25_813_118)).toEqual([25_813_118]);
    expect(partSizes(MAX_ASSET_BYTES)).toEqual([MAX_ASSET_BYTES]);
  });

  it('cuts a larger file into the fewest parts, each within the limit, adding up to the file', () => {
    for (const bytes of [MAX_ASSET_BYTES + 1, 102_586_167, 4 * MAX_ASSET_BYTES, 4 * MAX_ASSET_BYTES + 1]) {
      const sizes = partSizes(bytes);
      expect(sizes.length).toBe(Math.ceil(bytes / MAX_ASSET_BYTES));
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(bytes);
      for (const s of sizes) {
        expect(s).toBeGreaterThan(0);
        expect(s).toBeLessThanOrEqual(MAX_ASSET_BYTES);
      }
    }
    expect(partSizes(10, 4)).toEqual([4, 4, 2]);
  });
});

describe('fetchModelBytes', () => {
  it('joins the parts in order, fetched against the given origin', async () => {
    const bytes = pattern(10_007);
    const { manifest, files } = manifestFor(bytes, partSizes(bytes.length, 4096));
    const seen: string[] = [];
    const got = await fetchModelBytes(fetcher(files, seen), manifest, 'https://ocellus.example.workers.dev');
    expect(Buffer.from(got).equals(Buffer.from(bytes))).toBe(true);
    expect(seen).toEqual(manifest.parts.map(p => `https://ocellus.example.workers.dev${p.path}`));
  });

  it('returns a single part as fetched', async () => {
    const bytes = pattern(5000);
    const { manifest, files } = manifestFor(bytes, [5000]);
    expect(Array.from(await fetchModelBytes(fetcher(files), manifest))).toEqual(Array.from(bytes));
  });

  it('names the part that is missing or has the wrong size', async () => {
    const bytes = pattern(300);
    const { manifest, files } = manifestFor(bytes, [100, 100, 100]);
    files.delete('/model/m.onnx.part1');
    await expect(fetchModelBytes(fetcher(files), manifest)).rejects.toThrow(/model asset \/model\/m\.onnx\.part1: ASSETS answered 404/);
    files.set('/model/m.onnx.part1', bytes.slice(100, 199));
    await expect(fetchModelBytes(fetcher(files), manifest)).rejects.toThrow(/part1: 99 bytes, expected 100/);
  });

  it('refuses a manifest whose parts do not add up to the model', async () => {
    const bytes = pattern(300);
    const { manifest, files } = manifestFor(bytes, [100, 100, 100]);
    await expect(fetchModelBytes(fetcher(files), { ...manifest, bytes: 301 })).rejects.toThrow(/parts add up to 300 bytes, the model is 301/);
    await expect(fetchModelBytes(fetcher(files), { ...manifest, parts: [], bytes: 0 })).rejects.toThrow(/parts add up to 0/);
  });
});
