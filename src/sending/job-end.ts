// jobEndEvent(): the one event a finished job emits — job.completed, job.failed or job.canceled.
import type { BulkEmailEvent, JobRecord, JobStatus } from '../types.js';

/** The statuses a job may be paused from (and a resumed job's queue work may run in). */
export const PAUSABLE: readonly JobStatus[] = ['scheduled', 'queued', 'sending'];

export function jobEndEvent(job: JobRecord, at: string): BulkEmailEvent {
  const jobId = job.id;
  if (job.status === 'canceled') return { type: 'job.canceled', jobId, counts: job.counts, at };
  if (job.status === 'failed' && job.error) {
    return { type: 'job.failed', jobId, error: job.error, counts: job.counts, at };
  }
  return { type: 'job.completed', jobId, status: job.status, counts: job.counts, at };
}

/** What `queue.resume` needs for a job resumed now: hold it to its send time while that is still ahead. */
export function resumeAt(job: Pick<JobRecord, 'sendAt'>, now: number): { notBefore: number } | undefined {
  const sendAt = job.sendAt === undefined ? undefined : Date.parse(job.sendAt);
  return sendAt !== undefined && sendAt > now ? { notBefore: sendAt } : undefined;
}
