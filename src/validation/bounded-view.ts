// A view of a request with arrays and strings cut just past their schema limits, so validating huge input stays cheap.
import type { JsonSchema } from './schema.js';

/** Plain JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Follows the schema (`properties`, `items`), never the data, so its depth is the schema's. Items past
 * `maxItems + 1` are dropped: the array is already refused by `maxItems`, and their own problems are noise.
 * Strings are cut to `2 × (maxLength + 1)` UTF-16 units, which still fails `maxLength` (it counts code points, at
 * most two units each): V8 runs some patterns recursively and overflows the stack on strings of ~16 MB.
 * Copy-on-write: returns the input itself when nothing had to be cut.
 */
export function boundedView(schema: JsonSchema, value: unknown): unknown {
  if (typeof value === 'string') {
    const keep = typeof schema.maxLength === 'number' ? 2 * (schema.maxLength + 1) : value.length;
    return value.length > keep ? value.slice(0, keep) : value;
  }
  if (Array.isArray(value)) {
    const items = schema.items as JsonSchema | undefined;
    const keep = typeof schema.maxItems === 'number' ? Math.min(value.length, schema.maxItems + 1) : value.length;
    let out = keep < value.length ? value.slice(0, keep) : undefined;
    for (let i = 0; items && i < keep; i++) {
      const item = boundedView(items, value[i]);
      if (item !== value[i]) {
        out ??= value.slice(0, keep);
        out[i] = item;
      }
    }
    return out ?? value;
  }
  const properties = schema.properties as Record<string, JsonSchema> | undefined;
  if (!isJsonObject(value) || !properties) return value;
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(properties)) {
    if (!Object.hasOwn(value, key)) continue;
    const field = boundedView(properties[key], value[key]);
    if (field !== value[key]) {
      out ??= { ...value };
      out[key] = field;
    }
  }
  return out ?? value;
}
