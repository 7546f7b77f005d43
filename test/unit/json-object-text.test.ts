// isJsonObjectText(): never true where JSON.parse would fail or give a non-object, and true for ordinary objects.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isJsonObjectText } from '../../src/validation/json-object-text.js';

function parsesToObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

/** Characters that matter to the JSON grammar, so that random strings often come close to JSON. */
const JSONISH = [...'{}[]:,"\\/ \t\r\n0123456789-+.eEtrufalsnbu\u0000\u001f\u2028\uFEFFaA'];

/** A JSON text with one character inserted, deleted or replaced. */
const mutated = fc
  .tuple(
    fc.json({ maxDepth: 4 }),
    fc.nat(),
    fc.constantFrom('insert', 'delete', 'replace'),
    fc.constantFrom(...JSONISH),
  )
  .map(([text, at, how, ch]) => {
    const i = text.length === 0 ? 0 : at % text.length;
    if (how === 'insert') return text.slice(0, i) + ch + text.slice(i);
    if (how === 'delete') return text.slice(0, i) + text.slice(i + 1);
    return text.slice(0, i) + ch + text.slice(i + 1);
  });

describe('isJsonObjectText', () => {
  it('is never true for a text JSON.parse refuses or that is not an object (random, near-JSON and mutated texts)', () => {
    const texts = fc.oneof(
      fc.json({ maxDepth: 5 }),
      mutated,
      fc.array(fc.constantFrom(...JSONISH), { maxLength: 40 }).map((chars) => chars.join('')),
      fc.array(fc.constantFrom(...JSONISH), { maxLength: 40 }).map((chars) => `{${chars.join('')}}`),
      fc.string(),
    );
    fc.assert(
      fc.property(texts, (text) => {
        if (isJsonObjectText(text)) expect(parsesToObject(text)).toBe(true);
      }),
      { numRuns: 20_000 },
    );
  });

  it('is true for every JSON object of ordinary depth, compact or indented', () => {
    const objects = fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 6 }));
    fc.assert(
      fc.property(objects, fc.constantFrom(undefined, 2, '\t'), (value, indent) => {
        expect(isJsonObjectText(JSON.stringify(value, null, indent))).toBe(true);
      }),
      { numRuns: 5_000 },
    );
  });

  it.each([
    ['{}', true],
    [' \t\r\n{ "a" : 1 } \n', true],
    ['{"a":[1,{"b":null},[],{}],"c":{"d":[true,false]}}', true],
    ['{"n":-0,"m":1.5e+10,"k":2E-3,"z":0}', true],
    ['{"s":"\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\uD83D"}', true],
    ['{"__proto__":{"x":1},"a":1,"a":2}', true],
    ['', false],
    ['[]', false],
    ['null', false],
    ['"{}"', false],
    ['{', false],
    ['{"a":1,}', false],
    ['{,"a":1}', false],
    ['{"a":[1,]}', false],
    ['{"a" 1}', false],
    ["{'a':1}", false],
    ['{a:1}', false],
    ['{"a":01}', false],
    ['{"a":1.}', false],
    ['{"a":.5}', false],
    ['{"a":1e}', false],
    ['{"a":+1}', false],
    ['{"a":-}', false],
    ['{"a":tru}', false],
    ['{"a":nul}', false],
    ['{"a":"\u0001"}', false],
    ['{"a":"\\x"}', false],
    ['{"a":"\\u12G4"}', false],
    ['{"a":"open}', false],
    ['{"a":1}{}', false],
    ['{"a":1} x', false],
    ['\uFEFF{}', false],
    ['{"a":[}', false],
    ['{"a":{]}', false],
  ])('%j → %s, as JSON.parse decides', (text, expected) => {
    expect(isJsonObjectText(text)).toBe(expected);
    expect(parsesToObject(text)).toBe(expected);
  });

  it('leaves more than 31 containers inside the object to JSON.parse (false, never a wrong true)', () => {
    const deep = (levels: number) => `{"a":${'['.repeat(levels)}${']'.repeat(levels)}}`;
    expect(isJsonObjectText(deep(31))).toBe(true);
    expect(isJsonObjectText(deep(32))).toBe(false);
    expect(parsesToObject(deep(32))).toBe(true);
    expect(isJsonObjectText(deep(100_000))).toBe(false);
  });
});
