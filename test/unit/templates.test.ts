// The ready-made resolveTemplate hooks: a static map and a folder of files (in a temp dir).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { folderTemplates, staticTemplates } from '../../src/templates/index.js';
import type { HookContext, Template } from '../../src/types.js';

const ctx = {} as HookContext;
const extras: Template = {
  TemplateData: '{"name":"Ann"}',
  Headers: [{ Name: 'X-A', Value: '1' }],
  Attachments: [{ RawContent: 'aGk=', FileName: 'a.txt' }],
};

describe('staticTemplates', () => {
  const resolve = staticTemplates({
    welcome: { Subject: 'Hi {{name}}', Text: 'Hello {{name}}' },
    invoice: { Subject: 'Invoice', Html: '<p>Due</p>' },
  });

  it('inlines a named template, keeping data, headers and attachments', async () => {
    expect(await resolve({ TemplateName: 'welcome', ...extras }, ctx)).toEqual({
      TemplateContent: { Subject: 'Hi {{name}}', Text: 'Hello {{name}}' },
      ...extras,
    });
  });

  it('looks up a TemplateArn by the name after :template/', async () => {
    const arn = 'arn:aws:ses:us-east-1:123456789012:template/invoice';
    expect(await resolve({ TemplateArn: arn }, ctx)).toEqual({
      TemplateContent: { Subject: 'Invoice', Html: '<p>Due</p>' },
    });
  });

  it('answers null for an unknown name, an ARN without :template/, or names from Object.prototype', async () => {
    for (const template of [
      { TemplateName: 'nope' },
      { TemplateArn: 'arn:aws:ses:us-east-1:1:identity/x' },
      { TemplateName: '__proto__' },
      { TemplateName: 'constructor' },
      { TemplateName: 'toString' },
    ]) {
      expect(await resolve(template, ctx)).toBeNull();
    }
  });

  it('passes an inline TemplateContent through unchanged', async () => {
    const template = {
      TemplateContent: { Subject: 'S', Text: 'T' },
      TemplateData: '{}',
    };
    expect(await resolve(template, ctx)).toBe(template);
  });

  it('copies the map when made, and hands out copies of the content', async () => {
    const map = { a: { Subject: 'one', Text: 'x' } };
    const hook = staticTemplates(map);
    map.a.Subject = 'changed';
    const first = await hook({ TemplateName: 'a' }, ctx);
    expect(first?.TemplateContent?.Subject).toBe('one');
    (first?.TemplateContent as { Subject: string }).Subject = 'mutated';
    expect((await hook({ TemplateName: 'a' }, ctx))?.TemplateContent?.Subject).toBe('one');
  });
});

describe('folderTemplates', () => {
  let root: string;
  let dir: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'ebe-templates-'));
    dir = join(root, 'templates');
    mkdirSync(dir);
    writeFileSync(join(root, 'secret.json'), JSON.stringify({ Subject: 'secret', Text: 'outside the folder' }));
    writeFileSync(
      join(dir, 'welcome.json'),
      JSON.stringify({
        Subject: 'Hi {{name}}',
        Text: 'Hello',
        Html: '<p>Hello</p>',
      }),
    );
    mkdirSync(join(dir, 'receipt'));
    writeFileSync(join(dir, 'receipt', 'subject.txt'), 'Your receipt {{id}}\n');
    writeFileSync(join(dir, 'receipt', 'text.txt'), 'Total: {{total}}\n');
    writeFileSync(join(dir, 'receipt', 'html.html'), '<p>Total: {{total}}</p>\n');
    mkdirSync(join(dir, 'html-only'));
    writeFileSync(join(dir, 'html-only', 'subject.txt'), 'Only HTML');
    writeFileSync(join(dir, 'html-only', 'html.html'), '<b>hi</b>');
    mkdirSync(join(dir, 'both'));
    writeFileSync(join(dir, 'both', 'subject.txt'), 'from the folder');
    writeFileSync(join(dir, 'both', 'text.txt'), 'folder');
    writeFileSync(join(dir, 'both.json'), JSON.stringify({ Subject: 'from the json file', Text: 'json' }));
    writeFileSync(join(dir, 'broken.json'), '{ "Subject": ');
    writeFileSync(join(dir, 'typo.json'), JSON.stringify({ Subject: 's', HTML: '<p>' }));
    mkdirSync(join(dir, 'no-subject'));
    writeFileSync(join(dir, 'no-subject', 'text.txt'), 'x');
    mkdirSync(join(dir, 'two-lines'));
    writeFileSync(join(dir, 'two-lines', 'subject.txt'), 'line one\nline two\n');
    writeFileSync(join(dir, 'two-lines', 'text.txt'), 'x');
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('reads <name>.json, keeping the request data, headers and attachments', async () => {
    expect(await folderTemplates(dir)({ TemplateName: 'welcome', ...extras }, ctx)).toEqual({
      TemplateContent: {
        Subject: 'Hi {{name}}',
        Text: 'Hello',
        Html: '<p>Hello</p>',
      },
      ...extras,
    });
  });

  it('reads <name>/subject.txt + text.txt + html.html, dropping the trailing newline of the subject', async () => {
    expect(await folderTemplates(dir)({ TemplateName: 'receipt' }, ctx)).toEqual({
      TemplateContent: {
        Subject: 'Your receipt {{id}}',
        Text: 'Total: {{total}}\n',
        Html: '<p>Total: {{total}}</p>\n',
      },
    });
    expect(await folderTemplates(dir)({ TemplateName: 'html-only' }, ctx)).toEqual({
      TemplateContent: { Subject: 'Only HTML', Html: '<b>hi</b>' },
    });
  });

  it('prefers <name>.json when both layouts exist', async () => {
    expect((await folderTemplates(dir)({ TemplateName: 'both' }, ctx))?.TemplateContent?.Subject).toBe(
      'from the json file',
    );
  });

  it('resolves a TemplateArn by the name after :template/', async () => {
    const template = {
      TemplateArn: 'arn:aws:ses:eu-west-1:123456789012:template/receipt',
    };
    expect((await folderTemplates(dir)(template, ctx))?.TemplateContent?.Subject).toBe('Your receipt {{id}}');
  });

  it('answers null for unknown names and for unsafe names, even when the file exists', async () => {
    const resolve = folderTemplates(dir);
    for (const name of [
      'missing',
      '../secret',
      '..',
      'receipt/subject',
      '..\\secret',
      'welcome.json',
      '.',
      '',
      'a'.repeat(65),
    ]) {
      expect(await resolve({ TemplateName: name }, ctx), name).toBeNull();
    }
    expect(await resolve({ TemplateArn: 'arn:aws:ses:us-east-1:1:template/../secret' }, ctx)).toBeNull();
  });

  it('passes an inline TemplateContent through unchanged', async () => {
    const template = { TemplateContent: { Subject: 'S', Text: 'T' } };
    expect(await folderTemplates(dir)(template, ctx)).toBe(template);
  });

  it('throws, naming the file, for malformed templates', async () => {
    const resolve = folderTemplates(dir);
    await expect(resolve({ TemplateName: 'broken' }, ctx)).rejects.toThrow(/broken\.json is not valid JSON/);
    await expect(resolve({ TemplateName: 'typo' }, ctx)).rejects.toThrow(/typo\.json has unknown fields: HTML/);
    await expect(resolve({ TemplateName: 'no-subject' }, ctx)).rejects.toThrow(/no-subject has no subject\.txt/);
    await expect(resolve({ TemplateName: 'two-lines' }, ctx)).rejects.toThrow(/subject must be one line/);
  });

  it('caches what it found, and re-reads with cache: false', async () => {
    const file = join(dir, 'changing.json');
    writeFileSync(file, JSON.stringify({ Subject: 'v1', Text: 'x' }));
    const cached = folderTemplates(dir);
    const fresh = folderTemplates(dir, { cache: false });
    expect((await cached({ TemplateName: 'changing' }, ctx))?.TemplateContent?.Subject).toBe('v1');
    writeFileSync(file, JSON.stringify({ Subject: 'v2', Text: 'x' }));
    expect((await cached({ TemplateName: 'changing' }, ctx))?.TemplateContent?.Subject).toBe('v1');
    expect((await fresh({ TemplateName: 'changing' }, ctx))?.TemplateContent?.Subject).toBe('v2');
  });

  it('does not cache misses: a template added later is found', async () => {
    const resolve = folderTemplates(dir);
    expect(await resolve({ TemplateName: 'later' }, ctx)).toBeNull();
    writeFileSync(join(dir, 'later.json'), JSON.stringify({ Subject: 'late', Text: 'x' }));
    expect((await resolve({ TemplateName: 'later' }, ctx))?.TemplateContent?.Subject).toBe('late');
  });
});
