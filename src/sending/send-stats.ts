// The queue's per-principal state as router.stats() / worker.stats() report it: lag, waiting recipients, weight, share.
import type { Clock, PrincipalStats, Queue, SendStats } from '../types.js';

/** Reads `queue.stats()` and adds what an operator wants to see: each principal's lag and share of `sendRate`. */
export async function sendStats(queue: Queue, clock: Clock, sendRate: number): Promise<SendStats> {
  const now = clock.now();
  const rows = await queue.stats();
  let readyWeight = 0;
  for (const r of rows) if (r.waitingRecipients > 0) readyWeight += r.weight;
  const principals: PrincipalStats[] = rows.map((r) => ({
    principalId: r.principalId,
    waitingRecipients: r.waitingRecipients,
    jobs: r.jobs,
    oldestWaitingSince: r.oldestWaitingSince === null ? null : new Date(r.oldestWaitingSince).toISOString(),
    lagMs: r.oldestWaitingSince === null ? 0 : Math.max(0, now - r.oldestWaitingSince),
    weight: r.weight,
    share: r.waitingRecipients > 0 && readyWeight > 0 ? r.weight / readyWeight : 0,
  }));
  principals.sort((a, b) => b.lagMs - a.lagMs || (a.principalId < b.principalId ? -1 : 1));
  return { at: new Date(now).toISOString(), sendRate, principals };
}
