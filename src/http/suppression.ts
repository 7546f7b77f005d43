// The `suppress` hook as an accept step: drops suppressed addresses, and ends entries with none left SUPPRESSED.
import { entryError } from '../sending/entry-errors.js';
import type { Destination, EntryResult, IndexedEntry, Principal } from '../types.js';
import type { RouteContext } from './context.js';
import { type AcceptStep, mergeByIndex } from './draft.js';
import { addressOf } from './sender-policy.js';

const FIELDS = ['ToAddresses', 'CcAddresses', 'BccAddresses'] as const;

/** Every distinct recipient address of these entries, in first-seen order. */
export function allRecipients(entries: readonly IndexedEntry[]): string[] {
  const seen = new Set<string>();
  for (const { entry } of entries) {
    for (const field of FIELDS) for (const a of entry.Destination[field] ?? []) seen.add(a);
  }
  return [...seen];
}

export interface SuppressionOutcome {
  /** Entries to send (with suppressed addresses removed), in the order given. */
  entries: IndexedEntry[];
  /** Indexes whose every recipient was suppressed. */
  suppressed: number[];
}

export function applySuppression(entries: IndexedEntry[], suppressedAddresses: Iterable<string>): SuppressionOutcome {
  const blocked = new Set<string>();
  for (const a of suppressedAddresses) if (typeof a === 'string') blocked.add(addressOf(a));
  if (blocked.size === 0) return { entries, suppressed: [] };
  const kept: IndexedEntry[] = [];
  const suppressed: number[] = [];
  for (const item of entries) {
    const { entry } = item;
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
    if (remaining === 0) suppressed.push(item.index);
    else kept.push(changed ? { index: item.index, entry: { ...entry, Destination: destination } } : item);
  }
  return { entries: kept, suppressed };
}

/** The accept step: asks `suppress` about every recipient still to send, once per request. */
export function suppressionStep<P extends Principal>(ctx: RouteContext<P>): AcceptStep<P> | undefined {
  const { suppress } = ctx.config;
  if (!suppress) return undefined;
  return async (draft) => {
    const toSkip = await suppress(allRecipients(draft.entries), draft.hook);
    const outcome = applySuppression(draft.entries, toSkip ?? []);
    if (outcome.suppressed.length === 0) return;
    const results: EntryResult[] = outcome.suppressed.map((index) => ({
      index,
      status: 'SUPPRESSED',
      error: entryError('SUPPRESSED'),
      attempts: 0,
    }));
    draft.entries = outcome.entries;
    draft.initial = mergeByIndex(draft.initial, results);
  };
}
