// What the template resolvers share: the stored-template name a request asks for, and the inline Template they return.
import type { EmailTemplateContent, Template } from '../types.js';

const MARK = ':template/';

/**
 * The stored-template name a request's Template refers to: `TemplateName`, else the part of `TemplateArn` after
 * `:template/` (as SES and its emulator read it). `undefined` when it names none — an empty name included
 * (`…:template/` names no template; it must not find one stored under ""). The one parser of template ARNs.
 */
export function requestedTemplateName(template: Template): string | undefined {
  if (typeof template.TemplateName === 'string' && template.TemplateName !== '') return template.TemplateName;
  const arn = template.TemplateArn;
  const at = typeof arn === 'string' ? arn.indexOf(MARK) : -1;
  const name = at >= 0 ? (arn as string).slice(at + MARK.length) : '';
  return name === '' ? undefined : name;
}

/** The complete inline Template: the found content, with the request's data, headers and attachments kept. */
export function inlineTemplate(request: Template, content: EmailTemplateContent): Template {
  const { TemplateData, Headers, Attachments } = request;
  return {
    TemplateContent: { ...content },
    ...(TemplateData === undefined ? {} : { TemplateData }),
    ...(Headers === undefined ? {} : { Headers }),
    ...(Attachments === undefined ? {} : { Attachments }),
  };
}
