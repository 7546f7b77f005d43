// Applies the `suppress` hook's answer: drops suppressed addresses, and marks entries with none left SUPPRESSED.
import type { BulkEmailEntry, Destination, IndexedEntry } from '../types.js';
import { addressOf } from './sender-policy.js';

const FIELDS = ['ToAddresses', 'CcAddresses', 'BccAddresses'] as const;

/** Every distinct recipient address in the request, in first-seen order. */
export function allRecipients(entries: readonly BulkEmailEntry[]): string[] {
  const seen = new Set<string>();
  for (const entry of entries) {
    for (const field of FIELDS) for (const a of entry.Destination[field] ?? []) seen.add(a);
  }
  return [...seen];
}

export interface SuppressionOutcome {
  /** Entries to send (with suppressed addresses removed), with their original index, in index order. */
  entries: IndexedEntry[];
  /** Indexes whose every recipient was suppressed. */
  suppressed: number[];
}

export function applySuppression(
  entries: readonly BulkEmailEntry[],
  suppressedAddresses: Iterable<string>,
): SuppressionOutcome {
  const blocked = new Set<string>();
  for (const a of suppressedAddresses) if (typeof a === 'string') blocked.add(addressOf(a));
  if (blocked.size === 0) return { entries: entries.map((entry, index) => ({ index, entry })), suppressed: [] };
  const kept: IndexedEntry[] = [];
  const suppressed: number[] = [];
  entries.forEach((entry, index) => {
    let changed = false;
    const destination: Destination = {};
    let remaining = 0;
    for (const field of FIELDS) {
      const list = entry.Destination[field];
      if (!list) continue;
      const left = list.filter((a) => !blocked.has(addressOf(a)));
      if (left.length !== list.length) changed = true;
      if (left.length) destination[field] = left;
      remaining += left.length;
    }
    if (remaining === 0) suppressed.push(index);
    else kept.push({ index, entry: changed ? { ...entry, Destination: destination } : entry });
  });
  return { entries: kept, suppressed };
}
