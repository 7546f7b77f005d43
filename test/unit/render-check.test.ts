// renderCheck(): strict and permissive outputs and paths, inline template problems, stored templates, and a 100k-entry timing.
import { GetEmailTemplateCommand, NotFoundException, SESv2Client } from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { isBulkEmailError } from '../../src/errors.js';
import { renderCheck } from '../../src/render/render-check.js';
import { storedTemplateFetcher } from '../../src/render/stored-template-fetcher.js';
import { requestedTemplateName as storedTemplateName } from '../../src/templates/template-source.js';
import { templateVariables } from '../../src/render/template-variables.js';
import type { BulkEmailEntry, SendBulkEmailRequest, Template } from '../../src/types.js';

function entry(data?: unknown, to = 'a@example.com'): BulkEmailEntry {
  const e: BulkEmailEntry = { Destination: { ToAddresses: [to] } };
  if (data !== undefined) {
    e.ReplacementEmailContent = {
      ReplacementTemplate: { ReplacementTemplateData: typeof data === 'string' ? data : JSON.stringify(data) },
    };
  }
  return e;
}

function request(template: Template, entries: BulkEmailEntry[]): SendBulkEmailRequest {
  return { FromEmailAddress: 'from@example.com', DefaultContent: { Template: template }, BulkEmailEntries: entries };
}

const inline = (Text: string, TemplateData?: unknown): Template => ({
  TemplateContent: { Subject: 'Hi {{name}}', Text },
  ...(TemplateData === undefined ? {} : { TemplateData: JSON.stringify(TemplateData) }),
});

const DATA_PATH = 'ReplacementEmailContent/ReplacementTemplate/ReplacementTemplateData';

describe('renderCheck: strict', () => {
  it('passes when every entry has what the template needs', async () => {
    const result = await renderCheck(
      request(inline('{{name}} {{code}}', { code: 'D0' }), [entry({ name: 'A' }), entry({ name: 'B', code: 'X' })]),
      {
        mode: 'strict',
        merge: true,
      },
    );
    expect(result).toMatchObject({ details: [], templateProblems: [], badEntries: 0, required: ['name', 'code'] });
    expect(result.invalid.size).toBe(0);
  });

  it('one detail per bad entry, pointing into the entry, naming the variables', async () => {
    const entries = [entry({ name: 'ok', code: 'c' }), entry({ code: 'c' }), entry(), entry({ other: 1 }), entry('')];
    const result = await renderCheck(request(inline('{{name}} {{code}}'), entries), { mode: 'strict', merge: true });
    expect(result.details).toEqual([
      {
        path: `/BulkEmailEntries/1/${DATA_PATH}`,
        message: 'template variable "name" missing from ReplacementTemplateData merged over TemplateData',
      },
      {
        path: '/BulkEmailEntries/2',
        message:
          'template variables "name", "code" missing: the entry has no ReplacementTemplateData and TemplateData lacks them',
      },
      { path: `/BulkEmailEntries/3/${DATA_PATH}`, message: expect.stringContaining('"name", "code"') },
      { path: `/BulkEmailEntries/4/${DATA_PATH}`, message: expect.stringContaining('no ReplacementTemplateData') },
    ]);
    expect(result.badEntries).toBe(4);
    expect(result.invalid.size).toBe(0);
  });

  it('merge vs fallback changes the verdict', async () => {
    const req = request(inline('{{name}} {{code}}', { code: 'D0' }), [entry({ name: 'Bob' })]);
    expect((await renderCheck(req, { mode: 'strict', merge: true })).details).toEqual([]);
    const fallback = await renderCheck(req, { mode: 'strict', merge: false });
    expect(fallback.details).toEqual([
      {
        path: `/BulkEmailEntries/0/${DATA_PATH}`,
        message:
          'template variable "code" missing from ReplacementTemplateData (which replaces TemplateData as a whole)',
      },
    ]);
  });

  it('reports data that is not a JSON object', async () => {
    const result = await renderCheck(request(inline('{{name}}'), [entry('{bad'), entry('[1]')]), {
      mode: 'strict',
      merge: true,
    });
    expect(result.details).toEqual([
      { path: `/BulkEmailEntries/0/${DATA_PATH}`, message: 'ReplacementTemplateData is not valid JSON' },
      { path: `/BulkEmailEntries/1/${DATA_PATH}`, message: 'ReplacementTemplateData must be a JSON object' },
    ]);
  });

  it('caps details and adds one summary', async () => {
    const entries = Array.from({ length: 250 }, (_, i) => (i % 2 ? entry({ name: 'x' }) : entry({})));
    const result = await renderCheck(request(inline('{{name}}'), entries), {
      mode: 'strict',
      merge: true,
      maxDetails: 100,
    });
    expect(result.badEntries).toBe(125);
    expect(result.details).toHaveLength(101);
    expect(result.details[99].path).toBe(`/BulkEmailEntries/198/${DATA_PATH}`);
    expect(result.details[100]).toEqual({
      path: '/BulkEmailEntries',
      message: '25 more entries lack template variables (125 in all; only the first 100 are listed)',
    });
  });

  it('only required variables count: conditional ones never fail an entry', async () => {
    const t = inline('{{#if vip}}{{vipCode}}{{/if}}{{name}}');
    const result = await renderCheck(request(t, [entry({ name: 'x' })]), { mode: 'strict', merge: true });
    expect(result.details).toEqual([]);
    expect(result.required).toEqual(['name']);
  });
});

describe('renderCheck: permissive', () => {
  it('lists bad entries by index for INVALID_PARAMETER and no details', async () => {
    const entries = [entry({ name: 'a' }), entry({}), entry({ name: 'c' }), entry()];
    const result = await renderCheck(request(inline('{{name}}'), entries), { mode: 'permissive', merge: true });
    expect(result.details).toEqual([]);
    expect([...result.invalid.keys()]).toEqual([1, 3]);
    expect(result.invalid.get(1)).toContain('"name"');
    expect(result.badEntries).toBe(2);
  });

  it('does not cap', async () => {
    const entries = Array.from({ length: 300 }, () => entry({}));
    const result = await renderCheck(request(inline('{{name}}'), entries), { mode: 'permissive', merge: false });
    expect(result.invalid.size).toBe(300);
    expect(result.details).toEqual([]);
  });
});

describe('renderCheck: template problems', () => {
  it('inline constructs SES does not render, by part', async () => {
    const t: Template = { TemplateContent: { Subject: '{{#if a}}x{{/if}}', Html: '{{> footer}}', Text: '{{name}}' } };
    const result = await renderCheck(request(t, [entry({ name: 'x' })]), { mode: 'strict', merge: true });
    expect(result.templateProblems).toEqual([
      {
        path: '/DefaultContent/Template/TemplateContent/Subject',
        message: expect.stringContaining('{{#if a}}: block helper "#if"'),
      },
      {
        path: '/DefaultContent/Template/TemplateContent/Html',
        message: expect.stringContaining('{{> footer}}: partial "footer"'),
      },
    ]);
    expect(result.details).toEqual([]);
  });

  it('TemplateData that is not an object', async () => {
    const t: Template = { TemplateContent: { Subject: 's', Text: '{{name}}' }, TemplateData: '[]' };
    const result = await renderCheck(request(t, [entry({ name: 'x' })]), { mode: 'strict', merge: true });
    expect(result.templateProblems).toEqual([
      { path: '/DefaultContent/Template/TemplateData', message: 'TemplateData must be a JSON object' },
    ]);
  });

  it('nothing to check without a template', async () => {
    const req = { DefaultContent: {}, BulkEmailEntries: [entry()] } as SendBulkEmailRequest;
    expect((await renderCheck(req, { mode: 'strict', merge: true })).details).toEqual([]);
  });
});

describe('renderCheck: limits and caps', () => {
  const deep = `${'{{#if a}}'.repeat(150)}x${'{{/if}}'.repeat(150)}`;

  it('strict: a template past the limits is one problem, and no entry is checked', async () => {
    const t: Template = { TemplateContent: { Subject: 'Hi {{name}}', Text: deep } };
    const result = await renderCheck(request(t, [entry({}), entry()]), { mode: 'strict', merge: true });
    expect(result.templateProblems).toEqual([
      {
        path: '/DefaultContent/Template/TemplateContent/Text',
        message: expect.stringMatching(
          /^template too complex to check: blocks and subexpressions nested more than 100 deep \(stopped at "\{\{#if a\}\}" in Text\)$/,
        ),
      },
    ]);
    expect(result.details).toEqual([]);
    expect(result.badEntries).toBe(0);
  });

  it('permissive: a template past the limits is sent unchecked, and says why', async () => {
    const t: Template = { TemplateContent: { Subject: 'Hi {{name}}', Text: deep } };
    const result = await renderCheck(request(t, [entry({})]), { mode: 'permissive', merge: true });
    expect(result.skipped).toBe('template not checked: blocks and subexpressions nested more than 100 deep');
    expect(result.invalid.size).toBe(0);
    expect(result.templateProblems).toEqual([]);
  });

  it('a stored template past the limits points at its name', async () => {
    const result = await renderCheck(request({ TemplateName: 'huge' }, [entry({})]), {
      mode: 'strict',
      merge: true,
      fetchStoredTemplate: async () => ({ Subject: 'x', Html: deep }),
    });
    expect(result.templateProblems).toEqual([
      { path: '/DefaultContent/Template/TemplateName', message: expect.stringMatching(/^stored template too complex/) },
    ]);
  });

  it('template problems and entry details together: at most 100 and one count', async () => {
    const Text = Array.from({ length: 300 }, (_, i) => `{{#if c${i}}}x{{/if}}`).join('');
    const entries = Array.from({ length: 300 }, () => entry({}));
    const many = await renderCheck(request({ TemplateContent: { Subject: 'Hi {{name}}', Text } }, entries), {
      mode: 'strict',
      merge: true,
    });
    expect(many.templateProblems).toHaveLength(101);
    expect(many.templateProblems[100]).toEqual({
      path: '/DefaultContent/Template',
      message: '200 more template problems not listed (showing the first 100)',
    });
    expect(many.details).toEqual([]);

    const few = await renderCheck(request(inline('{{#if a}}{{b}}{{/if}}{{#if c}}{{d}}{{/if}}'), entries), {
      mode: 'strict',
      merge: true,
    });
    expect(few.templateProblems).toHaveLength(2);
    expect(few.details).toHaveLength(99);
    expect(few.details[98]).toEqual({
      path: '/BulkEmailEntries',
      message: '202 more entries lack template variables (300 in all; only the first 98 are listed)',
    });
  });

  it('names at most 10 missing variables per entry, each at most 60 characters', async () => {
    const long = 'v'.repeat(5000);
    const Text = `{{${long}}} ${Array.from({ length: 40 }, (_, i) => `{{n${i}}}`).join(' ')}`;
    const result = await renderCheck(request({ TemplateContent: { Subject: 's', Text } }, [entry({})]), {
      mode: 'strict',
      merge: true,
    });
    const [detail] = result.details;
    expect(detail.message).toBe(
      `template variables "${'v'.repeat(57)}...", "n0", "n1", "n2", "n3", "n4", "n5", "n6", "n7", "n8" and 31 more missing from ReplacementTemplateData merged over TemplateData`,
    );
  });
});

describe('renderCheck: stored templates', () => {
  const stored = { Subject: 'Hi {{name}}', Html: '{{#each items}}{{this}}{{/each}}' };

  it('skips without a fetcher', async () => {
    const result = await renderCheck(request({ TemplateName: 'welcome' }, [entry({})]), {
      mode: 'strict',
      merge: true,
    });
    expect(result.details).toEqual([]);
    expect(result.skipped).toContain('"welcome" not checked');
  });

  it('checks with the fetched content, stored rules (no unsupported constructs)', async () => {
    const fetchStoredTemplate = async (name: string) => (name === 'welcome' ? stored : null);
    const result = await renderCheck(
      request({ TemplateName: 'welcome' }, [entry({ name: 'A', items: [] }), entry({ name: 'B' })]),
      {
        mode: 'strict',
        merge: true,
        fetchStoredTemplate,
      },
    );
    expect(result.templateProblems).toEqual([]);
    expect(result.details).toEqual([
      { path: `/BulkEmailEntries/1/${DATA_PATH}`, message: expect.stringContaining('"items"') },
    ]);
  });

  it('resolves the name from TemplateArn', async () => {
    const names: string[] = [];
    await renderCheck(request({ TemplateArn: 'arn:aws:ses:us-east-1:123456789012:template/promo' }, [entry({})]), {
      mode: 'strict',
      merge: true,
      fetchStoredTemplate: async (name) => {
        names.push(name);
        return { Subject: 'x' };
      },
    });
    expect(names).toEqual(['promo']);
  });

  it('a template the fetcher does not know → TEMPLATE_NOT_FOUND', async () => {
    const err = await renderCheck(request({ TemplateName: 'nope' }, [entry({})]), {
      mode: 'strict',
      merge: true,
      fetchStoredTemplate: async () => null,
    }).catch((e: unknown) => e);
    expect(isBulkEmailError(err) && err.code).toBe('TEMPLATE_NOT_FOUND');
  });

  it('a failing fetch skips the check', async () => {
    const result = await renderCheck(request({ TemplateName: 'x' }, [entry({})]), {
      mode: 'strict',
      merge: true,
      fetchStoredTemplate: async () => {
        throw Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
      },
    });
    expect(result.details).toEqual([]);
    expect(result.skipped).toBe('stored template "x" could not be loaded (AccessDeniedException: denied)');
  });
});

describe('storedTemplateFetcher', () => {
  function setup() {
    const ses = new SESv2Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const mock = mockClient(ses);
    let now = 0;
    const clock = { now: () => now };
    const advance = (ms: number) => {
      now += ms;
    };
    return { ses, mock, clock, advance };
  }

  it('storedTemplateName', () => {
    expect(storedTemplateName({ TemplateName: 'a' })).toBe('a');
    expect(storedTemplateName({ TemplateArn: 'arn:aws:ses:eu-west-1:1:template/b' })).toBe('b');
    expect(storedTemplateName({ TemplateArn: 'arn:aws:ses:eu-west-1:1:identity/x' })).toBeUndefined();
    expect(storedTemplateName({ TemplateContent: {} })).toBeUndefined();
  });

  it('calls GetEmailTemplate once per name and caches for ttlMs', async () => {
    const { ses, mock, clock, advance } = setup();
    mock
      .on(GetEmailTemplateCommand)
      .resolves({ TemplateName: 'w', TemplateContent: { Subject: 'S {{a}}', Html: 'H' } });
    const fetch = storedTemplateFetcher(ses, { ttlMs: 1000, clock });
    const [a, b] = await Promise.all([fetch('w'), fetch('w')]);
    expect(a).toEqual({ Subject: 'S {{a}}', Html: 'H' });
    expect(b).toBe(a);
    await fetch('w');
    expect(mock.commandCalls(GetEmailTemplateCommand)).toHaveLength(1);
    expect(mock.commandCalls(GetEmailTemplateCommand)[0].args[0].input).toEqual({ TemplateName: 'w' });
    advance(1001);
    await fetch('w');
    expect(mock.commandCalls(GetEmailTemplateCommand)).toHaveLength(2);
  });

  it('NotFoundException → null, cached briefly', async () => {
    const { ses, mock, clock, advance } = setup();
    mock.on(GetEmailTemplateCommand).rejects(new NotFoundException({ message: 'no', $metadata: {} }));
    const fetch = storedTemplateFetcher(ses, { missTtlMs: 500, clock });
    expect(await fetch('gone')).toBeNull();
    expect(await fetch('gone')).toBeNull();
    expect(mock.commandCalls(GetEmailTemplateCommand)).toHaveLength(1);
    advance(501);
    await fetch('gone');
    expect(mock.commandCalls(GetEmailTemplateCommand)).toHaveLength(2);
  });

  it('a 404 without the error name (the emulator) is a miss too', async () => {
    const { ses, mock, clock } = setup();
    mock
      .on(GetEmailTemplateCommand)
      .rejects(Object.assign(new Error('x'), { name: 'Unknown', $metadata: { httpStatusCode: 404 } }));
    expect(await storedTemplateFetcher(ses, { clock })('t')).toBeNull();
  });

  it('other errors reject and are not cached', async () => {
    const { ses, mock, clock } = setup();
    mock
      .on(GetEmailTemplateCommand)
      .rejectsOnce(Object.assign(new Error('slow down'), { name: 'TooManyRequestsException' }))
      .resolves({ TemplateName: 't', TemplateContent: { Subject: 's' } });
    const fetch = storedTemplateFetcher(ses, { clock });
    await expect(fetch('t')).rejects.toThrow('slow down');
    expect(await fetch('t')).toEqual({ Subject: 's' });
  });

  it('keeps at most maxNames names', async () => {
    const { ses, mock, clock } = setup();
    mock.on(GetEmailTemplateCommand).resolves({ TemplateName: 't', TemplateContent: { Subject: 's' } });
    const fetch = storedTemplateFetcher(ses, { clock, maxNames: 2 });
    await fetch('a');
    await fetch('b');
    await fetch('c');
    await fetch('a'); // evicted → fetched again
    expect(mock.commandCalls(GetEmailTemplateCommand)).toHaveLength(4);
  });
});

describe('renderCheck: performance (printed, not asserted)', () => {
  it('100,000 entries', async () => {
    const template: Template = {
      TemplateContent: {
        Subject: 'Hi {{contact.firstName}}',
        Text: 'Dear {{contact.firstName}} {{contact.lastName}}, your code is {{code}}. {{#if vip}}{{perk}}{{/if}}',
        Html: '<p>{{{greeting}}} {{contact.firstName}}</p><p>{{code}}</p><p>{{footer}}</p>',
      },
      TemplateData: JSON.stringify({ greeting: 'Hello', footer: 'Bye' }),
    };
    const N = 100_000;
    const good = Array.from({ length: N }, (_, i) =>
      entry(
        { contact: { firstName: `First${i}`, lastName: `Last${i}` }, code: `C${i}`, vip: i % 2 === 0 },
        `u${i}@example.com`,
      ),
    );
    const bad = good.map((e, i) => (i % 10 === 0 ? entry({ contact: { firstName: 'x' } }) : e));

    let t = performance.now();
    for (let i = 0; i < 1000; i++) templateVariables(template.TemplateContent as object, { inline: true });
    const parseUs = ((performance.now() - t) / 1000) * 1000;

    const time = async (label: string, req: SendBulkEmailRequest, mode: 'strict' | 'permissive', merge: boolean) => {
      await renderCheck(req, { mode, merge }); // warm up
      t = performance.now();
      const result = await renderCheck(req, { mode, merge });
      const ms = performance.now() - t;
      console.log(
        `renderCheck ${label}: ${N} entries in ${ms.toFixed(1)} ms (${((ms * 1000) / N).toFixed(2)} µs/entry), bad=${result.badEntries}`,
      );
      return result;
    };
    console.log(`templateVariables (3 parts): ${parseUs.toFixed(1)} µs per parse`);
    const ok = await time('strict/merge, all good', request(template, good), 'strict', true);
    expect(ok.badEntries).toBe(0);
    const strict = await time('strict/merge, 10% bad', request(template, bad), 'strict', true);
    expect(strict.badEntries).toBe(N / 10);
    // the inline {{#if}} is one template problem: with it, 99 entries are listed and one summary (101 in all)
    expect(strict.templateProblems).toHaveLength(1);
    expect(strict.details).toHaveLength(100);
    const permissive = await time('permissive/merge, 10% bad', request(template, bad), 'permissive', true);
    expect(permissive.invalid.size).toBe(N / 10);
    // without the merge, each entry's data replaces TemplateData whole, so greeting/footer are missing everywhere
    const fallback = await time('permissive/fallback, all bad', request(template, good), 'permissive', false);
    expect(fallback.invalid.size).toBe(N);
  });
});
