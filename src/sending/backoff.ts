// backoffDelay(): full-jitter exponential backoff between retries of the same entries.
export interface BackoffOptions {
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({ baseDelayMs: 200, maxDelayMs: 20_000 });

/** `random() × min(maxDelayMs, baseDelayMs × 2^(attempt − 1))` in whole ms; `attempt` is 1 for the first retry. */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.min(exponent, 52));
  return Math.floor(random() * Math.max(0, ceiling));
}
