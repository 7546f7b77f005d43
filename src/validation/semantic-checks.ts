// The checks JSON Schema cannot express: one template source, JSON-object data, recipient totals, header rules, base64.
import type { ValidationDetail } from '../errors.js';
import { isJsonObject } from './bounded-view.js';
import { isJsonObjectText } from './json-object-text.js';
import {
  HEADER_LINE_MAX,
  HEADER_NAME_MAX,
  HEADER_VALUE_MAX,
  MAX_HEADERS,
  MAX_RECIPIENTS,
  TEMPLATE_DATA_MAX_LENGTH,
} from './schema.js';

/** Receives each problem; a function is called only when the problem will be listed (see `DetailList`). */
export type Report = (detail: ValidationDetail | (() => ValidationDetail)) => void;

/**
 * What the checks learned of the template data, for the render check. `TemplateData` is parsed (once per request);
 * entries' `ReplacementTemplateData` are only scanned (isJsonObjectText), and the render check parses one only when
 * the defaults do not already cover the template. Create one per request with `parsedTemplateData()`.
 */
export interface ParsedTemplateData {
  /** `DefaultContent.Template.TemplateData`: its text and value. */
  defaults?: { text: string; value: Record<string, unknown> };
  /** By entry index: the `ReplacementTemplateData` texts found to be JSON objects. */
  objects: string[];
}

export function parsedTemplateData(): ParsedTemplateData {
  return { objects: [] };
}

const TEMPLATE_SOURCES = ['TemplateName', 'TemplateArn', 'TemplateContent'] as const;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Checks the request outside its entries. Each check looks only at values of the expected type: a value of the
 * wrong type is already reported by the schema, so it is skipped here rather than reported twice.
 */
export function checkRequest(body: unknown, report: Report, parsed?: ParsedTemplateData): void {
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
  const dataProblem = jsonObjectProblem(template.TemplateData, parsed);
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

/**
 * Checks entry `index` of `BulkEmailEntries`. Runs for every entry, so it stays lean: paths are only built for
 * problems.
 */
export function checkEntry(entry: unknown, index: number, report: Report, parsed?: ParsedTemplateData): void {
  if (!isJsonObject(entry)) return;
  if (isJsonObject(entry.Destination)) {
    const message = recipientProblem(entry.Destination);
    if (message) report({ path: `/BulkEmailEntries/${index}/Destination`, message });
  }
  const content = entry.ReplacementEmailContent;
  const replacement = isJsonObject(content) ? content.ReplacementTemplate : undefined;
  const data = isJsonObject(replacement) ? replacement.ReplacementTemplateData : undefined;
  if (typeof data === 'string' && data.length <= TEMPLATE_DATA_MAX_LENGTH) {
    const message = jsonObjectProblem(data);
    if (message) {
      report({
        path: `/BulkEmailEntries/${index}/ReplacementEmailContent/ReplacementTemplate/ReplacementTemplateData`,
        message,
      });
    } else if (parsed) parsed.objects[index] = data;
  }
  if (entry.ReplacementHeaders !== undefined)
    checkHeaders(entry.ReplacementHeaders, `/BulkEmailEntries/${index}/ReplacementHeaders`, report);
}

/** To + Cc + Bcc must hold 1 to 50 recipients. A list that is not an array or over 50 alone is the schema's to report. */
function recipientProblem(destination: Record<string, unknown>): string | undefined {
  // named reads, not a loop over the names: this runs for every entry
  const to = listSize(destination.ToAddresses);
  const cc = listSize(destination.CcAddresses);
  const bcc = listSize(destination.BccAddresses);
  if (to < 0 || cc < 0 || bcc < 0) return undefined;
  const total = to + cc + bcc;
  if (total === 0) return 'must have at least 1 recipient in ToAddresses, CcAddresses or BccAddresses';
  if (total > MAX_RECIPIENTS)
    return `must have at most ${MAX_RECIPIENTS} recipients in total (To + Cc + Bcc), got ${total}`;
  return undefined;
}

/** How many recipients one list holds: 0 when absent, -1 when it is not an array or is over 50 on its own. */
function listSize(list: unknown): number {
  if (list === undefined) return 0;
  return Array.isArray(list) && list.length <= MAX_RECIPIENTS ? list.length : -1;
}

/**
 * Template data must be a JSON object serialized as a string. Oversized strings are left to `maxLength`.
 * Without `parsed` (entries) a string the scanner accepts is not parsed at all; with it (the template's own data),
 * a JSON object is parsed and kept there for the render check.
 */
function jsonObjectProblem(value: unknown, parsed?: ParsedTemplateData): string | undefined {
  if (typeof value !== 'string' || value.length > TEMPLATE_DATA_MAX_LENGTH) return undefined;
  if (!parsed && isJsonObjectText(value)) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(value);
  } catch {
    return 'must be a JSON object serialized as a string (it is not valid JSON)';
  }
  if (isJsonObject(data)) {
    if (parsed) parsed.defaults = { text: value, value: data };
    return undefined;
  }
  const got = Array.isArray(data) ? 'an array' : data === null ? 'null' : `a ${typeof data}`;
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
