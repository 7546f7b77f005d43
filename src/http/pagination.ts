// `?limit=` and `?cursor=` for GET /:id/results; cursors are opaque base64url of the last index returned.
import { validationError } from '../errors.js';

export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 1000;

export function encodeCursor(lastIndex: number): string {
  return Buffer.from(`i:${lastIndex}`).toString('base64url');
}

/** Returns the index after which the page starts (-1 for the first page). */
export function decodeCursor(cursor: unknown): number {
  if (cursor === undefined) return -1;
  if (typeof cursor === 'string' && /^[A-Za-z0-9_-]{1,40}$/.test(cursor)) {
    const match = /^i:(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString());
    if (match) return Number(match[1]);
  }
  throw validationError({ path: '/cursor', message: 'cursor is not one this API returned' });
}

export function parseLimit(limit: unknown, fallback = DEFAULT_PAGE, max = MAX_PAGE): number {
  if (limit === undefined) return fallback;
  if (typeof limit === 'string' && /^\d{1,4}$/.test(limit)) {
    const n = Number(limit);
    if (n >= 1 && n <= max) return n;
  }
  throw validationError({ path: '/limit', message: `limit must be a whole number from 1 to ${max}` });
}
