// missingVariables() from raw JSON strings: per-key deep merge (emulator) vs whole-object fallback (SES docs), and what counts as present.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { missingVariables, parseTemplateData } from '../../src/render/template-data.js';
import { templateVariables, type VariableRef } from '../../src/render/template-variables.js';

function required(source: string): VariableRef[] {
  return templateVariables({ Text: source }, { inline: false }).variables.filter((v) => v.required);
}

/** The variables one entry lacks, from its raw data strings; a TypeError for data that is not a JSON object. */
function checkEntryData(
  refs: readonly VariableRef[],
  defaultData: string | undefined,
  entryData: string | undefined,
  options: { merge: boolean },
): string[] {
  const defaults = parseTemplateData(defaultData, 'TemplateData');
  if (defaults instanceof Error) throw new TypeError(defaults.message);
  const entry = parseTemplateData(entryData, 'ReplacementTemplateData');
  if (entry instanceof Error) throw new TypeError(entry.message);
  return missingVariables(refs, defaults, entry, options.merge);
}

const merge = { merge: true };
const fallback = { merge: false };

describe('checkEntryData', () => {
  const refs = required('{{name}} {{code}} {{contact.first}} {{contact.last}}');

  it('everything in the entry', () => {
    const entry = JSON.stringify({ name: 'A', code: 'C', contact: { first: 'F', last: 'L' } });
    expect(checkEntryData(refs, undefined, entry, merge)).toEqual([]);
    expect(checkEntryData(refs, undefined, entry, fallback)).toEqual([]);
  });

  it('no entry data: the defaults are used in both modes', () => {
    const defaults = JSON.stringify({ name: 'D', code: 'D0', contact: { first: 'F' } });
    expect(checkEntryData(refs, defaults, undefined, merge)).toEqual(['contact.last']);
    expect(checkEntryData(refs, defaults, undefined, fallback)).toEqual(['contact.last']);
    expect(checkEntryData(refs, defaults, '', fallback)).toEqual(['contact.last']);
  });

  it('merge: missing keys come from the defaults, recursively through objects', () => {
    const defaults = JSON.stringify({ code: 'D0', contact: { first: 'DF', last: 'DL' } });
    const entry = JSON.stringify({ name: 'Bob', contact: { first: 'Bob' } });
    expect(checkEntryData(refs, defaults, entry, merge)).toEqual([]);
  });

  it('fallback: an entry with data replaces the defaults as a whole', () => {
    const defaults = JSON.stringify({ code: 'D0', contact: { first: 'DF', last: 'DL' } });
    const entry = JSON.stringify({ name: 'Bob', contact: { first: 'Bob' } });
    expect(checkEntryData(refs, defaults, entry, fallback)).toEqual(['code', 'contact.last']);
  });

  it('fallback: "{}" counts as no data, so the defaults apply', () => {
    const defaults = JSON.stringify({ name: 'D', code: 'D0', contact: { first: 'F', last: 'L' } });
    expect(checkEntryData(refs, defaults, '{}', fallback)).toEqual([]);
    expect(checkEntryData(refs, defaults, '{}', merge)).toEqual([]);
  });

  it('merge: a non-object in the entry replaces a default object whole', () => {
    const r = required('{{contact.first}}');
    const defaults = JSON.stringify({ contact: { first: 'F' } });
    expect(checkEntryData(r, defaults, JSON.stringify({ contact: 'someone' }), merge)).toEqual(['contact.first']);
    expect(checkEntryData(r, defaults, JSON.stringify({ contact: null }), merge)).toEqual(['contact.first']);
    expect(checkEntryData(r, defaults, JSON.stringify({ contact: ['x'] }), merge)).toEqual(['contact.first']);
  });

  it('merge: arrays are replaced whole, not merged by index', () => {
    const r = required('{{list.[1]}}');
    const defaults = JSON.stringify({ list: ['a', 'b'] });
    expect(checkEntryData(r, defaults, JSON.stringify({ list: ['only'] }), merge)).toEqual(['list.1']);
    expect(checkEntryData(r, defaults, JSON.stringify({ other: 1 }), merge)).toEqual([]);
  });

  it('merge: an entry object over a default scalar wins whole', () => {
    const r = required('{{a.b}} {{a.c}}');
    expect(checkEntryData(r, JSON.stringify({ a: 'scalar' }), JSON.stringify({ a: { b: 1 } }), merge)).toEqual(['a.c']);
  });

  it('null, "", 0, false, [] and {} are present; undefined (absent) is not', () => {
    const r = required('{{a}}{{b}}{{c}}{{d}}{{e}}{{f}}{{g}}');
    const entry = JSON.stringify({ a: null, b: '', c: 0, d: false, e: [], f: {} });
    expect(checkEntryData(r, undefined, entry, merge)).toEqual(['g']);
  });

  it('reading through a scalar or null is missing', () => {
    const r = required('{{a.length}} {{b.x}} {{c.x}}');
    expect(checkEntryData(r, undefined, JSON.stringify({ a: 'text', b: null, c: 5 }), merge)).toEqual([
      'a.length',
      'b.x',
      'c.x',
    ]);
  });

  it('inherited properties do not count', () => {
    const r = required('{{constructor}} {{toString}}');
    expect(checkEntryData(r, undefined, '{"x":1}', merge)).toEqual(['constructor', 'toString']);
  });

  it('throws a TypeError for data that is not a JSON object', () => {
    expect(() => checkEntryData(refs, '[1]', undefined, merge)).toThrow(TypeError);
    expect(() => checkEntryData(refs, undefined, '{oops', merge)).toThrow(/ReplacementTemplateData is not valid JSON/);
  });

  it('parseTemplateData: absent or empty is no data; only objects are accepted', () => {
    expect(parseTemplateData(undefined)).toBeUndefined();
    expect(parseTemplateData('')).toBeUndefined();
    expect(parseTemplateData('{"a":1}')).toEqual({ a: 1 });
    expect(parseTemplateData('null')).toBeInstanceOf(Error);
    expect(parseTemplateData('"s"')).toBeInstanceOf(Error);
    expect(parseTemplateData('  ')).toBeInstanceOf(Error);
  });
});

describe('merge: true matches the emulator', () => {
  // the emulator's own merge, as its SendBulkEmail applies it
  const requireHere = createRequire(import.meta.url);
  const emulator = createRequire(requireHere.resolve('aws-ses-v2-local'))('./v2/renderTemplate') as {
    mergeTemplateData(d: object, r: object): Record<string, unknown>;
  };
  const r = required('{{a.b.c}} {{a.d}} {{e}} {{f.0}} {{g.h}}');

  it.each([
    [
      { a: { b: { c: 1 } }, e: 1 },
      { a: { d: 2 }, f: [1], g: { h: 1 } },
    ],
    [{ a: { b: 'x' } }, { a: { b: { c: 1 }, d: 1 }, e: 1, f: [], g: {} }],
    [
      { a: null, f: { 0: 'x' } },
      { a: { b: { c: 1 }, d: 1 }, e: 0, g: { h: null } },
    ],
    [{}, { a: { b: { c: 1 }, d: 1 }, e: 0, f: ['z'], g: { h: 1 } }],
    [{ a: [1], e: undefined }, { a: { b: { c: 1 } } }],
  ])('entry %j over defaults %j', (entry, defaults) => {
    const merged = emulator.mergeTemplateData(defaults, entry);
    const expected = r
      .filter((ref) => {
        let v: unknown = merged;
        for (const seg of ref.path) {
          if (typeof v !== 'object' || v === null || !Object.hasOwn(v, seg)) return true;
          v = (v as Record<string, unknown>)[seg];
        }
        return v === undefined;
      })
      .map((ref) => ref.name);
    expect(checkEntryData(r, JSON.stringify(defaults), JSON.stringify(entry), merge)).toEqual(expected);
  });
});
