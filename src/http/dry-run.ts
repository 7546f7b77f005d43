// The dry run's answer: the same checks as POST /, then the SES calls the senders would make, nothing stored or sent.
import { MAX_ENTRIES_PER_CALL, splitCalls } from '../sending/chunk.js';
import { burstFor } from '../sending/rate-limiter.js';
import { countRecipients } from '../sending/recipients.js';
import type { Principal } from '../types.js';
import { MAX_RECIPIENTS } from '../validation/schema.js';
import type { RouteContext } from './context.js';
import type { Draft } from './draft.js';
import { tasksOf } from './store-job.js';

/** The SES calls the senders will make, as the dispatcher builds them: the job's tasks, split to the rate's burst. */
function planCalls<P extends Principal>(draft: Draft<P>, rate: number | undefined) {
  const burst = rate ? burstFor(rate) : MAX_ENTRIES_PER_CALL * MAX_RECIPIENTS;
  return tasksOf(draft.jobId, draft.entries)
    .flatMap((task) => splitCalls(task.entries, burst))
    .map((call) => ({
      entries: call.map((c) => c.index),
      recipients: call.reduce((n, c) => n + countRecipients(c.entry), 0),
    }));
}

export function dryRunAnswer<P extends Principal>(ctx: RouteContext<P>, draft: Draft<P>) {
  const rate = ctx.engine.rate();
  return {
    dry_run: true,
    entries: draft.hook.request.BulkEmailEntries.length,
    recipients: draft.recipients,
    calls: planCalls(draft, rate),
    suppressed: draft.initial.filter((r) => r.status === 'SUPPRESSED').map((r) => r.index),
    invalid: draft.initial
      .filter((r) => r.status === 'INVALID_PARAMETER')
      .map((r) => ({ index: r.index, error: r.error })),
    send_rate: rate ?? null,
    estimated_completion_at: draft.estimatedCompletionAt ?? null,
  };
}
