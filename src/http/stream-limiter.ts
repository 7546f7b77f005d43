// streamLimiter(): how many event streams one principal may hold open in this process (→ 429 RATE_LIMITED).
import { BulkEmailError } from '../errors.js';

export interface StreamLimiter {
  /** A release function when the principal may open one more stream (call it once the stream ends); null when not. */
  acquire(principalId: string): (() => void) | null;
  /** Streams open now, all principals together. */
  readonly open: number;
}

/** Counts per principal; a principal with no stream open holds no memory. */
export function streamLimiter(maxPerPrincipal: number): StreamLimiter {
  const counts = new Map<string, number>();
  let open = 0;
  return {
    acquire(principalId) {
      const count = counts.get(principalId) ?? 0;
      if (count >= maxPerPrincipal) return null;
      counts.set(principalId, count + 1);
      open += 1;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        open -= 1;
        const left = (counts.get(principalId) ?? 1) - 1;
        if (left > 0) counts.set(principalId, left);
        else counts.delete(principalId);
      };
    },
    get open() {
      return open;
    },
  };
}

/** The 429 a principal gets for one stream too many. */
export function tooManyStreams(maxPerPrincipal: number): BulkEmailError {
  return new BulkEmailError(
    'RATE_LIMITED',
    `At most ${maxPerPrincipal} event streams may be open at once; close one and retry`,
    { retryAfter: 5 },
  );
}
