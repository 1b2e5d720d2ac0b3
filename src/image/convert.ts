// Channel conversion to RGB as PIL's `Image.convert('RGB')` does it: grey is replicated, alpha is dropped
// (no compositing on a background), RGB passes through untouched.

import type { RawImage } from './types.js';

export function toRGB(img: RawImage): RawImage {
  const c = img.channels;
  if (c === 3) return img;
  const n = img.width * img.height;
  const out = new Uint8Array(n * 3);
  const src = img.data;
  for (let i = 0; i < n; i++) {
    const s = i * c;
    if (c <= 2) {
      out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = src[s]!;
    } else {
      out[i * 3] = src[s]!;
      out[i * 3 + 1] = src[s + 1]!;
      out[i * 3 + 2] = src[s + 2]!;
    }
  }
  return { data: out, width: img.width, height: img.height, channels: 3 };
}
