// The validator's whole-body fast path: same answers as the detailed path at its edges, and the template data it hands on.
import { describe, expect, it } from 'vitest';
import { parsedTemplateData } from '../../src/validation/semantic-checks.js';
import { createValidator } from '../../src/validation/validator.js';

const validator = createValidator();
const ASTRAL = '\u{1F600}'; // one code point, two UTF-16 units

function body(
  template: Record<string, unknown>,
  entries: unknown[] = [{ Destination: { ToAddresses: ['a@example.com'] } }],
) {
  return { FromEmailAddress: 'from@example.com', DefaultContent: { Template: template }, BulkEmailEntries: entries };
}

describe('validator fast path', () => {
  it('counts code points, not UTF-16 units, at a maxLength (the fast check counts units, then defers)', () => {
    expect(validator(body({ TemplateName: ASTRAL.repeat(256) }))).toEqual([]);
    expect(validator(body({ TemplateName: ASTRAL.repeat(257) }))).toEqual([
      { path: '/DefaultContent/Template/TemplateName', message: 'must be at most 256 characters long (got 257)' },
    ]);
    const tagged = { Name: 'tag', Value: 'v' };
    const entry = (name: string) => ({
      Destination: { ToAddresses: ['a@example.com'] },
      ReplacementTags: [{ ...tagged, Name: name }],
    });
    expect(validator(body({ TemplateName: 't' }, [entry('a'.repeat(256))]))).toEqual([]);
    expect(validator(body({ TemplateName: 't' }, [entry('a'.repeat(257))]))).toEqual([
      { path: '/BulkEmailEntries/0/ReplacementTags/0/Name', message: 'must be at most 256 characters long (got 257)' },
    ]);
  });

  it('still refuses empty strings where minLength is 1, astral or not', () => {
    expect(validator(body({ TemplateName: '' }))).toEqual([
      { path: '/DefaultContent/Template/TemplateName', message: 'must not be empty' },
    ]);
    expect(validator(body({ TemplateName: ASTRAL }))).toEqual([]);
  });

  it('reports semantic problems of a schema-valid body, in entry order', () => {
    const entries = [
      { Destination: { ToAddresses: ['a@example.com'] } },
      {
        Destination: { ToAddresses: ['b@example.com'] },
        ReplacementEmailContent: { ReplacementTemplate: { ReplacementTemplateData: '[1]' } },
      },
      { Destination: {} },
    ];
    expect(validator(body({ TemplateName: 't', TemplateData: 'nope' }, entries))).toEqual([
      {
        path: '/DefaultContent/Template/TemplateData',
        message: 'must be a JSON object serialized as a string (it is not valid JSON)',
      },
      {
        path: '/BulkEmailEntries/1/ReplacementEmailContent/ReplacementTemplate/ReplacementTemplateData',
        message: 'must be a JSON object serialized as a string (got an array)',
      },
      {
        path: '/BulkEmailEntries/2/Destination',
        message: 'must have at least 1 recipient in ToAddresses, CcAddresses or BccAddresses',
      },
    ]);
  });

  it('hands on the TemplateData it parsed and the entry texts it found to be objects (scanned, not parsed)', () => {
    const data = (text: string) => ({
      Destination: { ToAddresses: ['a@example.com'] },
      ReplacementEmailContent: { ReplacementTemplate: { ReplacementTemplateData: text } },
    });
    const entries = [data('{"name":"A"}'), { Destination: { ToAddresses: ['b@example.com'] } }, data('{"name":"C"}')];
    const request = body({ TemplateName: 't', TemplateData: '{"name":"default"}' }, entries);
    const parsed = parsedTemplateData();
    expect(validator(request, { parsed })).toEqual([]);
    expect(parsed.defaults).toEqual({ text: '{"name":"default"}', value: { name: 'default' } });
    expect(parsed.objects[0]).toBe('{"name":"A"}');
    expect(1 in parsed.objects).toBe(false);
    expect(parsed.objects[2]).toBe('{"name":"C"}');

    const bad = parsedTemplateData();
    const problems = validator(body({ TemplateName: 't', TemplateData: '[]' }, [data('null'), data('{"a":1,}')]), {
      parsed: bad,
    });
    expect(bad).toEqual({ objects: [] });
    expect(problems.map((p) => p.message)).toEqual([
      'must be a JSON object serialized as a string (got an array)',
      'must be a JSON object serialized as a string (got null)',
      'must be a JSON object serialized as a string (it is not valid JSON)',
    ]);
  });
});
