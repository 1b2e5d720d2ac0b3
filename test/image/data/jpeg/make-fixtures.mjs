// Regenerates the small JPEG fixtures of test/image/jpeg.test.ts and djpeg.json, the SHA-256 of what libjpeg-turbo's
// djpeg (default options = islow IDCT, fancy upsampling, as PIL) outputs for each. For 4-component files djpeg's PPM
// is round(C*K/255) of libjpeg's CMYK, which equals PIL's convert('RGB') after its "CMYK;I" read (no rounding ties
// since 255 is odd). Needs Debian's libjpeg-turbo-progs (cjpeg, djpeg). Run: node test/image/data/jpeg/make-fixtures.mjs
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const shared = path.resolve(here, '../../../../../shared');
const tmp = mkdtempSync(path.join(tmpdir(), 'jpeg-fixtures-'));
const run = (cmd, args, input) => execFileSync(cmd, args, { input, maxBuffer: 1 << 28 });

/** Parses a binary PNM (P5/P6) into { width, height, channels, pixels }. */
export function parsePnm(buf) {
  const tokens = [];
  let p = 0;
  while (tokens.length < 4) {
    while (buf[p] === 0x20 || buf[p] === 0x0a || buf[p] === 0x0d || buf[p] === 0x09) p++;
    let s = '';
    while (p < buf.length && !(buf[p] === 0x20 || buf[p] === 0x0a || buf[p] === 0x0d || buf[p] === 0x09)) s += String.fromCharCode(buf[p++]);
    tokens.push(s);
  }
  p++;
  return { width: +tokens[1], height: +tokens[2], channels: tokens[0] === 'P6' ? 3 : 1, pixels: buf.subarray(p) };
}

function pnm(width, height, channels, pixels) {
  return Buffer.concat([Buffer.from(`${channels === 3 ? 'P6' : 'P5'}\n${width} ${height}\n255\n`), Buffer.from(pixels)]);
}

function crop(img, x0, y0, w, h) {
  const out = new Uint8Array(w * h * img.channels);
  for (let y = 0; y < h; y++) {
    const src = ((y0 + y) * img.width + x0) * img.channels;
    out.set(img.pixels.subarray(src, src + w * img.channels), y * w * img.channels);
  }
  return pnm(w, h, img.channels, out);
}

const photo = parsePnm(run('djpeg', ['-pnm', path.join(shared, 'images/photos/opencv-doc/butterfly.jpg')]));
const rgb97 = crop(photo, 200, 150, 97, 71); // odd size: partial MCUs in both directions
const tiny = { '2x9': crop(photo, 240, 170, 2, 9), '3x5': crop(photo, 250, 160, 3, 5), '17x1': crop(photo, 230, 180, 17, 1) };
const ppm = name => { const f = path.join(tmp, name); writeFileSync(f, name.startsWith('tiny') ? tiny[name.slice(5, -4)] : rgb97); return f; };
const scans = (name, text) => { const f = path.join(tmp, name); writeFileSync(f, text); return f; };

const partialScans = scans('partial.txt', '0,1,2: 0-0, 0, 1;\n0: 1-63, 0, 2;\n1: 1-63, 0, 1;\n2: 1-63, 0, 1;\n0,1,2: 0-0, 1, 0;\n0: 1-63, 2, 1;\n');
const dcOnlyScans = scans('dconly.txt', '0,1,2: 0-0, 0, 0;\n0: 1-5, 0, 0;\n');
const seqScans = scans('seq.txt', '0;\n1;\n2;\n');
const src = ppm('rgb97.ppm');

/** name → cjpeg arguments (or a function producing the JPEG bytes). */
const fixtures = {
  's2x2.jpg': ['-sample', '2x2'],
  's2x1.jpg': ['-sample', '2x1'],
  's1x2.jpg': ['-sample', '1x2'],
  's1x1.jpg': ['-sample', '1x1'],
  's4x1.jpg': ['-sample', '4x1'],
  's3x2.jpg': ['-sample', '3x2'],
  'mixed.jpg': ['-sample', '1x1,2x2,1x1'],
  'gray.jpg': ['-grayscale'],
  'rgb.jpg': ['-rgb', '-sample', '2x2'],
  'restart.jpg': ['-restart', '2', '-sample', '2x2'],
  'optimize.jpg': ['-optimize', '-sample', '2x1'],
  'seqscans.jpg': ['-scans', seqScans, '-sample', '2x2'],
  'q100.jpg': ['-quality', '100', '-sample', '1x1'],
  'prog2x2.jpg': ['-progressive', '-sample', '2x2'],
  'prog-restart.jpg': ['-progressive', '-restart', '1', '-sample', '1x2'],
  'prog-gray.jpg': ['-progressive', '-grayscale'],
  'smooth-partial.jpg': ['-progressive', '-scans', partialScans, '-sample', '2x2'],
  'smooth-dconly.jpg': ['-progressive', '-scans', dcOnlyScans, '-sample', '2x1'],
  'tiny2x9.jpg': { src: 'tiny-2x9.ppm', args: ['-sample', '2x2'] },
  'tiny3x5.jpg': { src: 'tiny-3x5.ppm', args: ['-sample', '2x1'] },
  'tiny17x1.jpg': { src: 'tiny-17x1.ppm', args: ['-progressive', '-sample', '2x2'] },
};

// Four greyscale planes (R, G, B, 255 - G of a small crop), spliced below into 4-component files: CMYK (Adobe
// transform 0), YCCK (transform 2) and CMYK without an Adobe marker. Each plane is one non-interleaved scan.
const small = parsePnm(crop(photo, 220, 160, 49, 37));
const planeJpegs = [0, 1, 2, 3].map(i => {
  const g = new Uint8Array(small.width * small.height);
  for (let p = 0; p < g.length; p++) g[p] = i < 3 ? small.pixels[p * 3 + i] : 255 - small.pixels[p * 3 + 1];
  return run('cjpeg', ['-quality', '90', '-grayscale'], pnm(small.width, small.height, 1, g));
});

/** Marker segments of a baseline JPEG written by cjpeg (no restart markers): { marker, payload, entropy? }. */
function segments(b) {
  const out = [];
  for (let p = 2; p < b.length && b[p + 1] !== 0xd9;) {
    const len = (b[p + 2] << 8) | b[p + 3];
    const seg = { marker: b[p + 1], payload: b.subarray(p + 4, p + 2 + len) };
    p += 2 + len;
    if (seg.marker === 0xda) {
      let q = p;
      while (!(b[q] === 0xff && b[q + 1] !== 0)) q++;
      seg.entropy = b.subarray(p, q);
      p = q;
    }
    out.push(seg);
  }
  return out;
}

function composeFourComponent(planes, adobeTransform) {
  const seg = (m, payload) => [0xff, m, (payload.length + 2) >> 8, (payload.length + 2) & 255, ...payload];
  const parts = [0xff, 0xd8];
  if (adobeTransform !== null) parts.push(...seg(0xee, [...Buffer.from('Adobe'), 0, 100, 0, 0, 0, 0, adobeTransform]));
  const segs = planes.map(segments);
  const sof = segs[0].find(x => x.marker === 0xc0).payload;
  segs.forEach((s, i) => {
    const q = s.find(x => x.marker === 0xdb).payload;
    parts.push(...seg(0xdb, [(q[0] & 0xf0) | i, ...q.subarray(1)]));
  });
  parts.push(...seg(0xc0, [...sof.subarray(0, 5), 4, ...[0, 1, 2, 3].flatMap(i => [i + 1, 0x11, i])]));
  segs.forEach((s, i) => {
    for (const h of s.filter(x => x.marker === 0xc4)) parts.push(...seg(0xc4, h.payload));
    parts.push(...seg(0xda, [1, i + 1, 0x00, 0, 63, 0]), ...s.find(x => x.marker === 0xda).entropy);
  });
  parts.push(0xff, 0xd9);
  return Buffer.from(parts);
}
const composed = {
  'cmyk-adobe.jpg': composeFourComponent(planeJpegs, 0),
  'ycck-adobe.jpg': composeFourComponent(planeJpegs, 2),
  'cmyk-plain.jpg': composeFourComponent(planeJpegs, null),
};

const hashes = {};
for (const [name, bytes] of Object.entries(composed)) fixtures[name] = bytes;
for (const [name, spec] of Object.entries(fixtures)) {
  if (Buffer.isBuffer(spec)) writeFileSync(path.join(here, name), spec);
  else {
  const args = Array.isArray(spec) ? spec : spec.args;
  const input = Array.isArray(spec) ? src : ppm(spec.src);
  writeFileSync(path.join(here, name), run('cjpeg', ['-quality', '80', ...args, input]));
  }
  const out = parsePnm(run('djpeg', ['-pnm', path.join(here, name)]));
  hashes[name] = {
    width: out.width, height: out.height, channels: out.channels,
    sha256: createHash('sha256').update(out.pixels).digest('hex'),
  };
}
const v = spawnSync('djpeg', ['-version'], { encoding: 'utf8' });
const version = (v.stdout + v.stderr).trim();
writeFileSync(path.join(here, 'djpeg.json'), JSON.stringify({ djpeg: version, note: 'sha256 of djpeg -pnm pixel bytes (default islow + fancy upsampling)', files: hashes }, null, 2) + '\n');
console.log(`wrote ${Object.keys(hashes).length} fixtures with ${version}`);
