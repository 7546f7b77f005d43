// resolveTemplate hook over a fixed map of template name → content, for apps that keep templates in code.
import type { EmailTemplateContent, ResolveTemplateHook } from '../types.js';
import { inlineTemplate, requestedTemplateName } from './template-source.js';

/**
 * `resolveTemplate: staticTemplates({ welcome: { Subject: 'Hi {{name}}', Text: '…' } })`.
 * A request naming a template (by `TemplateName` or `TemplateArn`) gets its content inline; an unknown name gives
 * `null` (→ `TEMPLATE_NOT_FOUND`); a request that already carries `TemplateContent` passes through unchanged.
 * The map is copied when the hook is made: later changes to it are not seen.
 */
export function staticTemplates(templates: Readonly<Record<string, EmailTemplateContent>>): ResolveTemplateHook {
  const byName = new Map(Object.entries(templates).map(([name, content]) => [name, { ...content }]));
  return (template) => {
    if (template.TemplateContent !== undefined) return template;
    const name = requestedTemplateName(template);
    const content = name === undefined ? undefined : byName.get(name);
    return content ? inlineTemplate(template, content) : null;
  };
}
