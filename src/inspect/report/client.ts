// The HTML report's script (html.ts inlines it into the page, bundled by esbuild: `npm run build` writes
// dist/src/inspect/report-client.bundle.js; from sources it is bundled on first use). It reads the embedded JSON
// (the `inspect --json` document with a trace), draws the overview (input, predictions, depth profile, passes), the
// chain of blocks, and the selected node's details (stats, histogram, feature-map thumbnails, attention maps) on
// canvases and SVG. Browser DOM only, no libraries.

import type { InspectReport } from '../inspect.js';
import type { TraceNode, TraceReport } from '../trace.js';

/** What html.ts embeds: the report with a trace, the summaries' node lists replaced by their counts. */
type PageData = Omit<InspectReport, 'original' | 'optimized' | 'trace'> & {
  trace: TraceReport;
  original: Omit<InspectReport['original'], 'nodes'> & { nodeCount: number };
  optimized?: Omit<NonNullable<InspectReport['optimized']>, 'nodes'> & { nodeCount: number };
};
/** el()'s attributes: text and cls set textContent and className, functions (onclick…) listen, the rest are set. */
type Attrs = Record<string, string | number | boolean | ((e: Event) => void) | undefined>;
type Kid = Node | string | null | undefined;

const R = JSON.parse(document.getElementById('report-data')!.textContent!) as PageData;
const T = R.trace;
const nodes = T.nodes;
const app = document.getElementById('app')!;
const SVGNS = 'http://www.w3.org/2000/svg';

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs, kids?: Kid[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined) continue;
    if (k === 'text') e.textContent = String(v);
    else if (k === 'cls') e.className = String(v);
    else if (typeof v === 'function') e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, String(v));
  }
  (kids ?? []).forEach(c => { if (c != null) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
  return e;
}
function svg(tag: string, attrs: Record<string, string | number>): SVGElement {
  const e = document.createElementNS(SVGNS, tag) as SVGElement;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}
function si(n: number, d = 2): string {
  const a = Math.abs(n), u: [number, string][] = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'K']];
  for (const [v, unit] of u) if (a >= v) return (n / v).toFixed(d) + ' ' + unit;
  return Number.isInteger(n) ? String(n) : n.toFixed(d);
}
function num(v: number | null | undefined): string {
  if (v == null || Number.isNaN(v)) return '–';
  let a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(2);
  return v.toFixed(a >= 100 ? 1 : 3);
}
function ms(v: number): string { return v >= 100 ? v.toFixed(0) + ' ms' : v >= 1 ? v.toFixed(1) + ' ms' : v.toFixed(2) + ' ms'; }
function dims(s: readonly (number | string | null)[]): string { return '[' + s.join(', ') + ']'; }
function b64(s: string): Uint8Array {
  const bin = atob(s), u = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) u[i] = bin.charCodeAt(i);
  return u;
}
function lut(stops: [number, number, number][]): Uint8Array {
  const t = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const x = i / 255 * (stops.length - 1), k = Math.min(stops.length - 2, Math.floor(x)), f = x - k;
    for (let c = 0; c < 3; c++) t[i * 3 + c] = Math.round(stops[k]![c]! * (1 - f) + stops[k + 1]![c]! * f);
  }
  return t;
}
const VIRIDIS = lut([[68, 1, 84], [65, 68, 135], [42, 120, 142], [34, 168, 132], [122, 209, 81], [253, 231, 37]]);
const INFERNO = lut([[0, 0, 4], [66, 10, 104], [147, 38, 103], [221, 81, 58], [252, 165, 10], [252, 255, 164]]);

// Each traced node carries its family (the op definition's family trait, kernels/types.ts); none: 'data'.
function fam(n: TraceNode): string { return 'fam-' + (n.family || 'data'); }
function opLabel(n: TraceNode): string { return n.opType; }
// Inside a block, a scoped name drops the block's own path: '/vit/encoder/layer.3/mlp/dense' → 'mlp/dense'.
function shortName(n: TraceNode): string {
  const p = '/' + n.group + '/';
  return n.group && n.name.indexOf(p) === 0 && n.name.length > p.length ? n.name.slice(p.length) : n.name;
}

const totalMs = T.totalMs || 1;
const maxMac = Math.max.apply(null, nodes.map(function (n) { return n.macs; }).concat([1]));
const maxMs = Math.max.apply(null, nodes.map(function (n) { return n.ms; }).concat([1e-9]));

// ---- header ----
function shortId(id: string): string { const p = id.split('/').filter(Boolean); return id.charAt(0) === '/' && p.length > 2 ? '…/' + p.slice(-2).join('/') : id; }
const opsets = Object.keys(R.opsets).map(function (d) { return (d || 'ai.onnx') + ' ' + R.opsets[d]; }).join(', ');
function chip(k: string, v: string): HTMLElement { return el('span', { cls: 'chip' }, [k + ' ', el('b', { text: v })]); }
app.appendChild(el('header', { cls: 'top' }, [
  el('div', { cls: 'brand', text: '' }, ['ocellus ', el('b', { text: 'inspect' })]),
  el('div', { cls: 'ident' }, [
    el('div', { cls: 'model', title: R.id }, [shortId(R.id), R.architecture ? el('span', { cls: 'arch', text: R.architecture }) : null]),
    el('div', { cls: 'file mono', text: R.file, title: R.file })
  ]),
  el('div', { cls: 'chips' }, [
    chip('IR ' + R.irVersion + ' · opset', opsets),
    chip('params', si(R.params.count)), chip('MACs', si(R.original.macs)),
    chip('nodes', R.original.nodeCount + (R.optimized ? ' → ' + R.optimized.steps : '')),
    chip('passes', T.optimize ? 'on' : 'off'), chip('traced', ms(T.totalMs))
  ])
]));

// ---- overview: input + predictions, depth profile, passes ----
const overview = el('section', { cls: 'overview' });
app.appendChild(overview);
let imgRGBA = (function () {
  let rgb = b64(T.image.data), n = T.image.width * T.image.height, out = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) { out[i * 4] = rgb[i * 3]; out[i * 4 + 1] = rgb[i * 3 + 1]; out[i * 4 + 2] = rgb[i * 3 + 2]; out[i * 4 + 3] = 255; }
  return out;
})();
function imageCanvas(gray: boolean): HTMLCanvasElement {
  const c = el('canvas', { width: T.image.width, height: T.image.height });
  const px = new Uint8ClampedArray(imgRGBA);
  if (gray) for (let i = 0; i < px.length; i += 4) { const y = 0.3 * px[i]! + 0.59 * px[i + 1]! + 0.11 * px[i + 2]!; px[i] = px[i + 1] = px[i + 2] = 40 + y * 0.55; }
  c.getContext('2d')!.putImageData(new ImageData(px, T.image.width, T.image.height), 0, 0);
  return c;
}
let preds = el('div', { cls: 'preds' }, (T.predictions || []).map(function (p) {
  return el('div', { cls: 'pred' }, [
    el('div', { cls: 'lbl' }, [el('span', { text: p.label, title: p.label }), el('span', { cls: 'mono', text: (100 * p.score).toFixed(1) + '%' })]),
    el('div', { cls: 'bar' }, [el('i', { style: 'width:' + (100 * p.score).toFixed(1) + '%' })])
  ]);
}));
overview.appendChild(el('div', { cls: 'card' }, [
  el('h2', { text: 'Input · ' + T.image.source.split('/').pop() + ' · ' + T.image.originalWidth + '×' + T.image.originalHeight + ' → ' + T.image.width + '×' + T.image.height }),
  el('div', { cls: 'input-card' }, [imageCanvas(false), preds.childNodes.length ? preds : el('div', { cls: 'note', text: 'no class labels' })])
]));

// Depth profile: share of zeros per node (bars), attention/softmax entropy relative to uniform (dots).
const prof = el('div', { cls: 'card profile' }, [el('h2', { text: 'Through the network' })]);
const W = 600, H = 150, P = 4;
const ps = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, preserveAspectRatio: 'none', role: 'img' });
[0.25, 0.5, 0.75].forEach(function (f) { ps.appendChild(svg('line', { x1: 0, x2: W, y1: P + (1 - f) * (H - 2 * P), y2: P + (1 - f) * (H - 2 * P), stroke: '#eceef4' })); });
const bw = W / Math.max(1, nodes.length);
const entPts: [number, number][] = [];
nodes.forEach(function (n, i) {
  let x = i * bw;
  let t = svg('rect', { x: x, y: 0, width: Math.max(bw, 1), height: H, fill: 'transparent', 'data-index': i });
  t.style.cursor = 'pointer';
  t.addEventListener('click', function () { select(i, true); });
  const tt = svg('title', {}); tt.textContent = n.name + (n.stats ? ' — zeros ' + (100 * n.stats.zeros).toFixed(1) + '%' : '') + (n.entropy ? ', entropy ' + n.entropy.mean.toFixed(2) + ' / ' + n.entropy.max.toFixed(2) : '');
  t.appendChild(tt);
  if (n.stats && n.stats.zeros > 0) {
    let h = n.stats.zeros * (H - 2 * P);
    ps.appendChild(svg('rect', { x: x + bw * 0.1, y: H - P - h, width: Math.max(bw * 0.8, 0.8), height: h, fill: '#10b981', opacity: 0.75 }));
  }
  if (n.entropy) entPts.push([x + bw / 2, P + (1 - n.entropy.mean / n.entropy.max) * (H - 2 * P)]);
  ps.appendChild(t);
});
if (entPts.length) {
  ps.appendChild(svg('polyline', { points: entPts.map(function (p) { return p.join(','); }).join(' '), fill: 'none', stroke: '#db2777', 'stroke-width': 1.5, 'vector-effect': 'non-scaling-stroke' }));
  entPts.forEach(function (p) { ps.appendChild(svg('circle', { cx: p[0], cy: p[1], r: 2.5, fill: '#db2777' })); });
}
const cursor = svg('rect', { x: 0, y: 0, width: Math.max(bw, 1.5), height: H, fill: '#4f46e5', opacity: 0.25 });
ps.appendChild(cursor);
prof.appendChild(ps);
prof.appendChild(el('div', { cls: 'legend' }, [
  el('span', {}, [el('i', { style: 'background:#10b981' }), 'share of zeros per node (ReLU sparsity)']),
  el('span', {}, [el('i', { style: 'background:#db2777' }), 'Softmax / attention entropy ÷ uniform']),
  el('span', {}, ['click to select · ' + nodes.length + ' nodes'])
]));
overview.appendChild(prof);

const passCard = el('div', { cls: 'card passes' }, [el('h2', { text: 'Graph passes' })]);
if (R.optimized) {
  const o = R.optimized;
  passCard.appendChild(el('div', { cls: 'flow' }, [el('b', { text: String(o.nodesBefore) }), ' nodes in the file → ', el('b', { text: String(o.afterLoadPasses) }), ' after load passes → ', el('b', { text: String(o.steps) }), ' plan steps']));
  const tb = el('tbody');
  o.passes.filter(function (p) { return p.changes > 0; }).forEach(function (p) {
    tb.appendChild(el('tr', {}, [el('td', { cls: 'mono', text: p.pass }), el('td', { cls: 'n', text: p.changes + '×' }), el('td', { cls: 'st', text: p.stage === 'load' ? 'at load' : 'on the plan' })]));
  });
  passCard.appendChild(el('table', {}, [tb]));
  const idle = o.passes.filter(function (p) { return !p.changes; }).map(function (p) { return p.pass; });
  if (idle.length) passCard.appendChild(el('div', { cls: 'note', text: 'no change: ' + idle.join(', ') }));
  if (!T.optimize) passCard.appendChild(el('div', { cls: 'note', text: 'This trace ran the file\'s graph unoptimised: every original node is shown.' }));
}
overview.appendChild(passCard);

// ---- chain of blocks ----
const main = el('main');
app.appendChild(main);
const chain = el('section', { cls: 'card chain' });
const details = el('section', { cls: 'card', id: 'details' });
main.appendChild(chain);
main.appendChild(details);
const groups: { name: string | undefined; items: number[]; ms: number; macs: number }[] = [];
nodes.forEach(function (n, i) {
  const last = groups[groups.length - 1];
  if (n.group && last && last.name === n.group) last.items.push(i);
  else groups.push({ name: n.group, items: [i], ms: 0, macs: 0 });
});
const collapsedByDefault = nodes.length > 160;
const allGroups: HTMLElement[] = [];
chain.appendChild(el('div', { cls: 'chain-head' }, [
  el('span', { cls: 'tools' }, [
    el('button', { text: 'expand all', onclick: function () { allGroups.forEach(function (g) { g.classList.remove('collapsed'); }); } }), ' ',
    el('button', { text: 'collapse all', onclick: function () { allGroups.forEach(function (g) { g.classList.add('collapsed'); }); } })
  ]),
  el('span', { text: 'MACs' }), el('span', { text: 'time' })
]));
function meter(kind: string, value: number, max: number, text: string): HTMLElement {
  return el('div', { cls: 'meter ' + kind }, [el('span', { text: text }), el('div', { cls: 'track' }, [el('i', { style: 'width:' + (max > 0 ? Math.max(0, 100 * value / max) : 0).toFixed(2) + '%' })])]);
}
const rows: HTMLElement[] = [];
function nodeRow(i: number): HTMLElement {
  const n = nodes[i]!;
  const shape = n.outputs.length ? n.outputs.map(function (o) { return dims(o.shape); }).join(' ') : '';
  let row = el('div', { cls: 'node', 'data-index': i, onclick: function () { select(i); } }, [
    el('span', { cls: 'dot ' + fam(n) }),
    el('div', { cls: 'nm' }, [
      el('span', { cls: 'title' }, [el('span', { cls: 'op ' + fam(n), text: opLabel(n) }), el('span', { cls: 'name mono', text: shortName(n), title: n.name })]),
      el('span', { cls: 'shape mono', text: shape + (n.stats && n.stats.zeros > 0.005 ? '  ·  ' + (100 * n.stats.zeros).toFixed(0) + '% zeros' : '') })
    ]),
    meter('mac', n.macs, maxMac, n.macs ? si(n.macs) : '–'),
    meter('time', n.ms, maxMs, ms(n.ms))
  ]);
  rows[i] = row;
  return row;
}
const groupOfNode: HTMLElement[] = [];
let maxGroupMs = 0;
groups.forEach(function (g) { g.ms = g.items.reduce(function (a, i) { return a + nodes[i].ms; }, 0); g.macs = g.items.reduce(function (a, i) { return a + nodes[i].macs; }, 0); if (g.name) maxGroupMs = Math.max(maxGroupMs, g.ms); });
const maxGroupMacs = Math.max.apply(null, groups.map(function (g) { return g.name ? g.macs : 0; }).concat([1]));
groups.forEach(function (g) {
  if (!g.name) { g.items.forEach(function (i) { chain.appendChild(el('div', { cls: 'top-level' }, [nodeRow(i)])); }); return; }
  const body = el('div', { cls: 'gbody' }, g.items.map(nodeRow));
  const box = el('div', { cls: 'group' + (collapsedByDefault ? ' collapsed' : ''), 'data-group': g.name });
  box.appendChild(el('div', { cls: 'ghead', onclick: function () { box.classList.toggle('collapsed'); } }, [
    el('span', { cls: 'caret', text: '▾' }),
    el('span', { cls: 'gname' }, [g.name, el('small', { text: g.items.length + ' nodes' })]),
    meter('mac', g.macs, maxGroupMacs, g.macs ? si(g.macs) : '–'),
    meter('time', g.ms, maxGroupMs, ms(g.ms) + ' · ' + (100 * g.ms / totalMs).toFixed(1) + '%')
  ]));
  box.appendChild(body);
  allGroups.push(box);
  g.items.forEach(function (i) { groupOfNode[i] = box; });
  chain.appendChild(box);
});

// ---- details of the selected node ----
let histScale: 'linear' | 'log' | null = null;
function fact(k: string, v: string, cls?: string): HTMLElement { return el('div', { cls: 'fact' + (cls ? ' ' + cls : '') }, [el('span', { cls: 'k', text: k }), el('span', { cls: 'v', text: v })]); }

function histogramSvg(n: TraceNode): SVGElement {
  const h = n.histogram!, s = n.stats!,  Wd = 480, Hd = 130, pb = 18, pt = 8;
  const log = histScale == null ? s.zeros > 0.2 : histScale === 'log';
  const vals = h.counts.map(function (c) { return log ? Math.log10(1 + c) : c; });
  const top = Math.max.apply(null, vals.concat([1e-9]));
  const g = svg('svg', { 'class': 'histogram', viewBox: '0 0 ' + Wd + ' ' + Hd, preserveAspectRatio: 'none' });
  const bwid = Wd / h.counts.length;
  const zeroBin = h.hi > h.lo ? Math.floor((0 - h.lo) / ((h.hi - h.lo) / h.counts.length)) : -1;
  h.counts.forEach(function (c, i) {
    const bh = (vals[i] / top) * (Hd - pb - pt);
    const r = svg('rect', { 'class': 'b' + (i === Math.min(zeroBin, h.counts.length - 1) && s.zeros > 0.01 ? ' z' : ''), x: i * bwid + 0.5, y: Hd - pb - bh, width: Math.max(bwid - 1, 0.5), height: Math.max(bh, c ? 1 : 0) });
    let lo = h.lo + i * (h.hi - h.lo) / h.counts.length, hi = lo + (h.hi - h.lo) / h.counts.length;
    let t = svg('title', {}); t.textContent = '[' + num(lo) + ', ' + num(hi) + '): ' + c;
    r.appendChild(t);
    g.appendChild(r);
  });
  g.appendChild(svg('line', { x1: 0, x2: Wd, y1: Hd - pb, y2: Hd - pb, stroke: '#cfd3df' }));
  if (h.lo < 0 && h.hi > 0) {
    const zx = (0 - h.lo) / (h.hi - h.lo) * Wd;
    g.appendChild(svg('line', { x1: zx, x2: zx, y1: pt, y2: Hd - pb, stroke: '#94a3b8', 'stroke-dasharray': '3 3' }));
  }
  ([[4, 'start', num(h.lo)], [Wd - 4, 'end', num(h.hi)]] as const).forEach(function (a) {
    let t = svg('text', { x: a[0], y: Hd - 5, 'text-anchor': a[1] }); t.textContent = a[2]; g.appendChild(t);
  });
  const tl = svg('text', { x: Wd - 4, y: 14, 'text-anchor': 'end' }); tl.textContent = (log ? 'log' : 'linear') + ' count · ' + h.counts.length + ' bins';
  g.appendChild(tl);
  return g;
}

function featureMapsView(n: TraceNode): HTMLElement {
  const f = n.featureMaps!,  px = b64(f.data), wrap = el('div', { cls: 'fmaps' });
  for (let c = 0; c < f.shown; c++) {
    let cv = el('canvas', { cls: 'fmap', width: f.width, height: f.height, title: 'channel ' + c + ': ' + num(f.ranges[c][0]) + ' … ' + num(f.ranges[c][1]) });
    let img = new ImageData(f.width, f.height);
    for (let k = 0; k < f.width * f.height; k++) {
      let v = px[c * f.width * f.height + k];
      img.data[k * 4] = VIRIDIS[v * 3]; img.data[k * 4 + 1] = VIRIDIS[v * 3 + 1]; img.data[k * 4 + 2] = VIRIDIS[v * 3 + 2]; img.data[k * 4 + 3] = 255;
    }
    cv.getContext('2d')!.putImageData(img, 0, 0);
    wrap.appendChild(el('figure', {}, [cv, el('figcaption', { text: 'c' + c })]));
  }
  return el('div', { cls: 'section', id: 'feature-maps' }, [
    el('h4', {}, ['Feature maps', el('small', { text: 'first ' + f.shown + ' of ' + f.channels + ' channels · ' + f.srcWidth + '×' + f.srcHeight + (f.width !== f.srcWidth ? ' → ' + f.width + '×' + f.height : '') + ' · each scaled to its own range' })]),
    wrap
  ]);
}

function attentionView(n: TraceNode): HTMLElement {
  const a = n.attention!,  maps = b64(a.cls), g2 = a.grid * a.grid;
  let head = -1;
  let cv = el('canvas', { cls: 'att', width: T.image.width, height: T.image.height });
  const base = imageCanvas(true);
  const heat = el('canvas', { width: a.grid, height: a.grid });
  function values(h: number): Float32Array {
    let out = new Float32Array(g2), k;
    if (h >= 0) { for (k = 0; k < g2; k++) out[k] = maps[h * g2 + k] / 255 * a.clsMax[h]; return out; }
    for (let j = 0; j < a.heads; j++) for (k = 0; k < g2; k++) out[k] += maps[j * g2 + k] / 255 * a.clsMax[j] / a.heads;
    return out;
  }
  function draw() {
    // Scaled from the map's min to its max, so near-uniform attention still shows its pattern; the range is printed.
    let v = values(head), lo = Infinity, m = -Infinity, k;
    for (k = 0; k < g2; k++) { lo = Math.min(lo, v[k]); m = Math.max(m, v[k]); }
    const span = m > lo ? m - lo : 1;
    range.textContent = 'class-token attention per patch: ' + lo.toPrecision(3) + ' (dark) … ' + m.toPrecision(3) + ' (bright); uniform would be ' + (1 / a.tokens).toPrecision(3);
    let img = new ImageData(a.grid, a.grid);
    for (k = 0; k < g2; k++) {
      const q = Math.round(255 * (v[k] - lo) / span);
      img.data[k * 4] = INFERNO[q * 3]; img.data[k * 4 + 1] = INFERNO[q * 3 + 1]; img.data[k * 4 + 2] = INFERNO[q * 3 + 2];
      img.data[k * 4 + 3] = Math.round(40 + 170 * q / 255);
    }
    heat.getContext('2d')!.putImageData(img, 0, 0);
    const ctx = cv.getContext('2d')!;
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(base, 0, 0);
    ctx.drawImage(heat, 0, 0, cv.width, cv.height);
    sel.value = String(head);
    hrows.forEach(function (r, j) { r.classList.toggle('on', j === head); });
  }
  let sel = el('select', { id: 'head-select', onchange: function () { head = Number(sel.value); draw(); } },
    [el('option', { value: '-1', text: 'mean of ' + a.heads + ' heads' })].concat(a.entropy.map(function (_, h) { return el('option', { value: String(h), text: 'head ' + h }); })));
  const emax = Math.log(a.tokens);
  const range = el('div', { cls: 'note' });
  let hrows = a.entropy.map(function (e, h) {
    return el('div', { cls: 'h', title: 'head ' + h + ': mean row entropy ' + e.toFixed(3) + ' nats (uniform: ' + emax.toFixed(3) + ')', onclick: function () { head = head === h ? -1 : h; draw(); } }, [
      el('span', { text: 'head ' + h }), el('div', { cls: 'track' }, [el('i', { style: 'width:' + (100 * e / emax).toFixed(1) + '%' })]), el('span', { cls: 'mono', text: e.toFixed(2) })
    ]);
  });
  let view = el('div', { cls: 'section', id: 'attention' }, [
    el('h4', {}, ['Attention of the class token', el('small', { text: a.grid + '×' + a.grid + ' patches · from ' + (a.source === 'qk' ? 'q·kᵀ of the fused op' : 'the Softmax output') })]),
    sel,
    el('div', { cls: 'att-wrap' }, [cv, el('div', { cls: 'heads' }, [el('div', { cls: 'note', text: 'mean row entropy per head (nats; uniform = ' + emax.toFixed(2) + ') · click a head' })].concat(hrows))]),
    range
  ]);
  draw();
  return view;
}

let current = -1;
function renderDetails(i: number): void {
  const n = nodes[i]!, s = n.stats;
  details.innerHTML = '';
  details.appendChild(el('h3', {}, [el('span', { cls: 'badge ' + fam(n), text: n.opType }), n.name]));
  details.appendChild(el('div', { cls: 'sub' }, ['#' + n.index + (n.group ? ' · ' + n.group : '') + (n.domain ? ' · ' + n.domain + ' domain (fused by a pass)' : '')]));
  let f = [
    fact('output', n.outputs.map(function (o) { return dims(o.shape); }).join(' '), 'wide'),
    fact('MACs', n.macs ? si(n.macs) : '0'), fact('time', ms(n.ms)), fact('share of time', (100 * n.ms / totalMs).toFixed(1) + '%')
  ];
  if (s) f.push(fact('min', num(s.min)), fact('max', num(s.max)), fact('mean', num(s.mean)), fact('std', num(s.std)), fact('zeros', (100 * s.zeros).toFixed(1) + '%', 'zero'),
    fact(n.entropy ? 'entropy' : 'elements', n.entropy ? n.entropy.mean.toFixed(3) + ' / ' + n.entropy.max.toFixed(2) : si(s.count), n.entropy ? 'ent' : ''));
  if (s && s.nonFinite) f.push(fact('NaN / ∞', String(s.nonFinite)));
  details.appendChild(el('div', { cls: 'facts stats' }, f));
  if (n.histogram) {
    const hs = el('div', { cls: 'section', id: 'histogram' });
    let seg = el('span', { cls: 'seg' }, (['linear', 'log'] as const).map(function (m) {
      return el('button', { text: m, cls: ((histScale || (s!.zeros > 0.2 ? 'log' : 'linear')) === m ? 'on' : ''), onclick: function () { histScale = m; renderDetails(current); } });
    }));
    hs.appendChild(el('h4', {}, ['Histogram of the output', seg]));
    hs.appendChild(histogramSvg(n));
    details.appendChild(hs);
  }
  if (n.featureMaps) details.appendChild(featureMapsView(n));
  if (n.attention) details.appendChild(attentionView(n));
  if (!n.featureMaps && !n.attention && n.entropy) details.appendChild(el('div', { cls: 'note section', text: 'Softmax rows: mean entropy ' + n.entropy.mean.toFixed(3) + ' nats over ' + n.entropy.rows + ' rows (a uniform row has ' + n.entropy.max.toFixed(3) + ').' }));
}

function select(i: number, scroll?: boolean): void {
  if (current >= 0 && rows[current]) rows[current].classList.remove('selected');
  current = i;
  rows[i].classList.add('selected');
  if (groupOfNode[i]) groupOfNode[i].classList.remove('collapsed');
  cursor.setAttribute('x', String(i * bw));
  renderDetails(i);
  if (scroll) rows[i].scrollIntoView({ block: 'center' });
  if (history.replaceState) history.replaceState(null, '', '#node-' + i);
}

const fromHash = /^#node-(\d+)$/.exec(location.hash);
const first = fromHash ? Number(fromHash[1]) : nodes.findIndex(function (n) { return n.featureMaps || n.attention; });
if (nodes.length) select(first >= 0 && first < nodes.length ? first : 0, !!fromHash);
else details.appendChild(el('div', { cls: 'empty', text: 'The trace recorded no nodes.' }));
document.body.setAttribute('data-ready', '1');
