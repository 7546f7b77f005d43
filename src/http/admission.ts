// Quota-aware admission and the completion estimate: what this router has accepted but not yet seen finish.
import { BulkEmailError } from '../errors.js';
import { countRecipients } from '../sending/recipients.js';
import { LIMIT_RETRY_AFTER_SECONDS } from '../stores/principal-limits.js';
import type { Principal, Store } from '../types.js';
import type { RouteContext } from './context.js';
import type { AcceptStep } from './draft.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Jobs looked up per admission at most; older ones beyond this are assumed still outstanding. */
const MAX_TRACKED = 1000;

export interface Admission {
  /** Recipients of accepted jobs not sent yet (estimated from each job's pending share); a number once known. */
  outstanding(): number | Promise<number>;
  track(jobId: string, recipients: number): void;
}

/**
 * Tracks the jobs this router accepted. Outstanding recipients are re-read from the store at most once a second
 * (in parallel); a job accepted in between is added to the cached figure at once.
 */
export function admissionLedger(store: Store, now: () => number = Date.now): Admission {
  const jobs = new Map<string, number>();
  /** The last recount and the recipients tracked since it started; `value` once it resolved. */
  let cached: { at: number; recount: Promise<number>; value?: number; added: number } | undefined;
  /**
   * Drops the oldest tracked jobs. One live iterator, always just past the last job it dropped: every job before it
   * is gone, so its next key is the Map's first, found without rescanning the deleted slots at the front every time.
   */
  let oldest: Iterator<string> | undefined;

  async function recount(): Promise<number> {
    const tracked = [...jobs].slice(-MAX_TRACKED);
    const found = await Promise.all(tracked.map(([id]) => store.getJob(id)));
    let total = 0;
    found.forEach((job, i) => {
      const [id, recipients] = tracked[i];
      if (!job || job.completedAt !== undefined || job.status === 'canceled' || job.status === 'failed')
        jobs.delete(id);
      else total += job.entries ? Math.ceil((recipients * job.counts.pending) / job.entries) : 0;
    });
    return total;
  }

  return {
    outstanding() {
      const t = now();
      if (!cached || t - cached.at >= 1000) {
        // Concurrent requests share one recount; a failed one is not kept.
        const entry: NonNullable<typeof cached> = { at: t, recount: recount(), added: 0 };
        entry.recount.then(
          (value) => {
            entry.value = value;
          },
          () => {
            if (cached === entry) cached = undefined;
          },
        );
        cached = entry;
      }
      const { value, added } = cached;
      if (value !== undefined) return value + added;
      return added === 0 ? cached.recount : cached.recount.then((v) => v + added);
    },
    track(jobId, recipients) {
      jobs.set(jobId, recipients);
      if (cached) cached.added += recipients;
      if (jobs.size > MAX_TRACKED * 2) {
        oldest ??= jobs.keys();
        jobs.delete(oldest.next().value as string);
      }
    },
  };
}

export interface Estimate {
  estimatedCompletionAt?: string;
}

/**
 * Compares a new job with the remaining 24-hour quota (null = unknown, -1 = unlimited) and estimates its completion:
 * the work queued ahead plus this job, at `rate`; overflow beyond the quota waits a rolling day.
 */
export function admit(options: {
  recipients: number;
  outstanding: number;
  remaining: number | null;
  rate: number | undefined;
  policy: 'defer' | 'refuse';
  now: number;
  /** A scheduled send: the estimate counts from then (work queued now is taken as done by then at `rate`). */
  sendAt?: number;
}): Estimate {
  const { recipients, rate, policy, now, sendAt } = options;
  const wait = sendAt === undefined ? 0 : Math.max(0, sendAt - now);
  // A job that starts a day or more from now meets a quota that is not known yet.
  const remaining = wait >= DAY_MS ? null : options.remaining;
  const outstanding = rate ? Math.max(0, options.outstanding - (rate * wait) / 1000) : options.outstanding;
  const left = remaining === null || remaining < 0 ? Number.POSITIVE_INFINITY : Math.max(0, remaining - outstanding);
  if (recipients > left && policy === 'refuse') {
    throw new BulkEmailError(
      'QUOTA_EXCEEDED',
      `This job needs ${recipients} recipients but only ${left} remain in the 24-hour sending quota`,
      { details: { needed: recipients, remaining: left }, retryAfter: 3600 },
    );
  }
  if (!rate) return {};
  let ms = ((outstanding + recipients) / rate) * 1000;
  if (recipients > left) ms = Math.max(ms, DAY_MS + ((recipients - left) / rate) * 1000);
  return { estimatedCompletionAt: new Date(now + wait + Math.ceil(ms)).toISOString() };
}

/**
 * The accept step: counts the recipients to send, refuses a job that alone is over `maxQueuedRecipients` (429) or
 * that the quota cannot take (`quota: 'refuse'`, 429), and estimates when it will be done. (The per-principal limits are checked by the store as it creates the job, in the
 * same atomic step that counts it.)
 */
export function admissionStep<P extends Principal>(ctx: RouteContext<P>): AcceptStep<P> {
  const { config, engine, admission } = ctx;
  return async (draft) => {
    let recipients = 0;
    for (const item of draft.entries) recipients += countRecipients(item.entry);
    draft.recipients = recipients;
    if (recipients > config.maxQueuedRecipients) {
      // The contract's answer to the limit (429), with a message that says waiting will not help this job.
      throw new BulkEmailError(
        'RATE_LIMITED',
        `This job has ${recipients} recipients, more than one principal may have queued at once (maxQueuedRecipients ${config.maxQueuedRecipients}); split it into jobs of at most ${config.maxQueuedRecipients} recipients`,
        { retryAfter: LIMIT_RETRY_AFTER_SECONDS },
      );
    }
    await engine.ready;
    const estimate = admit({
      recipients,
      outstanding: await admission.outstanding(),
      remaining: engine.remaining24h(),
      rate: engine.sending().rate,
      policy: config.quota,
      now: config.clock.now(),
      sendAt: draft.sendAt,
    });
    draft.estimatedCompletionAt = estimate.estimatedCompletionAt;
  };
}
