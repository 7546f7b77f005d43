// Waits (by polling the store, so it works across processes) until a job is final or time runs out.
import type { Response } from 'express';
import type { JobRecord, Store } from '../types.js';

const POLL_MS = 100;

const isFinal = (job: JobRecord) => job.status === 'completed' || (job.status === 'canceled' && !!job.completedAt);

/**
 * Polls the job until it is final, `timeoutMs` passes or the client goes away. Returns the job as read last — read
 * again at the deadline, so a wait that runs out answers with the job as it is now, never as it was accepted —
 * and whether it is final; `job` is null if the store no longer has it.
 */
export async function waitForJob(
  store: Store,
  id: string,
  timeoutMs: number,
  res?: Response,
): Promise<{ job: JobRecord | null; final: boolean }> {
  const deadline = Date.now() + timeoutMs;
  let gone = false;
  const onClose = () => {
    gone = true;
  };
  // The response closes early only when the client went away.
  res?.on('close', onClose);
  try {
    for (;;) {
      const job = await store.getJob(id);
      if (!job || isFinal(job) || gone) return { job, final: !!job && isFinal(job) };
      const left = deadline - Date.now();
      if (left <= 0) return { job, final: false };
      await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, left)));
    }
  } finally {
    res?.off('close', onClose);
  }
}
