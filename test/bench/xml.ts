// A small, strict XML well-formedness checker for the tests (no XML library is installed): one root element,
// properly nested and closed tags, quoted attributes without raw '<' or stray '&', text without raw '<', and only
// the five predefined entities or numeric character references. Returns the elements found (name + attributes).

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  text: string;
}

const NAME = /^[A-Za-z_:][\w.:-]*/;
const ENTITY = /^&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/;

function checkText(s: string, where: string): string {
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '<') throw new Error(`${where}: raw '<' in text`);
    if (s[i] === '&' && !ENTITY.test(s.slice(i))) throw new Error(`${where}: bad entity at '${s.slice(i, i + 10)}'`);
  }
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

export function parseXml(src: string): XmlElement[] {
  let i = 0;
  const stack: XmlElement[] = [];
  const all: XmlElement[] = [];
  let roots = 0;
  const fail = (msg: string): never => { throw new Error(`${msg} at offset ${i}: '${src.slice(i, i + 30)}'`); };
  if (src.startsWith('<?xml')) {
    const end = src.indexOf('?>');
    if (end < 0) fail('unterminated XML declaration');
    i = end + 2;
  }
  while (i < src.length) {
    if (src[i] !== '<') {
      const next = src.indexOf('<', i);
      const text = src.slice(i, next < 0 ? src.length : next);
      if (stack.length === 0 && text.trim()) fail('text outside the root element');
      const decoded = checkText(text, `text`);
      if (stack.length) stack.at(-1)!.text += decoded;
      i = next < 0 ? src.length : next;
      continue;
    }
    if (src.startsWith('<!--', i)) {
      const end = src.indexOf('-->', i);
      if (end < 0) fail('unterminated comment');
      i = end + 3;
      continue;
    }
    if (src[i + 1] === '/') {
      const m = NAME.exec(src.slice(i + 2));
      if (!m) fail('bad closing tag');
      const open = stack.pop();
      if (!open || open.name !== m![0]) fail(`closing </${m![0]}> does not match <${open?.name ?? 'nothing'}>`);
      i += 2 + m![0].length;
      while (/\s/.test(src[i]!)) i++;
      if (src[i] !== '>') fail('bad closing tag');
      i++;
      continue;
    }
    const m = NAME.exec(src.slice(i + 1));
    if (!m) fail('bad tag name');
    const el: XmlElement = { name: m![0], attrs: {}, text: '' };
    if (stack.length === 0 && ++roots > 1) fail('second root element');
    i += 1 + m![0].length;
    for (;;) {
      const ws = /^\s*/.exec(src.slice(i))![0].length;
      i += ws;
      if (src.startsWith('/>', i)) { i += 2; all.push(el); break; }
      if (src[i] === '>') { i++; all.push(el); stack.push(el); break; }
      if (!ws) fail('attributes must be separated by white space');
      const a = /^([A-Za-z_:][\w.:-]*)\s*=\s*(["'])/.exec(src.slice(i));
      if (!a) fail('bad attribute');
      const end = src.indexOf(a![2]!, i + a![0].length);
      if (end < 0) fail('unterminated attribute value');
      if (a![1]! in el.attrs) fail(`duplicate attribute ${a![1]}`);
      el.attrs[a![1]!] = checkText(src.slice(i + a![0].length, end), `attribute ${a![1]}`);
      i = end + 1;
    }
  }
  if (stack.length) throw new Error(`unclosed <${stack.at(-1)!.name}>`);
  if (roots !== 1) throw new Error('no root element');
  return all;
}
