// Pure: what one SES call's outcome means per entry — what to record, what to resend, what to hold, what fails the job.
import type { BulkEmailEntryResult } from '@aws-sdk/client-sesv2';
import type { BulkEmailEntry, EntryResult, EntryStatus } from '../types.js';
import { classifyEntryStatus, type ErrorClass, normalizeEntryStatus } from './classify.js';

/** An entry as sent: `attempts` already counts the call it was just in. */
export interface CallEntry {
  index: number;
  entry: BulkEmailEntry;
  attempts: number;
}

export interface CallPlan {
  /** Written to the store: final statuses, or PENDING for entries that go again. */
  results: EntryResult[];
  /** Resend after backoff. */
  retry: CallEntry[];
  /** SES paused sending: hand these back after a delay (the paused call does not count as an attempt). */
  held: CallEntry[];
  heldStatus?: EntryStatus;
  /** Fail every other waiting entry of the job with this. */
  fatal?: { status: EntryStatus; error: string };
  /** SES throttled: slow the limiter down. */
  throttled: boolean;
  counts: { succeeded: number; failed: number; retrying: number };
  /** Why entries are resent (statuses or the error code), for chunk.retry. */
  reason: string;
}

export const MISSING_RESULT = 'SES returned no result for this entry';

export const clip = (s: string) => (s.length > 500 ? `${s.slice(0, 497)}...` : s);

function emptyPlan(): CallPlan {
  return {
    results: [],
    retry: [],
    held: [],
    throttled: false,
    counts: { succeeded: 0, failed: 0, retrying: 0 },
    reason: '',
  };
}

function holdEntry(plan: CallPlan, item: CallEntry, status: EntryStatus, error: string | undefined): void {
  const attempts = Math.max(0, item.attempts - 1);
  const result: EntryResult = { index: item.index, status: 'PENDING', attempts };
  if (error !== undefined) result.error = error;
  plan.results.push(result);
  plan.held.push({ ...item, attempts });
  plan.heldStatus = status;
}

/** SES answered; `answers[i]` belongs to `items[i]` (a missing one is UNKNOWN). SUCCESS is final, never resent. */
export function planFromAnswer(items: CallEntry[], answers: BulkEmailEntryResult[], attemptsAllowed: number): CallPlan {
  const plan = emptyPlan();
  const reasons = new Set<string>();
  items.forEach((item, i) => {
    const raw = answers[i] ?? {};
    const status = normalizeEntryStatus(raw.Status);
    const kind = classifyEntryStatus(status);
    const error = raw.Status ? raw.Error && clip(raw.Error) : MISSING_RESULT;
    const final: EntryResult = { index: item.index, status, attempts: item.attempts };
    if (error !== undefined) final.error = error;
    if (status === 'ACCOUNT_THROTTLED') plan.throttled = true;
    if (kind === 'success') {
      if (raw.MessageId !== undefined) final.messageId = raw.MessageId;
      plan.results.push(final);
      plan.counts.succeeded++;
    } else if (kind === 'retry' && item.attempts < attemptsAllowed) {
      plan.results.push({ ...final, status: 'PENDING' });
      plan.retry.push(item);
      reasons.add(status);
    } else if (kind === 'pause') {
      holdEntry(plan, item, status, error);
    } else {
      if (kind === 'fatal') plan.fatal ??= { status, error: clip(`${status}: ${error ?? 'SES refused the job'}`) };
      plan.results.push(final);
      plan.counts.failed++;
    }
  });
  plan.counts.retrying = plan.retry.length;
  plan.reason = [...reasons].join(',');
  return plan;
}

/** The whole call failed with classification `c`. With `atLeastOnce`, an unknown outcome is resent like a retry. */
export function planFromError(
  items: CallEntry[],
  c: ErrorClass,
  attemptsAllowed: number,
  atLeastOnce: boolean,
): CallPlan {
  const plan = emptyPlan();
  const kind = c.kind === 'unknown' && atLeastOnce ? 'retry' : c.kind;
  const error = clip(`${c.code}: ${c.message}`);
  plan.reason = c.code;
  plan.throttled = kind === 'throttle';
  for (const item of items) {
    if (kind === 'pause') {
      holdEntry(plan, item, c.status, error);
      continue;
    }
    const again = (kind === 'throttle' || kind === 'retry') && item.attempts < attemptsAllowed;
    plan.results.push({ index: item.index, status: again ? 'PENDING' : c.status, error, attempts: item.attempts });
    if (again) plan.retry.push(item);
    else plan.counts.failed++;
  }
  if (kind === 'fatal') plan.fatal = { status: c.status, error };
  plan.counts.retrying = plan.retry.length;
  return plan;
}
