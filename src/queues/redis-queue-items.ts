// The Redis queue's item format: one task as one string whose entries the Lua can count and split without JSON.
import { countRecipients } from '../sending/recipients.js';
import type { IndexedEntry } from '../types.js';

const FIELD = '\x1f';
const ENTRY = '\x1e';

/** A task as the queue stores it: its chunk number, how many times a consumer threw on it, its entries. */
export interface QueueItem {
  chunk: number;
  failures: number;
  recipients: number;
  entries: IndexedEntry[];
}

/**
 * "<chunk>\31<failures>\31<recipients>" then "\30<recipients>\31<IndexedEntry JSON>" per entry. JSON.stringify
 * escapes every control character, so neither separator can occur inside an entry.
 */
export function encodeItem(chunk: number, failures: number, entries: readonly IndexedEntry[]): string {
  let total = 0;
  const parts: string[] = [];
  for (const e of entries) {
    const n = countRecipients(e.entry);
    total += n;
    parts.push(`${ENTRY}${n}${FIELD}${JSON.stringify(e)}`);
  }
  return `${chunk}${FIELD}${failures}${FIELD}${total}${parts.join('')}`;
}

export function decodeItem(item: string): QueueItem {
  const [head, ...entries] = item.split(ENTRY);
  const [chunk, failures, recipients] = head.split(FIELD).map(Number);
  return {
    chunk,
    failures,
    recipients,
    entries: entries.map((e) => JSON.parse(e.slice(e.indexOf(FIELD) + 1)) as IndexedEntry),
  };
}
