// `?send_at=` on POST /: an RFC 3339 time with an offset, no further ahead than `maxScheduleAhead`.
import { validationError } from '../errors.js';

/** A send time up to this far in the past is taken as "now" (clocks differ between client and server). */
export const SEND_AT_TOLERANCE_MS = 60_000;

/** RFC 3339 `date-time`: the offset is required (`Z` or `±hh:mm`). */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-](\d{2}):(\d{2}))$/;

const bad = (message: string) => validationError({ path: '/send_at', message });

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Epoch ms of an RFC 3339 time with an offset; a 400 that says what is wrong otherwise. */
export function parseRfc3339(text: string): number {
  const m = RFC3339.exec(text);
  if (!m) {
    const hint = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text)
      ? ' (it has no offset: add Z for UTC, or one such as +02:00)'
      : '';
    throw bad(`send_at must be an RFC 3339 time with an offset, such as 2030-01-31T09:00:00+01:00${hint}`);
  }
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const offsetHours = m[9] === undefined ? 0 : Number(m[9]);
  const offsetMinutes = m[10] === undefined ? 0 : Number(m[10]);
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysIn(year, month) ||
    hour > 23 ||
    minute > 59 ||
    second > 59 ||
    offsetHours > 23 ||
    offsetMinutes > 59
  ) {
    throw bad(`send_at ${JSON.stringify(text)} is not a valid date and time`);
  }
  const ms = Date.parse(text.toUpperCase());
  if (!Number.isFinite(ms)) throw bad(`send_at ${JSON.stringify(text)} is not a valid date and time`);
  return ms;
}

function describeMs(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
    [1000, 'second'],
  ];
  for (const [size, name] of units) {
    if (ms >= size && ms % size === 0) return `${ms / size} ${name}${ms === size ? '' : 's'}`;
  }
  return `${ms} ms`;
}

/**
 * The send time `?send_at=` asks for (epoch ms), or undefined without one. A time up to SEND_AT_TOLERANCE_MS in the
 * past means now (undefined: not scheduled); earlier, or later than `maxAheadMs` from now, is a 400.
 */
export function parseSendAt(raw: unknown, now: number, maxAheadMs: number): number | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || raw.length > 64) throw bad('send_at must be given once, as an RFC 3339 time');
  const at = parseRfc3339(raw.trim());
  if (at < now - SEND_AT_TOLERANCE_MS) {
    throw bad(`send_at ${JSON.stringify(raw)} is in the past (more than ${SEND_AT_TOLERANCE_MS / 1000} seconds ago)`);
  }
  if (at > now + maxAheadMs) {
    throw bad(`send_at ${JSON.stringify(raw)} is more than ${describeMs(maxAheadMs)} ahead (maxScheduleAhead)`);
  }
  return at > now ? at : undefined;
}
