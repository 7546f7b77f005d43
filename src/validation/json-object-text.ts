// isJsonObjectText(): a fast, allocation-free check that a string is one JSON object, for template data.

// Character codes.
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/** Deeper nesting inside the object is left to JSON.parse (the caller's slow path): the stack is a 32-bit mask. */
const MAX_DEPTH = 31;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Index of the first non-space character at or after `i`. */
function skipSpaces(s: string, i: number): number {
  let j = i;
  while (j < s.length && isSpace(s.charCodeAt(j))) j++;
  return j;
}

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

function isHex(c: number): boolean {
  return (c >= ZERO && c <= NINE) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** Index just past the string that opens at `i` (a quote), or -1 if it is not a valid JSON string. */
function skipString(s: string, i: number): number {
  const n = s.length;
  for (let j = i + 1; j < n; j++) {
    const c = s.charCodeAt(j);
    if (c === QUOTE) return j + 1;
    if (c < 0x20) return -1;
    if (c === BACKSLASH) {
      const e = s.charCodeAt(++j);
      if (e === 0x75) {
        // \uXXXX
        for (let k = 1; k <= 4; k++) if (!isHex(s.charCodeAt(j + k))) return -1;
        j += 4;
      } else if (
        e !== QUOTE &&
        e !== BACKSLASH &&
        e !== 0x2f && // /
        e !== 0x62 && // b
        e !== 0x66 && // f
        e !== 0x6e && // n
        e !== 0x72 && // r
        e !== 0x74 // t
      ) {
        return -1;
      }
    }
  }
  return -1;
}

/** Index just past the number that starts at `i`, or -1 (RFC 8259: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?). */
function skipNumber(s: string, i: number): number {
  let j = i;
  if (s.charCodeAt(j) === MINUS) j++;
  const first = s.charCodeAt(j);
  if (first === ZERO) j++;
  else if (first > ZERO && first <= NINE) {
    j++;
    while (isDigit(s.charCodeAt(j))) j++;
  } else return -1;
  if (s.charCodeAt(j) === DOT) {
    j++;
    if (!isDigit(s.charCodeAt(j))) return -1;
    while (isDigit(s.charCodeAt(j))) j++;
  }
  const e = s.charCodeAt(j);
  if (e === 0x65 || e === 0x45) {
    j++;
    const sign = s.charCodeAt(j);
    if (sign === PLUS || sign === MINUS) j++;
    if (!isDigit(s.charCodeAt(j))) return -1;
    while (isDigit(s.charCodeAt(j))) j++;
  }
  return j;
}

/** Index just past `word` if it is at `i`, else -1. */
function skipWord(s: string, i: number, word: string): number {
  return s.startsWith(word, i) ? i + word.length : -1;
}

/**
 * True only if `JSON.parse(s)` would return a plain object (not an array, not null). It may answer false for some
 * such strings (more than 31 containers nested inside the object); callers then fall back to JSON.parse, so false
 * never refuses anything by itself. Allocates nothing: it lets the validator check thousands of
 * `ReplacementTemplateData` strings without building the objects that nobody reads when the defaults already cover
 * the template.
 */
export function isJsonObjectText(s: string): boolean {
  let i = skipSpaces(s, 0);
  if (s.charCodeAt(i) !== OPEN_BRACE) return false;
  // Bit d of `arrays` is set when the container at depth d is an array; depth 0 is the top-level object.
  let arrays = 0;
  let depth = 0;
  i++;
  // Expecting a member (a key and value in an object, a value in an array), or, right after `{` or `[`, its end.
  let expectMember = true;
  let allowClose = true;
  for (;;) {
    i = skipSpaces(s, i);
    const inArray = (arrays & (1 << depth)) !== 0;
    const close = inArray ? CLOSE_BRACKET : CLOSE_BRACE;
    let c = s.charCodeAt(i);
    if (expectMember && !(allowClose && c === close)) {
      if (!inArray) {
        // key ':'
        if (c !== QUOTE) return false;
        i = skipString(s, i);
        if (i < 0) return false;
        i = skipSpaces(s, i);
        if (s.charCodeAt(i) !== COLON) return false;
        i = skipSpaces(s, i + 1);
        c = s.charCodeAt(i);
      }
      // a value
      if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (depth === MAX_DEPTH) return false;
        depth++;
        if (c === OPEN_BRACKET) arrays |= 1 << depth;
        i++;
        allowClose = true;
        continue;
      }
      if (c === QUOTE) i = skipString(s, i);
      else if (c === MINUS || isDigit(c)) i = skipNumber(s, i);
      else if (c === 0x74) i = skipWord(s, i, 'true');
      else if (c === 0x66) i = skipWord(s, i, 'false');
      else if (c === 0x6e) i = skipWord(s, i, 'null');
      else return false;
      if (i < 0) return false;
      expectMember = false;
      continue;
    }
    // after a member (or an empty container): ',' or the container's end
    if (c === COMMA && !expectMember) {
      i++;
      expectMember = true;
      allowClose = false;
      continue;
    }
    if (c !== close) return false;
    i++;
    expectMember = false;
    if (depth === 0) break;
    arrays &= ~(1 << depth);
    depth--;
  }
  return skipSpaces(s, i) === s.length;
}
