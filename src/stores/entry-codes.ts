// Entry statuses as small integer codes (shared by the memory and Redis stores) and how each one counts.
import { STATUS_TWINS } from '../sending/classify.js';
import { ENTRY_STATUSES } from '../sending/statuses.js';
import type { EntryStatus, JobCounts, JobStatus } from '../types.js';

/** Code 0 = waiting, 1 = in flight (reported as PENDING); every other code is a final status. */
export const PENDING = ENTRY_STATUSES.PENDING.code;
export const IN_FLIGHT = 1;
export const SUCCESS = ENTRY_STATUSES.SUCCESS.code;
export const CANCELED = ENTRY_STATUSES.CANCELED.code;
export const SUPPRESSED = ENTRY_STATUSES.SUPPRESSED.code;
export const UNKNOWN = ENTRY_STATUSES.UNKNOWN.code;

/** Index = code (from the one status table; never renumber: the Redis store persists these codes). */
export const STATUS_NAMES: readonly EntryStatus[] = (() => {
  const names: EntryStatus[] = [];
  for (const [name, { code }] of Object.entries(ENTRY_STATUSES)) names[code] = name as EntryStatus;
  names[IN_FLIGHT] = 'PENDING'; // in flight, shown as PENDING
  return Object.freeze(names);
})();

export const FAILED = ENTRY_STATUSES.FAILED.code;

/**
 * The most SES calls an entry's result records (both stores; the memory store keeps one byte per entry). The
 * `retry.attempts` option may not exceed it, so a count never saturates in practice.
 */
export const MAX_ATTEMPTS = 255;

/** A result's `attempts` as stored: a whole number in 0 … MAX_ATTEMPTS. */
export function clampAttempts(n: number): number {
  return Math.max(0, Math.min(MAX_ATTEMPTS, Math.floor(n) || 0));
}
const CODES: ReadonlyMap<string, number> = new Map<string, number>([
  ...STATUS_NAMES.map((name, code) => [name, code] as const).filter(([, code]) => code !== IN_FLIGHT),
]);

/** The code of a reported status; a status SES adds later (unknown here) is stored as FAILED. */
export function statusCode(status: string): number {
  return CODES.get(STATUS_TWINS[status] ?? status) ?? FAILED;
}

/** A job status nothing changes any more (its in-flight entries may still report). */
export function isFinalStatus(status: JobStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'canceled';
}

export type CountKey = 'sent' | 'failed' | 'pending' | 'canceled';

/** The `counts` bucket a code falls in (suppressed and unknown are parts of failed). */
export function countKey(code: number): CountKey {
  if (code <= IN_FLIGHT) return 'pending';
  if (code === SUCCESS) return 'sent';
  if (code === CANCELED) return 'canceled';
  return 'failed';
}

export function emptyCounts(): JobCounts {
  return { sent: 0, failed: 0, pending: 0, canceled: 0, suppressed: 0, unknown: 0 };
}

/** Adds `delta` entries of status `code` to `counts`. */
export function addCount(counts: JobCounts, code: number, delta: number): void {
  counts[countKey(code)] += delta;
  if (code === SUPPRESSED) counts.suppressed += delta;
  else if (code === UNKNOWN) counts.unknown += delta;
}
