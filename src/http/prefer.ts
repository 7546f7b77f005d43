// Parses `Prefer: wait=N` (RFC 7240) into seconds, capped at 60.
import type { Request } from 'express';

export const MAX_WAIT_SECONDS = 60;

/** The requested wait in seconds, or undefined when the client did not ask to wait. */
export function preferredWait(req: Request): number | undefined {
  const header = req.headers.prefer;
  if (!header) return undefined;
  const values = Array.isArray(header) ? header : [header];
  for (const value of values) {
    for (const part of value.split(',')) {
      const match = /^\s*wait\s*=\s*"?(\d{1,6})"?\s*(?:;.*)?$/i.exec(part);
      if (match) return Math.min(Number(match[1]), MAX_WAIT_SECONDS);
    }
  }
  return undefined;
}
