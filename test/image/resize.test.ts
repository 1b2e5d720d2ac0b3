// PIL-exact resizing: every filter against Pillow 9.4.0's own outputs (fixtures/pil-resize.json, made by
// fixtures/make-pil-resize.py), plus properties that hold for any correct resampler.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resize, Resample, RESAMPLE_NAMES, type ResampleFilter } from '../../src/image/resize.js';
import type { RawImage } from '../../src/image/types.js';
import { readJson } from './helpers.js';

/** The generator's input formula: v(x, y, c) = (x*37 + y*91 + c*53 + x*y*7 + (x^y)*11) % 256. */
function pattern(w: number, h: number, c: 1 | 3): RawImage {
  const data = new Uint8Array(w * h * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let ch = 0; ch < c; ch++) data[(y * w + x) * c + ch] = (x * 37 + y * 91 + ch * 53 + x * y * 7 + (x ^ y) * 11) % 256;
    }
  }
  return { data, width: w, height: h, channels: c };
}

interface PilCase { in: [number, number, 1 | 3]; out: [number, number]; filter: ResampleFilter; pixels: string }
const pil = readJson<{ pillow: string; cases: PilCase[] }>(path.join(import.meta.dirname, 'fixtures/pil-resize.json'));

describe('resize matches Pillow 9.4 exactly', () => {
  it('fixtures come from Pillow 9.4.0 and cover every filter', () => {
    expect(pil.pillow).toBe('9.4.0');
    expect(new Set(pil.cases.map(c => c.filter))).toEqual(new Set([0, 1, 2, 3, 4, 5]));
  });

  it.each(pil.cases.map(c => [`${c.in[0]}×${c.in[1]}×${c.in[2]} → ${c.out[0]}×${c.out[1]} ${RESAMPLE_NAMES[c.filter]}`, c] as const))(
    '%s', (_label, c) => {
      const out = resize(pattern(c.in[0], c.in[1], c.in[2]), c.out[0], c.out[1], c.filter);
      const expected = new Uint8Array(Buffer.from(c.pixels, 'base64'));
      expect(out.width).toBe(c.out[0]);
      expect(out.height).toBe(c.out[1]);
      expect(out.channels).toBe(c.in[2]);
      expect(Buffer.from(out.data).equals(Buffer.from(expected))).toBe(true);
    });
});

describe('resize properties', () => {
  it('keeps a flat image flat with every filter, up and down', () => {
    const flat: RawImage = { data: new Uint8Array(10 * 8 * 3).fill(173), width: 10, height: 8, channels: 3 };
    for (const f of Object.values(Resample)) {
      for (const [w, h] of [[3, 2], [25, 17], [10, 3]]) {
        expect(resize(flat, w!, h!, f).data.every(v => v === 173)).toBe(true);
      }
    }
  });

  it('NEAREST picks the source pixel under each output pixel centre', () => {
    const img = pattern(12, 9, 3);
    const out = resize(img, 4, 3, Resample.NEAREST);
    for (let y = 0; y < 3; y++) {
      for (let x = 0; x < 4; x++) {
        const sx = Math.floor((x + 0.5) * 3);
        const sy = Math.floor((y + 0.5) * 3);
        expect([...out.data.subarray((y * 4 + x) * 3, (y * 4 + x) * 3 + 3)]).toEqual([...img.data.subarray((sy * 12 + sx) * 3, (sy * 12 + sx) * 3 + 3)]);
      }
    }
  });

  it('same size returns an equal copy, not the same buffer', () => {
    const img = pattern(5, 4, 1);
    const out = resize(img, 5, 4, Resample.BICUBIC);
    expect(out.data).toEqual(img.data);
    expect(out.data).not.toBe(img.data);
  });

  it('rejects bad sizes and filters with a message naming them', () => {
    const img = pattern(5, 4, 1);
    expect(() => resize(img, 0, 4)).toThrow(/0×4/);
    expect(() => resize(img, 2.5, 4)).toThrow(/2.5×4/);
    expect(() => resize(img, 2, 2, 7 as ResampleFilter)).toThrow(/filter 7/);
  });
});
