// Pure: what one SES call's outcome means per entry — what to record, what to resend, what to hold, what fails the job.
import type { BulkEmailEntryResult } from '@aws-sdk/client-sesv2';
import type { EntryError, EntryResult, EntryStatus, IndexedEntry } from '../types.js';
import { type ErrorClass, classifyEntryStatus, normalizeEntryStatus } from './classify.js';
import { entryError, scrub } from './entry-errors.js';

/** An entry as sent: `attempts` already counts the call it was just in. */
export interface CallEntry extends IndexedEntry {
  attempts: number;
}

export interface CallPlan {
  /** Written to the store: final statuses, or PENDING (with the error so far) for entries that go again. */
  results: EntryResult[];
  /** Resend after backoff. */
  retry: CallEntry[];
  /** SES paused sending or the daily quota is spent: hand these back later (the call does not count as an attempt). */
  held: CallEntry[];
  /** Why entries are held, when some are. */
  hold?: 'paused' | 'quota';
  /** Fail the job (every other waiting entry) with this. */
  fatal?: EntryError;
  /** SES throttled: slow the shared pacing down. */
  throttled: boolean;
  counts: { succeeded: number; failed: number; retrying: number };
  /** Why entries are resent or held (statuses or the error code), for chunk.retry. */
  reason: string;
}

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

function holdEntry(plan: CallPlan, item: CallEntry, why: 'paused' | 'quota', error: EntryError): void {
  const attempts = Math.max(0, item.attempts - 1);
  plan.results.push({ index: item.index, status: 'PENDING', error, attempts });
  plan.held.push({ ...item, attempts });
  plan.hold = plan.hold === 'quota' ? 'quota' : why;
}

const sesEntryError = (status: EntryStatus, text: string | undefined): EntryError => ({
  code: status,
  message: text ? scrub(text) : `SES answered ${status}`,
});

/** SES answered; `answers[i]` belongs to `items[i]` (a missing one is UNKNOWN). SUCCESS is final, never resent. */
export function planFromAnswer(items: CallEntry[], answers: BulkEmailEntryResult[], attemptsAllowed: number): CallPlan {
  const plan = emptyPlan();
  const reasons = new Set<string>();
  items.forEach((item, i) => {
    const raw = answers[i] ?? {};
    const status = normalizeEntryStatus(raw.Status);
    const kind = classifyEntryStatus(status);
    const error = raw.Status ? sesEntryError(status, raw.Error) : entryError('SES_NO_RESULT');
    if (status === 'ACCOUNT_THROTTLED') plan.throttled = true;
    if (kind === 'success') {
      const final: EntryResult = { index: item.index, status, attempts: item.attempts };
      if (raw.MessageId !== undefined) final.messageId = raw.MessageId;
      plan.results.push(final);
      plan.counts.succeeded++;
      return;
    }
    if (kind === 'hold' || kind === 'quota') {
      holdEntry(plan, item, kind === 'hold' ? 'paused' : 'quota', error);
      reasons.add(status);
      return;
    }
    if (kind === 'retry' && item.attempts < attemptsAllowed) {
      plan.results.push({ index: item.index, status: 'PENDING', error, attempts: item.attempts });
      plan.retry.push(item);
      reasons.add(status);
      return;
    }
    if (kind === 'fatal') plan.fatal ??= error;
    plan.results.push({ index: item.index, status, error, attempts: item.attempts });
    plan.counts.failed++;
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
  plan.reason = c.code;
  plan.throttled = kind === 'throttle';
  for (const item of items) {
    if (kind === 'hold' || kind === 'quota') {
      holdEntry(plan, item, kind === 'hold' ? 'paused' : 'quota', c.error);
      continue;
    }
    const again = (kind === 'throttle' || kind === 'retry') && item.attempts < attemptsAllowed;
    plan.results.push({
      index: item.index,
      status: again ? 'PENDING' : c.status,
      error: c.error,
      attempts: item.attempts,
    });
    if (again) plan.retry.push(item);
    else plan.counts.failed++;
  }
  if (kind === 'fatal' || (c.fatalWhenExhausted && plan.counts.failed > 0)) plan.fatal = c.error;
  plan.counts.retrying = plan.retry.length;
  return plan;
}
