// The SVG chart: well-formed XML (checked by an independent strict parser), one bar per timing row with its
// median in the tooltip, bar lengths proportional within a panel, text escaped; the axis rounding.

import { describe, expect, it } from 'vitest';
import { escapeXml, niceCeil, renderSvg, tickStep } from '../../bench/svg.js';
import { syntheticReport } from './fixtures.js';
import { parseXml } from './xml.js';

describe('xml checker (sanity: it must be able to fail)', () => {
  it.each([
    ['<svg><g></svg>', /does not match/],
    ['<svg a="1"b="2"/>', /separated by white space/],
    ['<svg>a < b</svg>', /raw '<'|bad tag name/],
    ['<svg>fish & chips</svg>', /bad entity/],
    ['<svg a=1/>', /bad attribute/],
    ['<svg/><svg/>', /second root/],
    ['<svg>', /unclosed/],
  ])('%s is refused', (src, msg) => {
    expect(() => parseXml(src)).toThrow(msg);
  });

  it('accepts and decodes a small document', () => {
    const els = parseXml('<?xml version="1.0"?>\n<svg x="a &amp; b"><text>1 &lt; 2</text></svg>');
    expect(els.map(e => e.name)).toEqual(['svg', 'text']);
    expect(els[0]!.attrs.x).toBe('a & b');
    expect(els[1]!.text).toBe('1 < 2');
  });
});

describe('renderSvg', () => {
  const r = syntheticReport();
  const svg = renderSvg(r);
  const els = parseXml(svg);

  it('is well-formed SVG with a size', () => {
    const root = els[0]!;
    expect(root.name).toBe('svg');
    expect(root.attrs.xmlns).toBe('http://www.w3.org/2000/svg');
    expect(Number(root.attrs.width)).toBeGreaterThan(0);
    expect(Number(root.attrs.height)).toBeGreaterThan(0);
  });

  it('has one bar per timing row, its tooltip giving the median', () => {
    const bars = els.filter(e => e.name === 'rect' && e.attrs.y !== undefined);
    expect(bars).toHaveLength(r.results.length);
    const tips = els.filter(e => e.name === 'title').map(e => e.text);
    for (const x of r.results) expect(tips).toContain(`${x.kind}, ${x.threads} thread(s): median ${x.ms.median.toFixed(1)} ms (min ${x.ms.min.toFixed(1)}, max ${x.ms.max.toFixed(1)})`);
  });

  it('draws bar lengths proportional to the medians within a panel', () => {
    // panel order: ResNet-50 batch 1 first, with ocellus (median 160) then ort-web (median 210)
    const bars = els.filter(e => e.name === 'rect' && e.attrs.y !== undefined).slice(0, 2).map(e => Number(e.attrs.width));
    expect(bars[0]! / bars[1]!).toBeCloseTo(160 / 210, 2);
  });

  it('titles every model × batch panel and escapes text', () => {
    const texts = els.filter(e => e.name === 'text').map(e => e.text);
    for (const t of ['ResNet-50 · batch 1', 'ResNet-50 · batch 8', 'ViT-B/16 · batch 1', 'ViT-B/16 · batch 8']) {
      expect(texts.some(x => x.startsWith(t))).toBe(true);
    }
    expect(texts.some(x => x.includes('Test CPU <x86> & co'))).toBe(true);   // decoded back from &lt; &amp;
    expect(svg).not.toContain('<x86>');
  });

  it('renders an empty report as a valid document too', () => {
    const empty = { ...r, results: [] };
    expect(() => parseXml(renderSvg(empty))).not.toThrow();
    expect(renderSvg(empty)).toContain('no timing results');
  });
});

describe('helpers', () => {
  it('escapeXml escapes the five special characters', () => {
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
  });

  it('niceCeil rounds up to 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k', () => {
    expect([0.7, 1, 1.1, 2059, 4100, 99, 100, 101, 7000].map(niceCeil)).toEqual([0.8, 1, 1.2, 2500, 5000, 100, 100, 120, 8000]);
    expect(niceCeil(0)).toBe(1);
  });

  it('tickStep picks round steps that divide the axis', () => {
    expect([2500, 15000, 1200, 1500, 8000, 6000, 1, 0.8].map(tickStep)).toEqual([500, 3000, 300, 300, 2000, 2000, 0.2, 0.2]);
  });
});
