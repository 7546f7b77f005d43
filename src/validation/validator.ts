// The request validator: the schema compiled once with ajv, plus the semantic checks, listing every problem (capped).
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsPlugin from 'ajv-formats';
import type { ValidationDetail } from '../errors.js';
import { ajvDetail } from './ajv-details.js';
import { boundedView, isJsonObject } from './bounded-view.js';
import { type SendBulkEmailSchema, sendBulkEmailSchema } from './schema.js';
import { checkEntry, checkRequest, type Report } from './semantic-checks.js';

export interface ValidatorOptions {
  /** Most entries one request may hold. Default 10,000. Ignored when `schema` is given. */
  maxEntries?: number;
  /** A schema from `sendBulkEmailSchema()`, to share one object with `buildOpenApi()`. */
  schema?: SendBulkEmailSchema;
  /** Most details listed; one more detail then says how many were left out. Default 100. */
  maxDetails?: number;
}

/** Every problem in `body` as `{ path, message }` (JSON Pointer into the body); empty when it is valid. */
export interface RequestValidator {
  (body: unknown): ValidationDetail[];
  /** The schema object ajv compiled: pass it to `buildOpenApi({ schema })` so the document embeds this very object. */
  readonly schema: SendBulkEmailSchema;
}

/** Problems counted before validation stops (only `maxDetails` of them are listed). */
const COUNT_LIMIT = 10_000;
/** Stands in for the entries while the root is checked; the real entries are checked one by one afterwards. */
const PLACEHOLDER_ENTRY = Object.freeze({
  Destination: Object.freeze({ ToAddresses: ['placeholder@example.com'] }),
});

export function createValidator(options: ValidatorOptions = {}): RequestValidator {
  const schema = options.schema ?? sendBulkEmailSchema({ maxEntries: options.maxEntries });
  const maxDetails = options.maxDetails ?? 100;
  if (!Number.isSafeInteger(maxDetails) || maxDetails < 1) throw new TypeError('maxDetails must be a positive integer');
  const entries = schema.properties.BulkEmailEntries;
  const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true });
  addFormatsPlugin.default(ajv, ['email']);
  const validateRoot = ajv.compile(schema);
  const validateEntry = ajv.compile(entries.items);

  const validate = (body: unknown): ValidationDetail[] => {
    const details: ValidationDetail[] = [];
    let count = 0;
    const report: Report = (detail) => {
      count += 1;
      if (details.length < maxDetails) details.push(detail);
    };
    const list = isJsonObject(body) && Array.isArray(body.BulkEmailEntries) ? body.BulkEmailEntries : undefined;

    // The root (entries replaced by as many valid placeholders, so their count is still checked) …
    const shell =
      isJsonObject(body) && list
        ? {
            ...body,
            BulkEmailEntries: new Array(Math.min(list.length, entries.maxItems + 1)).fill(PLACEHOLDER_ENTRY),
          }
        : body;
    const root = boundedView(schema, shell);
    run(validateRoot, root, body, '', report);
    checkRequest(root, report);
    // … then each entry, stopping once enough problems are known: work stays bounded for any input.
    const checked = Math.min(list?.length ?? 0, entries.maxItems);
    let i = 0;
    for (; i < checked && count < COUNT_LIMIT; i++) {
      const path = `/BulkEmailEntries/${i}`;
      const entry = boundedView(entries.items, list?.[i]);
      run(validateEntry, entry, list?.[i], path, report);
      checkEntry(entry, path, report);
    }
    if (count > details.length) {
      const more = count - details.length;
      const atLeast = i < checked ? 'at least ' : '';
      const noun = more === 1 ? 'problem' : 'problems';
      details.push({
        path: '',
        message: `${atLeast}${more} more ${noun} not listed (showing the first ${maxDetails})`,
      });
    }
    return details;
  };
  return Object.assign(validate, { schema });
}

function run(validate: ValidateFunction, view: unknown, original: unknown, prefix: string, report: Report): void {
  if (validate(view)) return;
  for (const error of validate.errors as ErrorObject[]) report(ajvDetail(error, original, prefix));
}
