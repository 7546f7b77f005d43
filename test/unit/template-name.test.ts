// The one parser of template ARNs: which stored template a request names (render check and both resolvers use it).
import { describe, expect, it } from 'vitest';
import { staticTemplates } from '../../src/index.js';
import { requestedTemplateName } from '../../src/templates/template-source.js';

describe('requestedTemplateName', () => {
  it.each([
    [{ TemplateName: 'welcome' }, 'welcome'],
    [{ TemplateArn: 'arn:aws:ses:eu-west-1:123456789012:template/welcome' }, 'welcome'],
    [{ TemplateArn: 'arn:aws-us-gov:ses:us-gov-west-1:1:template/a.b-c_d' }, 'a.b-c_d'],
    // An empty name names no template (it must not find one stored under "").
    [{ TemplateArn: 'arn:aws:ses:eu-west-1:123456789012:template/' }, undefined],
    [{ TemplateName: '' }, undefined],
    [{ TemplateArn: 'arn:aws:ses:eu-west-1:123456789012:identity/example.com' }, undefined],
    [{ TemplateArn: '' }, undefined],
    [{ TemplateContent: { Subject: 's', Text: 't' } }, undefined],
  ])('%j → %s', (template, name) => {
    expect(requestedTemplateName(template)).toBe(name);
  });

  it('a resolver holding a template named "" does not answer an ARN with an empty name', async () => {
    const resolve = staticTemplates({ '': { Subject: 'empty', Text: 'x' }, welcome: { Subject: 'hi', Text: 'y' } });
    const ctx = {} as never;
    expect(await resolve({ TemplateArn: 'arn:aws:ses:eu-west-1:1:template/' }, ctx)).toBeNull();
    expect(await resolve({ TemplateArn: 'arn:aws:ses:eu-west-1:1:template/welcome' }, ctx)).toMatchObject({
      TemplateContent: { Subject: 'hi' },
    });
  });
});
