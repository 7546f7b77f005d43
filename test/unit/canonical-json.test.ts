// canonicalJson(): the Idempotency-Key fingerprint input, unchanged by its faster writer (stored fingerprints must still match).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/http/idempotency.js';

/** The first implementation, kept as the reference: fingerprints stored before the rewrite must still match. */
function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  const keys = Object.keys(value).sort();
  const obj = value as Record<string, unknown>;
  return `{${keys.map((k) => `${JSON.stringify(k)}:${reference(obj[k])}`).join(',')}}`;
}

const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom(
    '"',
    '\\',
    '\u2028',
    '\ud800',
    '\udc00x',
    '\u{1F600}',
    '\u007f',
    '\u001f',
    '\n',
    '',
    '__proto__',
    '10',
    '9',
  ),
);
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    text,
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.array(tie('value')),
    fc.dictionary(text, tie('value')),
  ),
})).value;

describe('canonicalJson', () => {
  it('sorts keys at every level', () => {
    expect(canonicalJson({ b: [{ d: 1, c: '"' }], a: null })).toBe('{"a":null,"b":[{"c":"\\"","d":1}]}');
  });

  it('writes what the reference writes, for JSON-like values and anything else', () => {
    fc.assert(
      fc.property(json, (value) => canonicalJson(value) === reference(value)),
      { numRuns: 20_000 },
    );
    fc.assert(
      fc.property(
        fc.anything({ withSparseArray: true, withDate: true, withNullPrototype: true, withBoxedValues: true }),
        (value) => {
          return canonicalJson(value) === reference(value);
        },
      ),
      { numRuns: 5_000 },
    );
  });
});
