// renderCheck() with a router's template cache and the validator's parsed data: the same answers as without them.
import { describe, expect, it } from 'vitest';
import { renderCheck } from '../../src/render/render-check.js';
import { templateCache } from '../../src/render/template-cache.js';
import { templateVariables } from '../../src/render/template-variables.js';
import type { BulkEmailEntry, EmailTemplateContent, SendBulkEmailRequest, Template } from '../../src/types.js';
import { parsedTemplateData } from '../../src/validation/semantic-checks.js';
import { createValidator } from '../../src/validation/validator.js';

function entry(data?: unknown): BulkEmailEntry {
  const e: BulkEmailEntry = { Destination: { ToAddresses: ['a@example.com'] } };
  if (data !== undefined) {
    const text = typeof data === 'string' ? data : JSON.stringify(data);
    e.ReplacementEmailContent = { ReplacementTemplate: { ReplacementTemplateData: text } };
  }
  return e;
}

function request(template: Template, entries: BulkEmailEntry[]): SendBulkEmailRequest {
  return { FromEmailAddress: 'from@example.com', DefaultContent: { Template: template }, BulkEmailEntries: entries };
}

const TEMPLATES: EmailTemplateContent[] = [
  { Subject: 'Hi {{name}}', Text: '{{code}}' },
  { Subject: 'Hi {{name}}{{code}}' },
  { Subject: 'Hi {{name}}', Html: '{{#if vip}}{{perk}}{{/if}} {{> footer}}' },
  { Subject: 'Hi', Text: '{{contact.first}} {{#each items}}{{title}}{{/each}}' },
  { Text: '{{name}}', Html: '{{name}' },
];

describe('templateCache', () => {
  it('answers as templateVariables does, for inline and stored templates, and keeps telling templates apart', () => {
    const cached = templateCache({ maxTemplates: 3 });
    for (let round = 0; round < 3; round++) {
      for (const content of TEMPLATES) {
        for (const inline of [true, false]) {
          expect(cached({ ...content }, inline)).toEqual(templateVariables(content, { inline }));
        }
      }
    }
  });

  it('returns a frozen answer, the same object for the same template text', () => {
    const cached = templateCache();
    const first = cached({ Subject: 'Hi {{name}}' }, true);
    expect(cached({ Subject: 'Hi {{name}}' }, true)).toBe(first);
    expect(Object.isFrozen(first.variables[0].path)).toBe(true);
    expect(() => (first.variables as unknown[]).push(1)).toThrow(TypeError);
  });

  it('does not remember templates over maxChars', () => {
    const cached = templateCache({ maxChars: 10 });
    const content = { Subject: 'Hello {{name}}, a long subject' };
    expect(cached(content, true)).not.toBe(cached(content, true));
    expect(cached(content, true)).toEqual(templateVariables(content, { inline: true }));
  });
});

describe('renderCheck with reuse', () => {
  const cases: [string, Template, BulkEmailEntry[]][] = [
    [
      'defaults cover every variable',
      { TemplateContent: TEMPLATES[0], TemplateData: '{"name":"n","code":"c"}' },
      [entry({ name: 'A' }), entry({}), entry(), entry('{bad'), entry({ name: null })],
    ],
    [
      'defaults cover some',
      { TemplateContent: TEMPLATES[0], TemplateData: '{"name":"n"}' },
      [entry({ code: 'A' }), entry({ name: 'x' }), entry()],
    ],
    [
      'nested variable, entry data can hide it',
      { TemplateContent: TEMPLATES[3], TemplateData: '{"contact":{"first":"F"},"items":[]}' },
      [entry({ contact: 'x' }), entry({ contact: { last: 'L' } }), entry({ items: null })],
    ],
  ];
  for (const [name, template, entries] of cases) {
    for (const merge of [true, false]) {
      for (const mode of ['strict', 'permissive'] as const) {
        it(`${name} (merge ${merge}, ${mode})`, async () => {
          const req = request(template, entries);
          const plain = await renderCheck(req, { mode, merge });
          const parsed = parsedTemplateData();
          createValidator()(req, { parsed });
          const reused = await renderCheck(req, { mode, merge, parsed, variablesOf: templateCache() });
          expect(reused).toEqual(plain);
        });
      }
    }
  }

  it('parses again when the text changed after validation (a hook may rewrite the request)', async () => {
    const req = request({ TemplateContent: TEMPLATES[0] }, [entry({ name: 'A', code: 'B' })]);
    const parsed = parsedTemplateData();
    createValidator()(req, { parsed });
    const data = req.BulkEmailEntries[0].ReplacementEmailContent?.ReplacementTemplate;
    if (data) data.ReplacementTemplateData = '{"name":"A"}';
    const result = await renderCheck(req, { mode: 'strict', merge: true, parsed });
    expect(result.details).toEqual([
      {
        path: '/BulkEmailEntries/0/ReplacementEmailContent/ReplacementTemplate/ReplacementTemplateData',
        message: 'template variable "code" missing from ReplacementTemplateData merged over TemplateData',
      },
    ]);
  });
  it('checks again an entry a hook changed after validation, even when TemplateData covers the template', async () => {
    const req = request({ TemplateContent: TEMPLATES[0], TemplateData: '{"name":"n","code":"c"}' }, [
      entry({ name: 'A' }),
      entry({ name: 'B' }),
    ]);
    const parsed = parsedTemplateData();
    expect(createValidator()(req, { parsed })).toEqual([]);
    const data = req.BulkEmailEntries[1].ReplacementEmailContent?.ReplacementTemplate;
    if (data) data.ReplacementTemplateData = '{"name":';
    const result = await renderCheck(req, { mode: 'strict', merge: true, parsed });
    expect(result.details).toEqual([
      {
        path: '/BulkEmailEntries/1/ReplacementEmailContent/ReplacementTemplate/ReplacementTemplateData',
        message: 'ReplacementTemplateData is not valid JSON',
      },
    ]);
  });
});
