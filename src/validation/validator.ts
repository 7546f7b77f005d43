// The request validator: the schema compiled once with ajv, plus the semantic checks, listing every problem (capped).
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsPlugin from 'ajv-formats';
import { type DetailList, detailList, MAX_DETAILS, type ValidationDetail } from '../errors.js';
import { ajvDetail } from './ajv-details.js';
import { boundedView, isJsonObject } from './bounded-view.js';
import { type SendBulkEmailSchema, sendBulkEmailSchema } from './schema.js';
import { checkEntry, checkRequest, type ParsedTemplateData, type Report } from './semantic-checks.js';

export interface ValidatorOptions {
  /** Most entries one request may hold. Default 10,000. Ignored when `schema` is given. */
  maxEntries?: number;
  /** A schema from `sendBulkEmailSchema()`, to share one object with `buildOpenApi()`. */
  schema?: SendBulkEmailSchema;
  /** Most details listed; one more detail then says how many were left out. Default 100. */
  maxDetails?: number;
}

export interface ValidateOptions {
  /** Receives the request's TemplateData, parsed when it is a JSON object, for the render check (`parsedTemplateData()`). */
  parsed?: ParsedTemplateData;
}

/** Every problem in `body` as `{ path, message }` (JSON Pointer into the body); empty when it is valid. */
export interface RequestValidator {
  (body: unknown, options?: ValidateOptions): ValidationDetail[];
  /** The schema object ajv compiled: pass it to `buildOpenApi({ schema })` so the document embeds this very object. */
  readonly schema: SendBulkEmailSchema;
}

/** Problems counted before validation stops (only `maxDetails` of them are listed). */
const COUNT_LIMIT = 10_000;
/** Stands in for the entries while the root is checked; the real entries are checked one by one afterwards. */
const PLACEHOLDER_ENTRY = Object.freeze({
  Destination: Object.freeze({ ToAddresses: ['placeholder@example.com'] }),
});

function compiler(options: { allErrors: boolean; unicode: boolean }): Ajv2020 {
  const ajv = new Ajv2020({
    allErrors: options.allErrors,
    // verbose (error data and parent schema) only where errors are turned into details
    verbose: options.allErrors,
    strict: true,
    // `unicode: false` (lengths in UTF-16 units) is deprecated and ajv logs so unless its logger is off; the detailed
    // compiler compiles the same schema with its logger on, so no other warning is lost.
    ...(options.unicode ? {} : { unicode: false, logger: false as const }),
  });
  addFormatsPlugin.default(ajv, ['email']);
  return ajv;
}

/** The largest `minLength` anywhere in a schema (0 when there is none). */
function largestMinLength(schema: unknown): number {
  if (typeof schema !== 'object' || schema === null) return 0;
  let largest = 0;
  for (const [keyword, value] of Object.entries(schema)) {
    if (keyword === 'minLength' && typeof value === 'number') largest = Math.max(largest, value);
    else largest = Math.max(largest, largestMinLength(value));
  }
  return largest;
}

/**
 * Valid bodies, the common case, pass one compiled check of the whole body that stops at the first error, then the
 * semantic checks. Only a body that fails it is checked again in detail: the root, then entry by entry, on bounded
 * views, listing every problem. Both paths report the same problems: the whole-body check passes only when every
 * part passes, and a bounded view of a valid value is the value itself.
 *
 * The whole-body check may refuse more than the schema (the detailed check then finds nothing and the body is
 * valid), never less: it counts string lengths in UTF-16 units, which saves counting code points string by string.
 * A length in units is never less than in code points, so `maxLength` only gets stricter; `minLength` is unchanged
 * while no limit is above 1 (a string has at least one unit exactly when it has at least one code point).
 */
export function createValidator(options: ValidatorOptions = {}): RequestValidator {
  const schema = options.schema ?? sendBulkEmailSchema({ maxEntries: options.maxEntries });
  const maxDetails = options.maxDetails ?? MAX_DETAILS;
  if (!Number.isSafeInteger(maxDetails) || maxDetails < 1) throw new TypeError('maxDetails must be a positive integer');
  const entries = schema.properties.BulkEmailEntries;
  const validateBody = compiler({ allErrors: false, unicode: largestMinLength(schema) > 1 }).compile(schema);
  const detailed = compiler({ allErrors: true, unicode: true });
  const validateRoot = detailed.compile(schema);
  const validateEntry = detailed.compile(entries.items);

  // The problems of the call running now. A call runs synchronously to its end, so one reporter serves them all.
  let problems: DetailList = detailList(maxDetails);
  const report: Report = (detail) => problems.add(detail);

  const validate = (body: unknown, validateOptions?: ValidateOptions): ValidationDetail[] => {
    const parsed = validateOptions?.parsed;
    problems = detailList(maxDetails);
    const list = isJsonObject(body) && Array.isArray(body.BulkEmailEntries) ? body.BulkEmailEntries : undefined;
    const schemaValid = validateBody(body);

    if (schemaValid) checkRequest(body, report, parsed);
    else {
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
      checkRequest(root, report, parsed);
    }
    // … then each entry, stopping once enough problems are known: work stays bounded for any input.
    const checked = Math.min(list?.length ?? 0, entries.maxItems);
    let i = 0;
    for (; i < checked && problems.count < COUNT_LIMIT; i++) {
      let entry = list?.[i];
      if (!schemaValid) {
        entry = boundedView(entries.items, entry);
        run(validateEntry, entry, list?.[i], `/BulkEmailEntries/${i}`, report);
      }
      checkEntry(entry, i, report, parsed);
    }
    const atLeast = i < checked ? 'at least ' : '';
    return problems.list((more) => ({
      path: '',
      message: `${atLeast}${more} more ${more === 1 ? 'problem' : 'problems'} not listed (showing the first ${maxDetails})`,
    }));
  };
  return Object.assign(validate, { schema });
}

function run(validate: ValidateFunction, view: unknown, original: unknown, prefix: string, report: Report): void {
  if (validate(view)) return;
  for (const error of validate.errors as ErrorObject[]) report(() => ajvDetail(error, original, prefix));
}
