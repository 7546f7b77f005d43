// parseDuration(): '14d', '24h', '90m', '30s', '500ms' → milliseconds, for the events and guard options.

const DURATION = /^(\d+(?:\.\d+)?) *(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration in milliseconds (a whole number, > 0), or undefined when `value` is not one of the forms above. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const match = DURATION.exec(value.trim());
  if (!match) return undefined;
  const ms = Math.round(Number(match[1]) * UNIT_MS[match[2]]);
  return Number.isSafeInteger(ms) && ms > 0 ? ms : undefined;
}
