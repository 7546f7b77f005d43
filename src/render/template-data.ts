// Template data: parse TemplateData/ReplacementTemplateData once, and find which required variables an entry lacks.
import { isJsonObject } from '../validation/bounded-view.js';
import type { VariableRef } from './template-variables.js';

/** A parsed `TemplateData` / `ReplacementTemplateData`: always a JSON object. */
export type TemplateData = Record<string, unknown>;

/**
 * Parses template data as SES reads it: absent or `''` → `undefined` (no data); otherwise it must be a JSON object.
 * Returns an Error (not thrown) for anything else, so callers can report it.
 */
export function parseTemplateData(text: string | undefined, field = 'TemplateData'): TemplateData | undefined | Error {
  if (text === undefined || text === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return new Error(`${field} is not valid JSON`);
  }
  if (!isJsonObject(value)) return new Error(`${field} must be a JSON object`);
  return value;
}

const hasOwn = (obj: object, key: string) => Object.hasOwn(obj, key);

function hasAny(data: TemplateData): boolean {
  for (const key in data) if (hasOwn(data, key)) return true;
  return false;
}

/**
 * Whether `path` resolves in `entry` deep-merged over `defaults` (the emulator's merge: the entry's keys override,
 * nested objects merge recursively, arrays and scalars are replaced whole), without building the merged object.
 */
function presentMerged(entry: unknown, defaults: unknown, path: string[]): boolean {
  let e = entry;
  let d = defaults;
  for (const seg of path) {
    if (isJsonObject(e) && isJsonObject(d)) {
      if (hasOwn(e, seg)) {
        const ev = e[seg];
        d = isJsonObject(ev) && hasOwn(d, seg) && isJsonObject(d[seg]) ? d[seg] : undefined;
        e = ev;
      } else if (hasOwn(d, seg)) {
        e = d[seg];
        d = undefined;
      } else {
        return false;
      }
    } else {
      const v = e !== undefined ? e : d;
      if (typeof v !== 'object' || v === null || !hasOwn(v, seg)) return false;
      e = (v as Record<string, unknown>)[seg];
      d = undefined;
    }
  }
  return e !== undefined;
}

/**
 * The names of the `required` variables missing for one entry, given parsed data.
 * `merge: true` looks them up in the entry's data deep-merged over the defaults (what the emulator does);
 * `merge: false` uses SES's documented fallback: the entry's data when it has at least one key, else the defaults.
 * A value is present when it is not `undefined`: `null`, `""`, `0`, `false`, `[]` and `{}` all count as present
 * (they render, possibly as empty text). Reading through a non-object (`{{a.b}}` with `"a": "x"` or `null`) is missing.
 */
export function missingVariables(
  required: readonly VariableRef[],
  defaults: TemplateData | undefined,
  entry: TemplateData | undefined,
  merge: boolean,
): string[] {
  const missing: string[] = [];
  if (merge) {
    for (const ref of required) if (!presentMerged(entry, defaults, ref.path)) missing.push(ref.name);
  } else {
    const data = entry !== undefined && hasAny(entry) ? entry : defaults;
    for (const ref of required) if (!presentMerged(data, undefined, ref.path)) missing.push(ref.name);
  }
  return missing;
}

/**
 * Whether, with `merge: true`, every entry has all `required` variables whatever its data: each is a top-level key of
 * `defaults`, and an entry's data merged over them may replace such a key's value but never remove it.
 */
export function defaultsCoverAll(required: readonly VariableRef[], defaults: TemplateData | undefined): boolean {
  if (defaults === undefined) return false;
  for (const ref of required) if (ref.path.length !== 1 || !hasOwn(defaults, ref.path[0])) return false;
  return true;
}

/** Whether one entry lacks none of the `required` variables (see `missingVariables`); allocates nothing. */
export function hasVariables(
  required: readonly VariableRef[],
  defaults: TemplateData | undefined,
  entry: TemplateData | undefined,
  merge: boolean,
): boolean {
  if (merge) {
    for (const ref of required) if (!presentMerged(entry, defaults, ref.path)) return false;
  } else {
    const data = entry !== undefined && hasAny(entry) ? entry : defaults;
    for (const ref of required) if (!presentMerged(data, undefined, ref.path)) return false;
  }
  return true;
}
