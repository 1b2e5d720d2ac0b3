// The Worker's model as static assets: Cloudflare serves each asset file up to 25 MiB, so edge/build.mjs writes the
// ONNX file whole when it fits (the int8 ResNet-50, ~24.6 MiB) and in parts otherwise (fp32, ~98 MiB → 4 parts);
// the manifest (paths and sizes) is compiled into the script. The Worker fetches the parts through its ASSETS binding
// (env.ASSETS.fetch, the same call locally — workerd's disk service stands in — and on Cloudflare) and joins them.

/** Cloudflare's limit on one static asset file (26,214,400 bytes). */
export const MAX_ASSET_BYTES = 25 * 2 ** 20;

export interface ModelAssetPart {
  /** Path under the assets directory, with a leading slash: '/model/model_quantized.onnx'. */
  path: string;
  bytes: number;
}

export interface ModelManifest {
  id: string;
  dtype: 'q8' | 'fp32';
  /** The whole ONNX file. */
  bytes: number;
  parts: ModelAssetPart[];
}

/** What a Worker's assets binding offers (Fetcher). */
export interface AssetFetcher {
  fetch(input: Request | string): Promise<Response>;
}

/**
 * The ONNX bytes named by `manifest`, fetched from `assets`; `origin` is the URL the paths resolve against (the
 * request's own, as Cloudflare's examples do). One part is returned as fetched; several are joined into one buffer.
 */
export async function fetchModelBytes(assets: AssetFetcher, manifest: ModelManifest, origin = 'https://assets.invalid'): Promise<Uint8Array> {
  const sum = manifest.parts.reduce((n, p) => n + p.bytes, 0);
  if (!manifest.parts.length || sum !== manifest.bytes) {
    throw new Error(`model manifest: parts add up to ${sum} bytes, the model is ${manifest.bytes}`);
  }
  const read = async (part: ModelAssetPart): Promise<Uint8Array> => {
    const res = await assets.fetch(new URL(part.path, origin).href);
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw new Error(`model asset ${part.path}: ASSETS answered ${res.status} (is the assets directory deployed?)`);
    }
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (bytes.length !== part.bytes) throw new Error(`model asset ${part.path}: ${bytes.length} bytes, expected ${part.bytes}`);
    return bytes;
  };
  if (manifest.parts.length === 1) return read(manifest.parts[0]!);
  const out = new Uint8Array(manifest.bytes);
  let at = 0;
  for (const part of manifest.parts) {   // one part in flight at a time: the peak is the model plus one part
    out.set(await read(part), at);
    at += part.bytes;
  }
  return out;
}

/** How build.mjs cuts a file of `bytes` into asset parts: whole if it fits, else parts of at most `max`. */
export function partSizes(bytes: number, max = MAX_ASSET_BYTES): number[] {
  if (bytes <= max) return [bytes];
  const n = Math.ceil(bytes / max);
  const size = Math.ceil(bytes / n);
  return Array.from({ length: n }, (_, i) => Math.min(size, bytes - i * size));
}
