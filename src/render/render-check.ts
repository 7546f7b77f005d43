// renderCheck(): before a job exists, find entries whose template data lacks a variable the template needs.
import { requestedTemplateName } from '../templates/template-source.js';
import { type DetailList, detailList, MAX_DETAILS, templateNotFound, type ValidationDetail } from '../errors.js';
import type { EmailTemplateContent, SendBulkEmailRequest, Template } from '../types.js';
import { isJsonObjectText } from '../validation/json-object-text.js';
import type { ParsedTemplateData } from '../validation/semantic-checks.js';
import type { TemplateVariablesOf } from './template-cache.js';
import { defaultsCoverAll, hasVariables, missingVariables, parseTemplateData } from './template-data.js';
import { type TemplateVariables, templateVariables, type VariableRef } from './template-variables.js';
import { INLINE_ONLY } from './template-walk.js';

export interface RenderCheckOptions {
  /** `strict`: report bad entries as `details` (→ 400). `permissive`: list them in `invalid` (→ INVALID_PARAMETER). */
  mode: 'strict' | 'permissive';
  /** Per-key deep merge of each entry's data over `TemplateData` (true), or SES's whole-object fallback (false). */
  merge: boolean;
  /** Loads a stored template's content (`storedTemplateFetcher(ses)`); null = no such template. Without it stored templates are not checked. */
  fetchStoredTemplate?: (name: string) => Promise<EmailTemplateContent | null>;
  /** Most details listed (the template's problems first, then entries') before one summary detail. Default 100. */
  maxDetails?: number;
  /** Where the template's variables come from: a router's `templateCache()`. Default: `templateVariables()`. */
  variablesOf?: TemplateVariablesOf;
  /** What the request validator learned of the template data: used while the texts are unchanged. */
  parsed?: ParsedTemplateData;
}

export interface RenderCheckResult {
  /**
   * Strict mode: one detail per bad entry, in the room `templateProblems` left of `maxDetails`, then one summary
   * detail: the two lists together hold at most `maxDetails + 1`.
   */
  details: ValidationDetail[];
  /** Permissive mode: entry index → error text; those entries should end INVALID_PARAMETER, unsent. */
  invalid: Map<number, string>;
  /**
   * Problems of the template itself (inline constructs SES does not render, unparsable TemplateData): at most
   * `maxDetails` and one summary. Strict mode, a template past the check's limits (`TEMPLATE_LIMITS`): that one
   * problem alone, and no entry is checked.
   */
  templateProblems: ValidationDetail[];
  /** How many entries lack data (all of them, also past `maxDetails`). */
  badEntries: number;
  /** Variables every entry must have. */
  required: string[];
  /**
   * Why nothing was checked, when so: a stored template without a fetcher, a failed fetch, or (permissive) a template
   * past the check's limits.
   */
  skipped?: string;
  /** The error that made the stored-template fetch fail, when that is why nothing was checked. */
  fetchError?: unknown;
}

const ENTRY_DATA_PATH = 'ReplacementEmailContent/ReplacementTemplate/ReplacementTemplateData';

/** Names shown in one message; the rest are counted. */
const MAX_NAMES = 10;

/** `"a", "b"`: at most `MAX_NAMES` names of at most 60 characters, then `and N more`. */
function quoteList(names: string[]): string {
  const shown = names.slice(0, MAX_NAMES).map((n) => JSON.stringify(n.length <= 60 ? n : `${n.slice(0, 57)}...`));
  const more = names.length - shown.length;
  return more > 0 ? `${shown.join(', ')} and ${more} more` : shown.join(', ');
}

/** The one detail for a template past the check's limits: where it stopped and why. */
function tooComplexDetail(
  limit: NonNullable<TemplateVariables['tooComplex']>,
  template: Template,
  inline: boolean,
): ValidationDetail {
  const where = limit.construct ? ` (stopped at ${JSON.stringify(limit.construct)} in ${limit.part})` : '';
  const message = `template too complex to check: ${limit.reason}${where}`;
  if (inline) return { path: `/DefaultContent/Template/TemplateContent/${limit.part}`, message };
  const field = template.TemplateName !== undefined ? 'TemplateName' : 'TemplateArn';
  return { path: `/DefaultContent/Template/${field}`, message: `stored ${message}` };
}

function emptyResult(skipped?: string): RenderCheckResult {
  const result: RenderCheckResult = {
    details: [],
    invalid: new Map(),
    templateProblems: [],
    badEntries: 0,
    required: [],
  };
  if (skipped !== undefined) result.skipped = skipped;
  return result;
}

/** The stored template's content, fetched. Throws TEMPLATE_NOT_FOUND when the fetcher finds no such template. */
async function contentOf(
  template: Template,
  fetch: RenderCheckOptions['fetchStoredTemplate'],
): Promise<{ content: EmailTemplateContent; inline: boolean } | { skipped: string; error?: unknown } | undefined> {
  const name = requestedTemplateName(template);
  if (name === undefined) return undefined;
  if (!fetch) return { skipped: `stored template "${name}" not checked: no fetchStoredTemplate` };
  let content: EmailTemplateContent | null;
  try {
    content = await fetch(name);
  } catch (err) {
    const why = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return { skipped: `stored template "${name}" could not be loaded (${why})`, error: err };
  }
  if (content === null) throw templateNotFound(name);
  return { content, inline: false };
}

/**
 * Checks every entry's template data against the variables the resolved template requires. The template is parsed
 * once and each entry's data once; entries without data share one answer. Throws TEMPLATE_NOT_FOUND (422) when
 * `fetchStoredTemplate` says the stored template does not exist; any other fetch failure skips the check (`skipped`).
 * Messages are built only for the details listed.
 */
export async function renderCheck(
  request: SendBulkEmailRequest,
  options: RenderCheckOptions,
): Promise<RenderCheckResult> {
  const template = request.DefaultContent?.Template;
  if (!template) return emptyResult();
  // an inline template needs no fetch: no await for it
  const source = template.TemplateContent
    ? { content: template.TemplateContent, inline: true }
    : await contentOf(template, options.fetchStoredTemplate);
  if (!source) return emptyResult();
  if ('skipped' in source) {
    const skipped = emptyResult(source.skipped);
    if (source.error !== undefined) skipped.fetchError = source.error;
    return skipped;
  }

  const strict = options.mode === 'strict';
  const maxDetails = options.maxDetails ?? MAX_DETAILS;
  const facts = options.variablesOf
    ? options.variablesOf(source.content, source.inline)
    : templateVariables(source.content, { inline: source.inline });
  if (facts.tooComplex) {
    // Nothing can be said of any entry: strict refuses with this one problem, permissive sends unchecked.
    if (!strict) return emptyResult(`template not checked: ${facts.tooComplex.reason}`);
    const refused = emptyResult();
    refused.templateProblems.push(tooComplexDetail(facts.tooComplex, template, source.inline));
    return refused;
  }

  const result = emptyResult();
  const parsed = options.parsed;
  const known = parsed?.defaults;
  let defaults = known && known.text === template.TemplateData ? known.value : parseTemplateData(template.TemplateData);
  const unsupported = source.inline ? facts.unsupported : [];
  if (unsupported.length > 0 || defaults instanceof Error) {
    const problems = detailList(maxDetails);
    for (const u of unsupported) {
      problems.add({
        path: `/DefaultContent/Template/TemplateContent/${u.part}`,
        message: u.reason.endsWith(INLINE_ONLY)
          ? `${u.construct}: ${u.reason}. Store the template with CreateEmailTemplate and send it by TemplateName to use Handlebars features`
          : `${u.construct}: ${u.reason}`,
      });
    }
    if (source.inline) problems.skip(facts.unlisted ?? 0);
    if (defaults instanceof Error) {
      problems.add({ path: '/DefaultContent/Template/TemplateData', message: defaults.message });
      defaults = undefined;
    }
    result.templateProblems = problems.list((more) => ({
      path: '/DefaultContent/Template',
      message: `${more} more template ${more === 1 ? 'problem' : 'problems'} not listed (showing the first ${maxDetails})`,
    }));
  }
  const required: VariableRef[] = facts.variables.filter((v) => v.required);
  result.required = required.map((v) => v.name);
  if (required.length === 0) return result;
  // Strict: entries get the room the template's problems left, none once those overflow (the request fails anyway).
  const room = maxDetails - result.templateProblems.length;
  if (strict && room <= 0) return result;

  let entryDetails: DetailList | undefined; // made at the first bad entry
  const merge = options.merge;
  const covered = merge && defaultsCoverAll(required, defaults); // then only unparsable data can fail an entry
  let withoutData: string[] | undefined; // the missing variables of every entry that has no data of its own
  const entries = request.BulkEmailEntries ?? [];
  for (let i = 0; i < entries.length; i++) {
    const text = entries[i]?.ReplacementEmailContent?.ReplacementTemplate?.ReplacementTemplateData;
    let message: () => string;
    if (text === undefined || text === '') {
      withoutData ??= missingVariables(required, defaults, undefined, merge);
      if (withoutData.length === 0) continue;
      const missing = withoutData;
      message = () =>
        `${missing.length === 1 ? 'template variable' : 'template variables'} ${quoteList(missing)} missing: the entry has no ReplacementTemplateData and TemplateData lacks ${missing.length === 1 ? 'it' : 'them'}`;
    } else {
      // Covered: only data that is not a JSON object can fail. The validator found this text to be one (unless a hook
      // changed it since), or the scanner tells without parsing.
      if (covered && (parsed?.objects[i] === text || isJsonObjectText(text))) continue;
      const data = parseTemplateData(text, 'ReplacementTemplateData');
      if (data instanceof Error) {
        message = () => data.message;
      } else {
        if (covered || hasVariables(required, defaults, data, merge)) continue;
        message = () => {
          const missing = missingVariables(required, defaults, data, merge);
          const from = merge
            ? 'ReplacementTemplateData merged over TemplateData'
            : Object.keys(data ?? {}).length > 0
              ? 'ReplacementTemplateData (which replaces TemplateData as a whole)'
              : "TemplateData (the entry's ReplacementTemplateData is empty)";
          return `${missing.length === 1 ? 'template variable' : 'template variables'} ${quoteList(missing)} missing from ${from}`;
        };
      }
    }
    result.badEntries++;
    if (strict) {
      const path = text === undefined ? `/BulkEmailEntries/${i}` : `/BulkEmailEntries/${i}/${ENTRY_DATA_PATH}`;
      entryDetails ??= detailList(room);
      entryDetails.add(() => ({ path, message: message() }));
    } else {
      result.invalid.set(i, message());
    }
  }
  if (entryDetails) {
    result.details = entryDetails.list((more) => ({
      path: '/BulkEmailEntries',
      message: `${more} more ${more === 1 ? 'entry lacks' : 'entries lack'} template variables (${result.badEntries} in all; only the first ${room} are listed)`,
    }));
  }
  return result;
}
