// Per-principal admission limits as stores apply them: what one principal holds, and the 429 when a job would exceed it.
import { type BulkEmailError, rateLimited } from '../errors.js';
import type { PrincipalLimits } from '../types.js';

/** What one principal's unfinished jobs hold. */
export interface PrincipalUsage {
  jobs: number;
  recipients: number;
}

/** Seconds a refused principal is told to wait: unfinished jobs end as they are sent, so ask again in a while. */
export const LIMIT_RETRY_AFTER_SECONDS = 30;

/** The 429 for a job of `recipients` that `usage` and `limits` do not leave room for, or undefined when it fits. */
export function principalLimitError(
  usage: PrincipalUsage,
  recipients: number,
  limits: PrincipalLimits,
): BulkEmailError | undefined {
  if (usage.jobs + 1 > limits.maxActiveJobs) {
    return rateLimited(
      LIMIT_RETRY_AFTER_SECONDS,
      `You already have ${usage.jobs} unfinished jobs (maxActiveJobs ${limits.maxActiveJobs}); try again when some have finished`,
    );
  }
  if (usage.recipients + recipients > limits.maxQueuedRecipients) {
    return rateLimited(
      LIMIT_RETRY_AFTER_SECONDS,
      `Your unfinished jobs already hold ${usage.recipients} recipients and this one has ${recipients} (maxQueuedRecipients ${limits.maxQueuedRecipients}); try again when more have been sent`,
    );
  }
  return undefined;
}
