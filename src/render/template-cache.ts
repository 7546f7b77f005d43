// templateCache(): remembers templateVariables() per template text, so a template sent again is not scanned again.
import type { EmailTemplateContent } from '../types.js';
import { TEMPLATE_PARTS, type TemplateVariables, templateVariables } from './template-variables.js';

export interface TemplateCacheOptions {
  /** Most templates remembered (least recently looked up dropped first; the last one is kept aside). Default 100. */
  maxTemplates?: number;
  /** Most template characters remembered in all; a larger template is scanned each time. Default 4,000,000. */
  maxChars?: number;
}

/** `templateVariables(content, { inline })`, answered from memory for a template seen before. Treat answers as read-only. */
export type TemplateVariablesOf = (content: EmailTemplateContent, inline: boolean) => TemplateVariables;

/**
 * One per router (bulkEmail() creates it). The key is the text of Subject, Text and Html (each length-prefixed, so no
 * two templates share a key) and the inline flag: the answer depends on nothing else.
 */
export function templateCache(options: TemplateCacheOptions = {}): TemplateVariablesOf {
  const maxTemplates = options.maxTemplates ?? 100;
  const maxChars = options.maxChars ?? 4_000_000;
  const cache = new Map<string, TemplateVariables>();
  let chars = 0;
  /** The template asked for last: most requests send the one before them again, and comparing it builds no key. */
  let last: { inline: boolean; parts: string[]; answer: TemplateVariables } | undefined;

  return (content, inline) => {
    // templateVariables reads a part only when it is a string (with a tag in it)
    const parts = TEMPLATE_PARTS.map((part) => {
      const source = content[part];
      return typeof source === 'string' ? source : '';
    });
    if (last && last.inline === inline && last.parts.every((text, i) => text === parts[i])) return last.answer;
    // too large to remember: no key is built (hashing megabytes costs more than the check, which stops at its limit)
    if (parts.reduce((n, text) => n + text.length, 0) > maxChars) {
      last = undefined;
      return templateVariables(content, { inline });
    }
    const key = `${inline ? 'i' : 's'}${parts.map((text) => `${text.length}:${text}`).join('')}`;
    let answer = cache.get(key);
    if (answer) {
      cache.delete(key);
      cache.set(key, answer);
    } else {
      answer = frozen(templateVariables(content, { inline }));
      if (key.length <= maxChars) {
        cache.set(key, answer);
        chars += key.length;
        for (const old of cache.keys()) {
          if (cache.size <= maxTemplates && chars <= maxChars) break;
          cache.delete(old);
          chars -= old.length;
        }
      }
    }
    // only a remembered template is kept as the last one, so that memory stays within maxChars
    last = key.length <= maxChars ? { inline, parts, answer } : undefined;
    return answer;
  };
}

/** Answers are shared by every request that sends the template: freeze them so none can change another's. */
function frozen(answer: TemplateVariables): TemplateVariables {
  for (const v of answer.variables) {
    Object.freeze(v.path);
    Object.freeze(v.parts);
    Object.freeze(v);
  }
  for (const u of answer.unsupported) Object.freeze(u);
  if (answer.tooComplex) Object.freeze(answer.tooComplex);
  Object.freeze(answer.variables);
  Object.freeze(answer.unsupported);
  return Object.freeze(answer);
}
