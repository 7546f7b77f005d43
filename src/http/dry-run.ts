// The dry run's answer: the same checks as POST /, then the SES calls the senders would make, nothing stored or sent.
import { cutTasks, recipientsOf } from '../sending/chunk.js';
import type { Principal } from '../types.js';
import type { DryRunPlan } from '../wire-types.js';
import type { RouteContext } from './context.js';
import type { Draft } from './draft.js';

/** The SES calls the senders will make: the tasks the job would be queued as, one call each. */
function planCalls<P extends Principal>(ctx: RouteContext<P>, draft: Draft<P>) {
  return cutTasks(draft.jobId, draft.entries, ctx.config.maxRecipientsPerCall).map((task) => ({
    entries: task.entries.map((e) => e.index),
    recipients: recipientsOf(task.entries),
  }));
}

export function dryRunAnswer<P extends Principal>(ctx: RouteContext<P>, draft: Draft<P>): DryRunPlan {
  const sending = ctx.engine.sending();
  const plan: DryRunPlan = {
    dry_run: true,
    entries: draft.hook.request.BulkEmailEntries.length,
    recipients: draft.recipients,
    calls: planCalls(ctx, draft),
    suppressed: draft.initial.filter((r) => r.status === 'SUPPRESSED').map((r) => r.index),
    invalid: draft.initial
      .filter((r) => r.status === 'INVALID_PARAMETER')
      .map((r) => ({ index: r.index, error: r.error ?? { code: 'INVALID_PARAMETER', message: '' } })),
    send_rate: sending.rate,
    send_rate_source: sending.source,
    estimated_completion_at: draft.estimatedCompletionAt ?? null,
  };
  if (draft.sendAt !== undefined) plan.send_at = new Date(draft.sendAt).toISOString();
  return plan;
}
