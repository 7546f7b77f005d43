// templateVariables(): which data variables a template's Subject/Text/Html use, which are required, what SES cannot render.
import { MAX_DETAILS } from '../errors.js';
import type { EmailTemplateContent } from '../types.js';
import { excerpt, PARSE_LIMITS, type ParseBudget, parseTemplatePart } from './template-parse.js';
import { type Findings, LimitReached, walkPart } from './template-walk.js';

export type TemplatePart = 'Subject' | 'Text' | 'Html';

export const TEMPLATE_PARTS: readonly TemplatePart[] = ['Subject', 'Text', 'Html'];

/** A data variable the template reads from the root of the template data. */
export interface VariableRef {
  /** Display name: `name`, `contact.firstName`, `list.[0]`. */
  name: string;
  /** Segments looked up from the root of the data, e.g. `['contact', 'firstName']`. */
  path: string[];
  /**
   * True when rendering fails without it: a plain substitution (`{{x}}`, `{{{x}}}`, `{{&x}}`) outside any
   * conditional section, or the list/object of a top-level `{{#each x}}` / `{{#with x}}` (or the context of a
   * top-level `{{> partial x}}`). Variables only read inside `#if`/`#unless`/`else` bodies, as helper
   * arguments (`#if x`, `lookup x …`), or through `../` and `@root` inside blocks are reported with `false`.
   */
  required: boolean;
  /** The parts that use it. */
  parts: TemplatePart[];
}

/** Something in a template that SES will not render (inline templates: anything beyond simple substitution). */
export interface UnsupportedConstruct {
  /** The tag as written, e.g. `{{#if premium}}` (cut to 80 characters). */
  construct: string;
  part: TemplatePart;
  /** Why, for humans: `block helper "#if"`, `partial "header" is not defined in this part`, … */
  reason: string;
}

export interface TemplateVariables {
  /** Every root-data variable, in order of first use, once each. */
  variables: VariableRef[];
  /** What SES cannot render, each once, the first `MAX_DETAILS` found. */
  unsupported: UnsupportedConstruct[];
  /** How many more were found than `unsupported` lists (absent when none). */
  unlisted?: number;
  /**
   * Set when the template is beyond what the check reads (`TEMPLATE_LIMITS`): the check stopped there, so
   * `variables` and `unsupported` are incomplete and no entry can be passed on their strength.
   */
  tooComplex?: UnsupportedConstruct;
}

/**
 * The most work one template may cost the check: `PARSE_LIMITS` for reading it, and `maxVisits` for walking it, each
 * node counted every time it is walked (inside expanded partials too). A partial is walked once per scope it is
 * used in (context depth, inside a condition or not, names hidden by hash parameters), so a partial used a thousand
 * times in one scope costs one walk.
 */
export const TEMPLATE_LIMITS = { ...PARSE_LIMITS, maxVisits: 20_000 } as const;

/**
 * Parses the Subject, Text and Html of a template once and lists the root-data variables they use.
 * `inline: true` (a request's `TemplateContent`) reports every block, partial, helper or decorator as unsupported,
 * since SES renders inline templates with simple substitutions only; the variables are still worked out with the
 * stored-template rules. `inline: false` reports only what SES cannot render at all (syntax errors, custom
 * helpers, partials not defined inline in the same part, decorators other than `inline`, raw blocks).
 * Work is bounded by `TEMPLATE_LIMITS`; past them the answer says `tooComplex`.
 */
export function templateVariables(content: EmailTemplateContent, options: { inline: boolean }): TemplateVariables {
  const byName = new Map<string, VariableRef>();
  const unsupported: UnsupportedConstruct[] = [];
  const seenProblems = new Set<string>();
  let unlisted = 0;
  const answer = (tooComplex?: UnsupportedConstruct): TemplateVariables => {
    const result: TemplateVariables = { variables: [...byName.values()], unsupported };
    if (unlisted > 0) result.unlisted = unlisted;
    if (tooComplex) result.tooComplex = tooComplex;
    return result;
  };

  // Only parts with a tag are read; their size bounds the lexer's work.
  const toRead = TEMPLATE_PARTS.filter((part) => {
    const source = content[part];
    return typeof source === 'string' && source.includes('{{');
  });
  let chars = 0;
  for (const part of toRead) {
    chars += (content[part] as string).length;
    if (chars > TEMPLATE_LIMITS.maxChars) {
      const limit = TEMPLATE_LIMITS.maxChars.toLocaleString('en-US');
      return answer({ construct: '', part, reason: `Subject, Text and Html together are over ${limit} characters` });
    }
  }

  const budget: ParseBudget = { tokens: TEMPLATE_LIMITS.maxTokens };
  const findings: Findings = {
    variables: byName,
    report: (part, construct, reason) => {
      const key = `${part}\0${construct}\0${reason}`;
      if (seenProblems.has(key)) return;
      seenProblems.add(key);
      if (unsupported.length < MAX_DETAILS) unsupported.push({ construct, part, reason });
      else unlisted += 1;
    },
    visitsLeft: TEMPLATE_LIMITS.maxVisits,
  };
  for (const part of toRead) {
    const source = content[part] as string;
    const parsed = parseTemplatePart(source, budget);
    if (parsed.problem) {
      const construct = excerpt(source, parsed.problem.offset);
      if (parsed.problem.limit) return answer({ construct, part, reason: parsed.problem.reason });
      findings.report(part, construct, parsed.problem.reason);
      continue;
    }
    try {
      walkPart(part, source, parsed.program, findings, { inline: options.inline, limits: TEMPLATE_LIMITS });
    } catch (err) {
      if (!(err instanceof LimitReached)) throw err;
      return answer({ construct: excerpt(source, err.offset), part, reason: err.reason });
    }
  }
  return answer();
}
