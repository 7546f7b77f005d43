// `Prefer: wait=N` on POST /: waits (polling the store, so it works across processes) until the job is final or time
// runs out, and answers with the job as it is then.
import type { Request, Response } from 'express';
import { jobView, ok } from '../envelope.js';
import type { JobRecord, Principal, Store } from '../types.js';
import type { RouteContext } from './context.js';
import { preferredWait } from './prefer.js';
import { sendJson } from './send-json.js';

const POLL_MS = 100;

/** Every entry has a final result (completed, failed, or canceled with nothing left in flight). */
const isFinal = (job: JobRecord) => job.completedAt !== undefined;

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

/**
 * Answers a just-created job's POST when the client sent `Prefer: wait=N`: 200 with the job if it finished within N
 * seconds, else 202 with the job as it is at that moment (never the snapshot taken when it was accepted). Returns
 * false, having answered nothing, without the header (or if the job is gone).
 */
export async function answerAfterWait<P extends Principal>(
  ctx: RouteContext<P>,
  req: Request,
  res: Response,
  jobId: string,
): Promise<boolean> {
  const wait = preferredWait(req);
  if (wait === undefined || wait <= 0) return false;
  res.set('Preference-Applied', `wait=${wait}`);
  const { job, final } = await waitForJob(ctx.config.store, jobId, wait * 1000, res);
  if (!job) return false;
  sendJson(res, final ? 200 : 202, ok(jobView(job, ctx.engine.sending())));
  return true;
}
