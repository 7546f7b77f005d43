// Shared bits of the Redis suites: the REDIS_URL gate, unique key prefixes, and deleting only the keys a suite made.
import { randomUUID } from 'node:crypto';
import { deleteKeysAt } from '../helpers/redis-keys.js';

export const REDIS_URL = process.env.REDIS_URL;

if (!REDIS_URL) console.warn('[integ] Redis suites skipped: set REDIS_URL (e.g. redis://127.0.0.1:6379) to run them');

export function uniquePrefix(tag: string): string {
  return `ebe-test-${tag}-${randomUUID().slice(0, 8)}`;
}

/** Deletes every key under `prefix:` (SCAN, never FLUSHDB). */
export async function deleteKeys(prefix: string): Promise<void> {
  if (REDIS_URL) await deleteKeysAt(REDIS_URL, prefix);
}
