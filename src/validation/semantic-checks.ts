// The checks JSON Schema cannot express: one template source, JSON-object data, recipient totals, header rules, base64.
import type { ValidationDetail } from '../errors.js';
import { isJsonObject } from './bounded-view.js';
import {
  HEADER_LINE_MAX,
  HEADER_NAME_MAX,
  HEADER_VALUE_MAX,
  MAX_HEADERS,
  MAX_RECIPIENTS,
  TEMPLATE_DATA_MAX_LENGTH,
} from './schema.js';

export type Report = (detail: ValidationDetail) => void;

const TEMPLATE_SOURCES = ['TemplateName', 'TemplateArn', 'TemplateContent'] as const;
const RECIPIENT_LISTS = ['ToAddresses', 'CcAddresses', 'BccAddresses'] as const;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Checks the request outside its entries. Each check looks only at values of the expected type: a value of the
 * wrong type is already reported by the schema, so it is skipped here rather than reported twice.
 */
export function checkRequest(body: unknown, report: Report): void {
  if (!isJsonObject(body) || !isJsonObject(body.DefaultContent)) return;
  const template = body.DefaultContent.Template;
  if (!isJsonObject(template)) return;
  const path = '/DefaultContent/Template';
  const sources = TEMPLATE_SOURCES.filter((source) => template[source] !== undefined);
  if (sources.length !== 1) {
    report({
      path,
      message:
        sources.length === 0
          ? 'must have one of TemplateName, TemplateArn or TemplateContent'
          : `must have only one of TemplateName, TemplateArn or TemplateContent (got ${sources.join(' and ')})`,
    });
  }
  const dataProblem = jsonObjectProblem(template.TemplateData);
  if (dataProblem) report({ path: `${path}/TemplateData`, message: dataProblem });
  checkHeaders(template.Headers, `${path}/Headers`, report);
  if (Array.isArray(template.Attachments)) {
    template.Attachments.forEach((attachment, i) => {
      const raw = isJsonObject(attachment) ? attachment.RawContent : undefined;
      if (typeof raw === 'string' && raw !== '' && !(raw.length % 4 === 0 && BASE64.test(raw))) {
        report({
          path: `${path}/Attachments/${i}/RawContent`,
          message: 'must be valid base64 (A-Z a-z 0-9 + /, padded with = to a multiple of 4 characters)',
        });
      }
    });
  }
}

/** Checks one entry; `path` points at it (`/BulkEmailEntries/7`). Runs for every entry, so it stays lean. */
export function checkEntry(entry: unknown, path: string, report: Report): void {
  if (!isJsonObject(entry)) return;
  if (isJsonObject(entry.Destination)) {
    const message = recipientProblem(entry.Destination);
    if (message) report({ path: `${path}/Destination`, message });
  }
  const content = entry.ReplacementEmailContent;
  const replacement = isJsonObject(content) ? content.ReplacementTemplate : undefined;
  if (isJsonObject(replacement)) {
    const message = jsonObjectProblem(replacement.ReplacementTemplateData);
    const dataPath = `${path}/ReplacementEmailContent/ReplacementTemplate/ReplacementTemplateData`;
    if (message) report({ path: dataPath, message });
  }
  if (entry.ReplacementHeaders !== undefined)
    checkHeaders(entry.ReplacementHeaders, `${path}/ReplacementHeaders`, report);
}

/** To + Cc + Bcc must hold 1 to 50 recipients. A list that is not an array or over 50 alone is the schema's to report. */
function recipientProblem(destination: Record<string, unknown>): string | undefined {
  let total = 0;
  for (const name of RECIPIENT_LISTS) {
    const list = destination[name];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.length > MAX_RECIPIENTS) return undefined;
    total += list.length;
  }
  if (total === 0) return 'must have at least 1 recipient in ToAddresses, CcAddresses or BccAddresses';
  if (total > MAX_RECIPIENTS)
    return `must have at most ${MAX_RECIPIENTS} recipients in total (To + Cc + Bcc), got ${total}`;
  return undefined;
}

/** Template data must be a JSON object serialized as a string. Oversized strings are left to `maxLength`. */
function jsonObjectProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > TEMPLATE_DATA_MAX_LENGTH) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return 'must be a JSON object serialized as a string (it is not valid JSON)';
  }
  if (isJsonObject(parsed)) return undefined;
  const got = Array.isArray(parsed) ? 'an array' : parsed === null ? 'null' : `a ${typeof parsed}`;
  return `must be a JSON object serialized as a string (got ${got})`;
}

/** Name + value ≤ 996 characters per header, and no name twice in one list (case-insensitive). */
function checkHeaders(headers: unknown, path: string, report: Report): void {
  if (!Array.isArray(headers) || headers.length > MAX_HEADERS) return;
  const seen = new Map<string, number>();
  headers.forEach((header, i) => {
    // Over-long names and values are the schema's to report (and the bounded view may have cut them).
    if (!isJsonObject(header) || typeof header.Name !== 'string' || header.Name.length > HEADER_NAME_MAX) return;
    const { Name: name, Value: value } = header;
    if (typeof value === 'string' && value.length <= HEADER_VALUE_MAX && name.length + value.length > HEADER_LINE_MAX) {
      report({
        path: `${path}/${i}`,
        message: `name and value together must be at most ${HEADER_LINE_MAX} characters (got ${name.length + value.length})`,
      });
    }
    const key = name.toLowerCase();
    const first = seen.get(key);
    if (first === undefined) seen.set(key, i);
    else {
      report({
        path: `${path}/${i}/Name`,
        message: `duplicate header name ${JSON.stringify(name)} (already at index ${first}; names are case-insensitive)`,
      });
    }
  });
}
