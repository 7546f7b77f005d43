// principalGuard(): the reputation guard's effects — pause a principal (its unfinished jobs, new jobs refused), resume it.
import { resumeAt } from '../sending/job-end.js';
import type { BulkEmailEvent, Clock, JobRecord, Logger, PrincipalPause, Queue, SentMessage, Store } from '../types.js';
import { type GuardConfig, guardRates, guardVerdict } from './reputation-guard.js';
import type { ReputationCounts } from './ses-event.js';

export interface PrincipalGuardDeps {
  store: Store;
  queue: Pick<Queue, 'pause' | 'resume'>;
  clock: Pick<Clock, 'now'>;
  logger: Logger;
  emit: (event: BulkEmailEvent) => void;
  /** Undefined: the guard is off (nothing is counted or paused; a pause set earlier can still be lifted). */
  config?: GuardConfig;
}

export interface ResumeOutcome {
  /** The principal was paused (false: nothing to lift). */
  wasPaused: boolean;
  /** The jobs the guard had paused and that are sending (or scheduled) again. */
  jobIds: string[];
}

export interface PrincipalGuard {
  /** Counts an event's bounces / complaints / deliveries and pauses the principal when a rate reaches its line. */
  count(message: SentMessage, at: string, counts: Partial<ReputationCounts>): Promise<void>;
  /** The pause in force for this principal, if any. */
  pauseOf(principalId: string): Promise<PrincipalPause | null>;
  /** Pauses a job stored while its principal was being paused (the accept path's check ran just before). */
  holdIfPaused(job: JobRecord): Promise<JobRecord>;
  /** Lifts the pause, forgets the guard's counts and resumes the jobs the guard paused (not those the owner paused). */
  resume(principalId: string): Promise<ResumeOutcome>;
}

const errText = (err: unknown) => (err instanceof Error ? err.message : String(err));

export function principalGuard(deps: PrincipalGuardDeps): PrincipalGuard {
  const { store, queue, clock, logger, emit, config } = deps;
  const iso = () => new Date(clock.now()).toISOString();

  /** Pauses every unfinished job of the principal (but those in `done`) for REPUTATION; returns their ids. */
  async function pauseJobs(principalId: string, done: readonly string[] = []): Promise<string[]> {
    const paused: string[] = [];
    for (const id of await store.activeJobIds(principalId)) {
      if (done.includes(id)) continue;
      const job = await store.setPaused(id, true, 'REPUTATION');
      if (job?.status !== 'paused' || job.pausedReason !== 'REPUTATION') continue;
      paused.push(id);
      // If the queue cannot hold the job now, its calls are refused at the claim and held then.
      await queue.pause(id).catch((err: unknown) => {
        logger.warn(
          { code: 'EBE_QUEUE_PAUSE', jobId: id, err: errText(err) },
          'express-bulk-email: queue.pause failed',
        );
      });
    }
    return paused;
  }

  async function pausePrincipal(message: SentMessage, pause: PrincipalPause): Promise<void> {
    const { principalId } = message;
    // Jobs first, then the mark (set once: exactly one process reports it), then again: a job stored meanwhile is
    // caught here, or by holdIfPaused once the mark is visible.
    const first = await pauseJobs(principalId);
    if (!(await store.setPrincipalPause(principalId, pause))) return;
    const jobIds = [...first, ...(await pauseJobs(principalId, first))];
    logger.warn(
      { code: 'EBE_PRINCIPAL_PAUSED', principalId, ...pause, jobs: jobIds.length },
      'express-bulk-email: the reputation guard paused a principal; resume it with router.resumePrincipal(id)',
    );
    emit({
      type: 'principal.paused',
      principalId,
      reason: pause.reason,
      bounceRate: pause.bounceRate,
      complaintRate: pause.complaintRate,
      messages: pause.messages,
      jobIds,
      jobId: message.jobId,
      index: message.index,
      at: pause.at,
    });
  }

  return {
    async count(message, at, counts) {
      if (!config) return;
      const now = clock.now();
      // An event stamped ahead of this clock counts now (a bucket in the future is outside the window).
      const when = Math.min(Date.parse(at), now);
      const buckets = await store.addGuardCounts(message.principalId, when, counts, config.windowMs);
      const verdict = guardVerdict(guardRates(buckets, now, config), config);
      if (!verdict.pause || (await store.getPrincipalPause(message.principalId))) return;
      const { bounceRate, complaintRate, messages } = verdict.rates;
      await pausePrincipal(message, { reason: verdict.reason, at: iso(), bounceRate, complaintRate, messages });
    },

    pauseOf: (principalId) => store.getPrincipalPause(principalId),

    async holdIfPaused(job) {
      if (!config || !(await store.getPrincipalPause(job.principalId))) return job;
      const held = await store.setPaused(job.id, true, 'REPUTATION');
      if (held?.status !== 'paused') return held ?? job;
      await queue.pause(job.id).catch(() => undefined);
      return held;
    },

    async resume(principalId) {
      if (config) await store.resetGuard(principalId, config.windowMs);
      const wasPaused = await store.setPrincipalPause(principalId, null);
      const jobIds: string[] = [];
      for (const id of await store.activeJobIds(principalId)) {
        const job = await store.getJob(id);
        if (job?.status !== 'paused' || job.pausedReason !== 'REPUTATION') continue;
        const resumed = await store.setPaused(id, false);
        if (!resumed || resumed.status === 'paused') continue;
        await queue.resume(id, resumeAt(resumed, clock.now()));
        jobIds.push(id);
      }
      if (wasPaused || jobIds.length) {
        logger.info({ principalId, jobs: jobIds.length }, 'express-bulk-email: principal resumed');
      }
      return { wasPaused, jobIds };
    },
  };
}
