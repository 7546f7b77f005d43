// Splits Handlebars-style template source into its mustache tags and parses each tag's expression (no dependency).

/** A path as written: `name`, `contact.firstName`, `this.x`, `../x`, `@root.x`, `@index`, `list.[0]`. */
export interface PathExpr {
  type: 'path';
  /** `@`-prefixed data variable (`@index`, `@root.x`). */
  data: boolean;
  /** How many `../` lead the path. */
  up: number;
  /** Starts with `this` or `.`. */
  explicitThis: boolean;
  /** Segments after `this`/`../`, e.g. `['contact', 'firstName']`; empty for `this`. */
  parts: string[];
  original: string;
}

export interface LiteralExpr {
  type: 'literal';
  value: string | number | boolean | null | undefined;
  original: string;
}

export interface SubExpr {
  type: 'sexpr';
  call: Call;
}

export type Param = PathExpr | LiteralExpr | SubExpr;

/** `head param… key=value… as |a b|`: the inside of a tag or of a `( … )` subexpression. */
export interface Call {
  head: Param;
  params: Param[];
  hash: { key: string; value: Param }[];
  blockParams: string[];
}

export type TagKind =
  | 'comment'
  | 'mustache' // {{x}} and {{&x}}
  | 'triple' // {{{x}}}
  | 'open' // {{#x}}
  | 'inverse-open' // {{^x}}
  | 'else' // {{else}}, {{^}}, {{else if y}}
  | 'close' // {{/x}}
  | 'partial' // {{> p}}
  | 'partial-block' // {{#> p}}
  | 'decorator' // {{* d}}
  | 'decorator-block' // {{#* inline "p"}}
  | 'raw' // {{{{raw}}}} … {{{{/raw}}}}
  | 'error';

export interface Tag {
  kind: TagKind;
  /** The tag as written, e.g. `{{#if premium}}`. */
  source: string;
  offset: number;
  /** Parsed expression (absent for comments, `{{else}}` alone, raw blocks and errors). */
  call?: Call;
  /** For `close` tags: the name being closed. For `error`: what is wrong. */
  text?: string;
}

class ParseError extends Error {}

/** Characters Handlebars does not allow in an identifier (its lexer's ID rule). */
const NOT_ID = new Set(Array.from(' \t\r\n\f\v!"#%&\'()*+,./;<=>@[\\]^`{|}~'));

function isSpace(c: string | undefined): boolean {
  return (
    c !== undefined &&
    (c === ' ' || c === '\n' || c === '\t' || c === '\r' || (c > '~' && /\s/.test(c)) || c === '\f' || c === '\v')
  );
}

function isIdChar(c: string | undefined): boolean {
  return c !== undefined && !NOT_ID.has(c) && !isSpace(c);
}

/** Reads a tag body from `p` up to its close (`}}`, or `}}}` for a triple), skipping quotes and `[…]` segments. */
function readBody(src: string, p: number, triple: boolean): { body: string; end: number } | undefined {
  let i = p;
  while (i < src.length) {
    const c = src[i];
    if (c === '"' || c === "'") {
      i++;
      while (i < src.length && src[i] !== c) i += src[i] === '\\' ? 2 : 1;
      i++;
      continue;
    }
    if (c === '[') {
      const close = src.indexOf(']', i + 1);
      if (close < 0) return undefined;
      i = close + 1;
      continue;
    }
    if (triple) {
      // {{{x}}} or {{{x}~}}
      if (src.startsWith('}}}', i)) return { body: src.slice(p, i), end: i + 3 };
      if (src.startsWith('}~}}', i)) return { body: src.slice(p, i), end: i + 4 };
    } else {
      if (src.startsWith('}}', i)) return { body: src.slice(p, i), end: i + 2 };
      if (c === '~' && src.startsWith('}}', i + 1)) return { body: src.slice(p, i), end: i + 3 };
    }
    i++;
  }
  return undefined;
}

/** Parses the inside of one tag (`if premium`, `name`, `lookup a b`, `> p ctx k=v`). */
export function parseCall(text: string): Call {
  // sticky, so they match at i without slicing; local, since lastIndex is state
  const NUMBER = /-?[0-9]+(?:\.[0-9]+)?/y;
  const BLOCK_PARAMS = /as\s+\|/y;
  const HASH_KEY = /([^\s!"#%&'()*+,./;<=>@[\\\]^`{|}~]+)\s*=/y;
  let i = 0;
  const ws = () => {
    while (i < text.length && isSpace(text[i])) i++;
  };
  const atDelimiter = (j: number) => {
    const c = text[j];
    return c === undefined || c === ')' || c === '=' || c === '|' || isSpace(c);
  };

  function readSegment(): string {
    if (text[i] === '[') {
      const close = text.indexOf(']', i + 1);
      if (close < 0) throw new ParseError('unterminated [ segment');
      const seg = text.slice(i + 1, close);
      i = close + 1;
      return seg;
    }
    const start = i;
    while (isIdChar(text[i])) i++;
    if (i === start) throw new ParseError(`unexpected "${text[i] ?? 'end'}"`);
    return text.slice(start, i);
  }

  function readPath(): PathExpr {
    const start = i;
    const path: PathExpr = { type: 'path', data: false, up: 0, explicitThis: false, parts: [], original: '' };
    if (text[i] === '@') {
      path.data = true;
      i++;
    }
    // leading ../ ./ this
    for (;;) {
      if (text.startsWith('..', i) && (text[i + 2] === '/' || text[i + 2] === '.' || atDelimiter(i + 2))) {
        path.up++;
        i += 2;
        if (text[i] === '/' || text[i] === '.') i++;
        else break;
        continue;
      }
      if (path.up === 0 && !path.explicitThis && text[i] === '.' && (text[i + 1] === '/' || atDelimiter(i + 1))) {
        path.explicitThis = true;
        i++;
        if (text[i] === '/') i++;
        else break;
        continue;
      }
      if (path.up === 0 && !path.explicitThis && text.startsWith('this', i) && !isIdChar(text[i + 4])) {
        path.explicitThis = true;
        i += 4;
        if (text[i] === '.' || text[i] === '/') i++;
        else break;
        continue;
      }
      break;
    }
    if (!atDelimiter(i)) {
      for (;;) {
        path.parts.push(readSegment());
        if ((text[i] === '.' || text[i] === '/') && !atDelimiter(i + 1)) {
          i++;
          continue;
        }
        break;
      }
    }
    if (!atDelimiter(i)) throw new ParseError(`unexpected "${text[i]}" in a path`);
    path.original = text.slice(start, i);
    if (path.parts.length === 0 && !path.explicitThis && path.up === 0) throw new ParseError('empty path');
    return path;
  }

  function readParam(): Param {
    const c = text[i];
    if (c === '(') {
      i++;
      const call = readCall(true);
      if (text[i] !== ')') throw new ParseError('unclosed (');
      i++;
      return { type: 'sexpr', call };
    }
    if (c === '"' || c === "'") {
      const start = i;
      let value = '';
      i++;
      while (i < text.length && text[i] !== c) {
        if (text[i] === '\\' && text[i + 1] === c) i++;
        value += text[i++];
      }
      if (i >= text.length) throw new ParseError('unterminated string');
      i++;
      return { type: 'literal', value, original: text.slice(start, i) };
    }
    NUMBER.lastIndex = i;
    const num = NUMBER.exec(text);
    if (num && atDelimiter(i + num[0].length)) {
      i += num[0].length;
      return { type: 'literal', value: Number(num[0]), original: num[0] };
    }
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
      ['undefined', undefined],
    ] as const) {
      if (text.startsWith(word, i) && atDelimiter(i + word.length)) {
        i += word.length;
        return { type: 'literal', value, original: word };
      }
    }
    return readPath();
  }

  function readCall(nested: boolean): Call {
    ws();
    const head = readParam();
    const call: Call = { head, params: [], hash: [], blockParams: [] };
    for (;;) {
      ws();
      if (i >= text.length || (nested && text[i] === ')')) break;
      BLOCK_PARAMS.lastIndex = i;
      if (!nested && BLOCK_PARAMS.test(text)) {
        i = text.indexOf('|', i) + 1;
        const close = text.indexOf('|', i);
        if (close < 0) throw new ParseError('unclosed block params');
        call.blockParams = text.slice(i, close).trim().split(/\s+/).filter(Boolean);
        i = close + 1;
        continue;
      }
      HASH_KEY.lastIndex = i;
      const key = HASH_KEY.exec(text);
      if (key) {
        i += key[0].length;
        ws();
        call.hash.push({ key: key[1], value: readParam() });
        continue;
      }
      if (call.hash.length) throw new ParseError('a positional parameter after a hash parameter');
      call.params.push(readParam());
    }
    return call;
  }

  const call = readCall(false);
  ws();
  if (i < text.length) throw new ParseError(`unexpected "${text[i]}"`);
  return call;
}

/**
 * Every tag in `src`, in order, as Handlebars' lexer sees them: `\{{` escapes a tag (`\\{{` does not),
 * `{{!-- --}}` comments may contain `}}`, strings and `[…]` segments may contain `}}`.
 */
export function scanTags(src: string): Tag[] {
  const tags: Tag[] = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) break;
    if (open > i && src[open - 1] === '\\' && !(open - 1 > i && src[open - 2] === '\\')) {
      i = open + 2; // escaped: literal text up to the next {{
      continue;
    }
    const tag = readTag(src, open);
    tags.push(tag);
    if (tag.kind === 'error') break; // Handlebars would stop here too
    i = tag.offset + tag.source.length;
  }
  return tags;
}

function readTag(src: string, open: number): Tag {
  const error = (text: string, length = 40): Tag => ({
    kind: 'error',
    source: src.slice(open, open + length).split('\n')[0],
    offset: open,
    text,
  });
  let p = open + 2;
  if (src.startsWith('{{', p)) {
    const headEnd = src.indexOf('}}}}', p);
    if (headEnd < 0) return error('unterminated {{{{ raw block');
    const name = src
      .slice(p + 2, headEnd)
      .trim()
      .split(/\s+/)[0];
    const closeTag = `{{{{/${name}}}}}`;
    const end = src.indexOf(closeTag, headEnd + 4);
    if (end < 0) return error(`raw block {{{{${name}}}}} is never closed`, headEnd + 4 - open);
    return { kind: 'raw', source: src.slice(open, end + closeTag.length), offset: open, text: name };
  }
  if (src[p] === '~') p++;
  if (src.startsWith('!--', p)) {
    const m = /--~?\}\}/g;
    m.lastIndex = p + 3;
    const found = m.exec(src);
    if (!found) return error('unterminated {{!-- comment');
    return { kind: 'comment', source: src.slice(open, found.index + found[0].length), offset: open };
  }
  if (src[p] === '!') {
    const end = src.indexOf('}}', p);
    if (end < 0) return error('unterminated {{! comment');
    return { kind: 'comment', source: src.slice(open, end + 2), offset: open };
  }
  const triple = src[p] === '{';
  if (triple) p++;
  const read = readBody(src, p, triple);
  if (!read) return error(`unterminated ${triple ? '{{{' : '{{'}`);
  const source = src.slice(open, read.end);
  let body = read.body;
  let kind: TagKind;
  if (triple) kind = 'triple';
  else if (body.startsWith('#>')) [kind, body] = ['partial-block', body.slice(2)];
  else if (body.startsWith('#*')) [kind, body] = ['decorator-block', body.slice(2)];
  else if (body.startsWith('#')) [kind, body] = ['open', body.slice(1)];
  else if (body.startsWith('/')) [kind, body] = ['close', body.slice(1)];
  else if (body.startsWith('^'))
    [kind, body] = body.slice(1).trim() === '' ? ['else', ''] : ['inverse-open', body.slice(1)];
  else if (body.startsWith('>')) [kind, body] = ['partial', body.slice(1)];
  else if (body.startsWith('&')) [kind, body] = ['mustache', body.slice(1)];
  else if (body.startsWith('*')) [kind, body] = ['decorator', body.slice(1)];
  else if (/^\s*else(?=$|[\s~}])/.test(body)) [kind, body] = ['else', body.replace(/^\s*else/, '')];
  else kind = 'mustache';
  if (kind === 'close') return { kind, source, offset: open, text: body.trim() };
  if (kind === 'else' && body.trim() === '') return { kind, source, offset: open };
  try {
    return { kind, source, offset: open, call: parseCall(body) };
  } catch (err) {
    return { kind: 'error', source, offset: open, text: err instanceof ParseError ? err.message : String(err) };
  }
}
