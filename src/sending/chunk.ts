// Cutting a job into calls: tasks of ≤ 50 entries and ≤ maxRecipientsPerCall recipients, each one SES call.
import type { ChunkTask, IndexedEntry } from '../types.js';
import { countRecipients } from './recipients.js';

/** SES accepts at most this many entries in one SendBulkEmail call. */
export const MAX_ENTRIES_PER_CALL = 50;

/**
 * Cuts `entries` (in index order) into tasks, numbered 0, 1, 2, …, of at most 50 entries and at most
 * `maxRecipients` recipients. An entry that alone exceeds `maxRecipients` gets a task of its own (an entry cannot
 * be split). The accept path queues these tasks and the dry run shows them as its plan: one cutter for both.
 */
export function cutTasks(
  jobId: string,
  entries: readonly IndexedEntry[],
  maxRecipients: number = Number.POSITIVE_INFINITY,
): ChunkTask[] {
  const tasks: ChunkTask[] = [];
  let current: IndexedEntry[] = [];
  let recipients = 0;
  for (const item of entries) {
    const n = countRecipients(item.entry);
    if (current.length > 0 && (current.length >= MAX_ENTRIES_PER_CALL || recipients + n > maxRecipients)) {
      tasks.push({ jobId, chunk: tasks.length, entries: current });
      current = [];
      recipients = 0;
    }
    current.push(item);
    recipients += n;
  }
  if (current.length > 0) tasks.push({ jobId, chunk: tasks.length, entries: current });
  return tasks;
}

/** Recipients of a list of entries (To + Cc + Bcc of each). */
export function recipientsOf(entries: readonly IndexedEntry[]): number {
  let n = 0;
  for (const item of entries) n += countRecipients(item.entry);
  return n;
}
