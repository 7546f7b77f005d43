// Splitting entries: a job into chunk tasks (≤ 50 entries each), a chunk into SES calls that fit the rate limiter's burst.
import type { BulkEmailEntry, ChunkTask, IndexedEntry } from '../types.js';
import { countRecipients } from './recipients.js';

/** SES accepts at most this many entries in one SendBulkEmail call. */
export const MAX_ENTRIES_PER_CALL = 50;

/**
 * Cuts `entries` into tasks of `size` entries. `entries[i]` keeps index `startIndex + i` (its place in the original
 * request); chunk numbers count from `floor(startIndex / size)`, so the tasks of one job number 0, 1, 2, …
 */
export function chunkTasks(
  jobId: string,
  entries: BulkEmailEntry[],
  size = MAX_ENTRIES_PER_CALL,
  startIndex = 0,
): ChunkTask[] {
  if (!(Number.isInteger(size) && size >= 1)) throw new TypeError('chunkTasks: size must be a positive integer');
  const tasks: ChunkTask[] = [];
  const first = Math.floor(startIndex / size);
  for (let at = 0; at < entries.length; at += size) {
    const slice = entries.slice(at, at + size).map((entry, i) => ({ index: startIndex + at + i, entry }));
    tasks.push({ jobId, chunk: first + tasks.length, entries: slice });
  }
  return tasks;
}

/**
 * Groups entries, in order, into SES calls of at most 50 entries and at most `maxRecipients` recipients. An entry
 * that alone exceeds `maxRecipients` gets a call of its own (an entry cannot be split).
 */
export function splitCalls<T extends IndexedEntry>(entries: readonly T[], maxRecipients: number): T[][] {
  const limit = Math.max(1, Math.floor(maxRecipients) || 1);
  const calls: T[][] = [];
  let current: T[] = [];
  let recipients = 0;
  for (const item of entries) {
    const n = countRecipients(item.entry);
    if (current.length > 0 && (current.length >= MAX_ENTRIES_PER_CALL || recipients + n > limit)) {
      calls.push(current);
      current = [];
      recipients = 0;
    }
    current.push(item);
    recipients += n;
  }
  if (current.length > 0) calls.push(current);
  return calls;
}
