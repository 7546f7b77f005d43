// jobEndEvent(): the one event a finished job emits — job.completed, job.failed or job.canceled.
import type { BulkEmailEvent, JobRecord } from '../types.js';

export function jobEndEvent(job: JobRecord, at: string): BulkEmailEvent {
  const jobId = job.id;
  if (job.status === 'canceled') return { type: 'job.canceled', jobId, counts: job.counts, at };
  if (job.status === 'failed' && job.error) {
    return { type: 'job.failed', jobId, error: job.error, counts: job.counts, at };
  }
  return { type: 'job.completed', jobId, status: job.status, counts: job.counts, at };
}
