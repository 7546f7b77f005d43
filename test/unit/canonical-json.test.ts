// canonicalJson(): the Idempotency-Key fingerprint input: sorted keys, and the bytes fingerprints were stored with.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, fingerprint } from '../../src/http/idempotency.js';
import { bulkBody } from '../helpers/bodies.js';

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
    fc.array(tie('value')),
    fc.dictionary(text, tie('value')),
  ),
})).value;

describe('canonicalJson', () => {
  it('sorts keys at every level', () => {
    expect(canonicalJson({ b: [{ d: 1, c: '"' }], a: null })).toBe('{"a":null,"b":[{"c":"\\"","d":1}]}');
  });

  it('keeps the fingerprints stored before it was simplified (the same bytes as the hand-tuned writer)', () => {
    expect(fingerprint(bulkBody(3, { cc: true }))).toBe('CL6xGQu8-YqOxxiy3V_eDEcnIVMTtnQc0og1LFWGOH0');
    // biome-ignore lint/suspicious/noSparseArray: a hole is written as Array.prototype.join leaves it
    expect(canonicalJson({ z: ['é\u2028', , undefined, 1.5e300], a: { y: '"\\', x: null } })).toBe(
      '{"a":{"x":null,"y":"\\"\\\\"},"z":["é\u2028",,null,1.5e+300]}',
    );
  });

  it('is JSON of the same value, whatever the key order', () => {
    fc.assert(
      fc.property(json, (value) => {
        const text = canonicalJson(value);
        const parsed = JSON.parse(text);
        expect(parsed).toEqual(JSON.parse(JSON.stringify(value)));
        expect(canonicalJson(reversed(parsed))).toBe(text);
      }),
      { numRuns: 5_000 },
    );
  });
});

/** The same value with every object's keys in reverse order. */
function reversed(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(reversed);
  return Object.fromEntries(
    Object.keys(value)
      .reverse()
      .map((k) => [k, reversed((value as Record<string, unknown>)[k])]),
  );
}
