// The first accept step: a principal the reputation guard paused gets 409 SENDING_PAUSED for every new job.
import { BulkEmailError } from '../errors.js';
import type { Principal } from '../types.js';
import type { RouteContext } from './context.js';
import type { AcceptStep } from './draft.js';

const percent = (rate: number) => `${(rate * 100).toFixed(2)} %`;

/** Refuses while the principal is paused (one store read per request); absent when the guard is off. */
export function reputationStep<P extends Principal>(ctx: RouteContext<P>): AcceptStep<P> | undefined {
  if (!ctx.config.guard) return undefined;
  return async (draft) => {
    const pause = await ctx.feedback.guard.pauseOf(draft.hook.principal.id);
    if (!pause) return;
    const what = pause.reason === 'BOUNCE_RATE' ? 'bounce' : 'complaint';
    const rate = pause.reason === 'BOUNCE_RATE' ? pause.bounceRate : pause.complaintRate;
    throw new BulkEmailError(
      'SENDING_PAUSED',
      `Sending is paused: your ${what} rate reached ${percent(rate)} over ${pause.messages} recent messages. Clean the list; the operator resumes sending`,
      {
        details: {
          reason: pause.reason,
          bounce_rate: pause.bounceRate,
          complaint_rate: pause.complaintRate,
          messages: pause.messages,
          paused_at: pause.at,
        },
      },
    );
  };
}
