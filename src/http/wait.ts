// Waits (by polling the store, so it works across processes) until a job is final or time runs out.
import type { Response } from 'express';
import type { JobRecord, Store } from '../types.js';

const POLL_MS = 100;

export async function waitForJob(
  store: Store,
  id: string,
  timeoutMs: number,
  res?: Response,
): Promise<JobRecord | undefined> {
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
      if (job?.completedAt !== undefined) return job;
      if (gone || Date.now() + POLL_MS > deadline) return undefined;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    res?.off('close', onClose);
  }
}
