// Turns one ajv error into a `{ path, message }` detail: a JSON Pointer to the offending value and a specific message.
import type { ErrorObject } from 'ajv/dist/2020.js';
import type { ValidationDetail } from '../errors.js';
import { getByPointer, joinPointer } from './json-pointer.js';
import { PATTERNS } from './schema.js';

/** Unknown field names longer than this are not echoed whole, and point at their object instead of themselves. */
const MAX_SHOWN_NAME = 128;
/** A value with CR, LF or another control character gets that said, whichever rule it broke. */
const ONE_LINE = new RegExp(PATTERNS.oneLine.pattern, 'u');
const CONTROL_MESSAGE = PATTERNS.oneLine.message;
const PATTERN_MESSAGES = new Map<string, string>(Object.values(PATTERNS).map((p) => [p.pattern, p.message]));

/**
 * `error` must come from a validator compiled with `verbose: true` (for `data` and `parentSchema`).
 * `original` is the unbounded value the error's instancePath is relative to, `prefix` the pointer to it.
 */
export function ajvDetail(error: ErrorObject, original: unknown, prefix: string): ValidationDetail {
  const path = prefix + error.instancePath;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const name = String(params.additionalProperty);
      if (name.length > MAX_SHOWN_NAME) {
        return {
          path,
          message: `unknown field ${JSON.stringify(`${name.slice(0, 40)}…`)} (a ${name.length}-character name)`,
        };
      }
      const known = Object.keys((error.parentSchema?.properties as object | undefined) ?? {});
      return {
        path: joinPointer(path, name),
        message: `unknown field ${JSON.stringify(name)}${suggestion(name, known)}`,
      };
    }
    case 'required':
      return {
        path: joinPointer(path, String(params.missingProperty)),
        message: `required field "${String(params.missingProperty)}" is missing`,
      };
    case 'type':
      return {
        path,
        message: `must be ${withArticle(String(params.type))} (got ${describe(error.data)})`,
      };
    case 'minLength':
      return {
        path,
        message: params.limit === 1 ? 'must not be empty' : `must be at least ${params.limit} characters long`,
      };
    case 'maxLength':
      return {
        path,
        message: `must be at most ${params.limit} characters long (got ${lengthOf(getByPointer(original, error.instancePath))})`,
      };
    case 'minItems':
      return {
        path,
        message: `must contain at least ${params.limit} ${noun(path, Number(params.limit))}`,
      };
    case 'maxItems': {
      const actual = getByPointer(original, error.instancePath);
      const got = Array.isArray(actual) ? ` (got ${actual.length})` : '';
      return {
        path,
        message: `must contain at most ${params.limit} ${noun(path, Number(params.limit))}${got}`,
      };
    }
    case 'pattern':
      return {
        path,
        message: hasControl(error.data)
          ? CONTROL_MESSAGE
          : (PATTERN_MESSAGES.get(String(params.pattern)) ?? `must match ${params.pattern}`),
      };
    case 'format':
      return {
        path,
        message: hasControl(error.data) ? CONTROL_MESSAGE : 'must be a plain email address, like user@example.com',
      };
    case 'enum':
      return {
        path,
        message: `must be one of ${(params.allowedValues as unknown[]).join(', ')} (got ${describe(error.data)})`,
      };
    default:
      return { path, message: error.message ?? `fails ${error.keyword}` };
  }
}

function hasControl(value: unknown): boolean {
  return typeof value === 'string' && !ONE_LINE.test(value);
}

/** Length in code points, as `maxLength` counts: every UTF-16 unit but the second half of a surrogate pair. */
function lengthOf(value: unknown): number {
  let count = 0;
  if (typeof value === 'string') {
    for (let i = 0; i < value.length; i++) {
      const unit = value.charCodeAt(i);
      if (unit < 0xdc00 || unit > 0xdfff) count++;
    }
  }
  return count;
}

/** A short, safe description of a value: never serializes objects (they may be huge or deeply nested). */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

function withArticle(type: string): string {
  return `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`;
}

/** What a list holds, from its field name: "entries", "headers", "addresses"… */
const NOUNS: [suffix: string, one: string, many: string][] = [
  ['Entries', 'entry', 'entries'],
  ['Addresses', 'address', 'addresses'],
  ['Headers', 'header', 'headers'],
  ['Tags', 'tag', 'tags'],
  ['Attachments', 'attachment', 'attachments'],
];

function noun(path: string, count: number): string {
  const field = path.slice(path.lastIndexOf('/') + 1);
  const [, one, many] = NOUNS.find(([suffix]) => field.endsWith(suffix)) ?? ['', 'item', 'items'];
  return count === 1 ? one : many;
}

/** ` (did you mean "X"?)` for a near miss of a known field: same letters in another case, or ≤ 2 edits away. */
function suggestion(name: string, known: string[]): string {
  if (name.length > 64) return '';
  const lower = name.toLowerCase();
  const match =
    known.find((k) => k.toLowerCase() === lower) ?? known.find((k) => editDistance(k.toLowerCase(), lower) <= 2);
  return match ? ` (did you mean "${match}"?)` : '';
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
