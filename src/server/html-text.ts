// Splits HTML into markup and text nodes so only text is translated (format "html"); the markup is kept byte for byte.
//
// No HTML parser is among the dependencies, and translation needs no tree: only where text starts and ends. This
// tokenizer finds tags (quoted attribute values may hold `>`), comments, doctypes, and the raw-text elements
// (script, style) whose content is never text to translate; everything else between tags is a text node.

export interface HtmlPiece {
  /** `text` pieces are decoded text to translate; `markup` pieces are copied as they are. */
  kind: 'markup' | 'text';
  value: string;
}

const RAW_TEXT = new Set(['script', 'style']);
const TAG_START = /[A-Za-z/!?]/;

/** End of the tag starting at `at` (index after its `>`), skipping quoted attribute values; the text's end if unclosed. */
function tagEnd(html: string, at: number): number {
  let quote = '';
  for (let i = at + 1; i < html.length; i++) {
    const c = html[i];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '>') return i + 1;
  }
  return html.length;
}

export function splitHtml(html: string): HtmlPiece[] {
  const pieces: HtmlPiece[] = [];
  let text = '';
  const markup = (value: string) => {
    if (text) pieces.push({ kind: 'text', value: decodeEntities(text) });
    text = '';
    pieces.push({ kind: 'markup', value });
  };
  let i = 0;
  while (i < html.length) {
    if (html[i] !== '<' || !TAG_START.test(html[i + 1] ?? '')) {
      text += html[i++];
      continue;
    }
    if (html.startsWith('<!--', i)) {
      const close = html.indexOf('-->', i + 4);
      const end = close < 0 ? html.length : close + 3;
      markup(html.slice(i, end));
      i = end;
      continue;
    }
    const end = tagEnd(html, i);
    const tag = html.slice(i, end);
    const name = /^<([A-Za-z][\w-]*)/.exec(tag)?.[1]?.toLowerCase();
    if (name && RAW_TEXT.has(name) && !tag.endsWith('/>')) {
      // Raw text runs to the matching close tag, whatever it contains.
      const close = html.toLowerCase().indexOf(`</${name}`, end);
      const stop = close < 0 ? html.length : tagEnd(html, close);
      markup(html.slice(i, stop));
      i = stop;
      continue;
    }
    markup(tag);
    i = end;
  }
  if (text) pieces.push({ kind: 'text', value: decodeEntities(text) });
  return pieces;
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, body: string) => {
    if (body[0] === '#') {
      const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED[body.toLowerCase()] ?? whole;
  });
}

export function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\u00a0/g, '&nbsp;');
}

/** Whether a text node holds something to translate (letters), not only spaces, digits or punctuation. */
export function isTranslatable(text: string): boolean {
  return /\p{L}/u.test(text);
}
