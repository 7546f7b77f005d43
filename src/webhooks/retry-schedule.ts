// When a failed webhook is tried again: jittered exponential backoff for up to 3 days, a given list, Retry-After.

/** How long after its event a message is still retried with the default schedule. */
export const RETRY_WINDOW_MS = 3 * 24 * 3_600_000;
const FIRST_DELAY_MS = 5_000;
const FACTOR = 4;
const MAX_DELAY_MS = 12 * 3_600_000;
/** Each default delay is spread uniformly over ±20 % so that receivers coming back are not hit by a wave. */
const JITTER = 0.2;
/** A receiver's `Retry-After` is followed up to this long; a longer one is cut to it. */
export const MAX_RETRY_AFTER_MS = 6 * 3_600_000;

/**
 * Ms to wait after the `attempts`-th failed attempt, or null to give up. Default schedule (`delaysMs` null):
 * 5 s × 4ⁿ capped at 12 h (5 s, 20 s, 80 s, 5 min, 21 min, 85 min, 5.7 h, 12 h…), ±20 % jitter, for as long as the
 * next attempt falls within 3 days of the event — 13 or 14 attempts in all. A given list is used as is: one delay
 * per retry, no jitter, no window.
 */
export function nextRetryDelay(
  attempts: number,
  elapsedMs: number,
  delaysMs: readonly number[] | null,
  random: () => number = Math.random,
): number | null {
  if (delaysMs) return attempts >= 1 && attempts <= delaysMs.length ? delaysMs[attempts - 1] : null;
  const base = Math.min(FIRST_DELAY_MS * FACTOR ** Math.max(0, attempts - 1), MAX_DELAY_MS);
  const delay = Math.round(base * (1 - JITTER + 2 * JITTER * random()));
  return elapsedMs + delay <= RETRY_WINDOW_MS ? delay : null;
}

/** A `Retry-After` header (delay-seconds or an HTTP date) as ms from `now`, at most 6 h; undefined if unusable. */
export function parseRetryAfter(header: string | undefined, now: number): number | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  let ms: number;
  if (/^\d{1,10}$/.test(text)) ms = Number(text) * 1000;
  else {
    // Every HTTP-date form (IMF-fixdate, RFC 850, asctime) starts with a day name; Date.parse alone takes '1.5'.
    const at = /^[A-Za-z]{3}/.test(text) && text.length <= 64 ? Date.parse(text) : Number.NaN;
    if (!Number.isFinite(at)) return undefined;
    ms = at - now;
  }
  return Math.min(Math.max(0, ms), MAX_RETRY_AFTER_MS);
}
