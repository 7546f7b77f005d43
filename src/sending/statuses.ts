// Every entry status in one table: its stored code, how the engine handles SES's own, and what it means to clients.
import type { EntryStatus, SesEntryStatus } from '../types.js';

/**
 * - success: final, never sent again;
 * - retry: sent again after backoff while attempts remain, then final;
 * - final: final for that entry;
 * - fatal: final, and no later call of the job can succeed: the job fails at once;
 * - hold: SES paused sending: back to PENDING, tried again later, the attempt not counted;
 * - quota: the 24-hour quota is spent: held like `hold` until GetAccount says it freed.
 */
export type EntryKind = 'success' | 'retry' | 'final' | 'fatal' | 'hold' | 'quota';

interface StatusFacts {
  /** The small integer the stores keep (the Redis store persists it: never renumber). Code 1 is PENDING in flight. */
  code: number;
  /** SES's per-entry statuses only: what the engine does when SES answers it. */
  ses?: EntryKind;
  /** The OpenAPI document's description. */
  means: string;
}

/** The one table. The README, the OpenAPI document, the classifier and both stores read it. */
export const ENTRY_STATUSES = {
  PENDING: { code: 0, means: 'not sent yet' },
  SUCCESS: { code: 2, ses: 'success', means: 'accepted by SES (message_id set)' },
  CANCELED: { code: 3, means: 'canceled before it was sent' },
  SUPPRESSED: {
    code: 4,
    means:
      'skipped: every recipient is suppressed; error.code says why: SUPPRESSED (the suppress hook), SUPPRESSED_BOUNCE, SUPPRESSED_COMPLAINT, SUPPRESSED_UNSUBSCRIBE or SUPPRESSED_MANUAL (the suppression list)',
  },
  UNKNOWN: { code: 5, means: 'SES may or may not have sent it (outcome lost); never resent silently' },
  MESSAGE_REJECTED: { code: 6, ses: 'final', means: 'SES refused the content' },
  MAIL_FROM_DOMAIN_NOT_VERIFIED: { code: 7, ses: 'fatal', means: 'the sender is not verified' },
  CONFIGURATION_SET_NOT_FOUND: { code: 8, ses: 'fatal', means: 'no such configuration set' },
  TEMPLATE_NOT_FOUND: { code: 9, ses: 'fatal', means: 'no such stored template' },
  ACCOUNT_SUSPENDED: { code: 10, ses: 'fatal', means: 'the SES account is suspended' },
  ACCOUNT_THROTTLED: { code: 11, ses: 'retry', means: 'throttled after every retry' },
  ACCOUNT_DAILY_QUOTA_EXCEEDED: { code: 12, ses: 'quota', means: 'the 24-hour quota was reached' },
  INVALID_SENDING_POOL_NAME: { code: 13, ses: 'fatal', means: 'the configuration set names a missing IP pool' },
  ACCOUNT_SENDING_PAUSED: { code: 14, ses: 'hold', means: 'account sending is paused' },
  CONFIGURATION_SET_SENDING_PAUSED: { code: 15, ses: 'hold', means: 'configuration set sending is paused' },
  INVALID_PARAMETER: {
    code: 16,
    ses: 'final',
    means: 'SES found this entry invalid (or its template data lacks a variable)',
  },
  TRANSIENT_FAILURE: { code: 17, ses: 'retry', means: 'a temporary SES failure, after every retry' },
  FAILED: { code: 18, ses: 'retry', means: 'failed (see error.code)' },
} as const satisfies Record<EntryStatus, StatusFacts>;

type SesKeys = {
  [K in keyof typeof ENTRY_STATUSES]: (typeof ENTRY_STATUSES)[K] extends { ses: EntryKind } ? K : never;
}[keyof typeof ENTRY_STATUSES];
// Every SES status (the public SesEntryStatus union) has a handling: a compile error otherwise.
const sesCovered: Record<SesEntryStatus, true> = {} as Record<SesKeys, true>;
void sesCovered;

const rows = Object.entries(ENTRY_STATUSES) as [EntryStatus, StatusFacts][];

/** Every SES per-entry status and how the engine handles it. */
export const SES_STATUS_HANDLING: Readonly<Record<SesEntryStatus, EntryKind>> = Object.freeze(
  Object.fromEntries(rows.filter(([, f]) => f.ses).map(([s, f]) => [s, f.ses])) as Record<SesEntryStatus, EntryKind>,
);

/** What each status means, for the OpenAPI document. */
export const STATUS_MEANING: Readonly<Record<EntryStatus, string>> = Object.freeze(
  Object.fromEntries(rows.map(([s, f]) => [s, f.means])) as Record<EntryStatus, string>,
);
