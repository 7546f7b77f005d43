// GET /:id, GET /:id/results, POST /:id/cancel, /:id/pause and /:id/resume: a job as its owner sees it.
import type { Request, Response } from 'express';
import { jobView, ok, resultView } from '../envelope.js';
import { BulkEmailError } from '../errors.js';
import { entryError } from '../sending/entry-errors.js';
import { PAUSABLE, resumeAt } from '../sending/job-end.js';
import type { JobRecord, Principal } from '../types.js';
import { principalOf, type RouteContext } from './context.js';
import { isJobId } from './job-id.js';
import { decodeCursor, encodeCursor, parseLimit } from './pagination.js';
import { filteredPage, parseResultsFilter } from './results-filter.js';

/**
 * The job if this principal owns it; NOT_FOUND otherwise (never FORBIDDEN: ids are not confirmed to others). An id
 * that could not have been issued is NOT_FOUND without asking the store (`x:payload` must not reach a Redis key).
 */
export async function ownedJob<P extends Principal>(ctx: RouteContext<P>, req: Request): Promise<JobRecord> {
  const principal = await principalOf(ctx, req);
  const id = String(req.params.id);
  const job = isJobId(id) ? await ctx.config.store.getJob(id) : null;
  if (!job || job.principalId !== principal.id)
    throw new BulkEmailError('NOT_FOUND', `No job ${JSON.stringify(id.slice(0, 128))}`);
  return job;
}

export function getJobHandler<P extends Principal>(ctx: RouteContext<P>) {
  return async (req: Request, res: Response): Promise<void> => {
    const job = await ownedJob(ctx, req);
    res.json(ok(jobView(job, ctx.engine.sending())));
  };
}

export function getResultsHandler<P extends Principal>(ctx: RouteContext<P>) {
  return async (req: Request, res: Response): Promise<void> => {
    const job = await ownedJob(ctx, req);
    const limit = parseLimit(req.query.limit);
    const after = decodeCursor(req.query.cursor);
    const filter = parseResultsFilter(req.query);
    if (filter) {
      const page = await filteredPage(ctx.config.store, job, after, limit, filter);
      const next = page.lastScanned === null ? null : encodeCursor(page.lastScanned);
      res.json(ok({ results: page.results.map(resultView), next_cursor: next }));
      return;
    }
    const results = await ctx.config.store.getResults(job.id, after, limit);
    const last = results.at(-1);
    const more = results.length === limit && last !== undefined && last.index < job.entries - 1;
    res.json(ok({ results: results.map(resultView), next_cursor: more && last ? encodeCursor(last.index) : null }));
  };
}

export function cancelHandler<P extends Principal>(ctx: RouteContext<P>) {
  return async (req: Request, res: Response): Promise<void> => {
    const job = await ownedJob(ctx, req);
    if (job.status === 'completed' || job.status === 'failed' || job.status === 'canceled') {
      throw new BulkEmailError(
        'NOT_CANCELABLE',
        `Job ${job.id} has already ${job.status === 'canceled' ? 'been canceled' : 'finished'}`,
      );
    }
    const outcome = await ctx.config.store.finishPending(job.id, {
      status: 'CANCELED',
      error: entryError('CANCELED'),
      cancel: true,
    });
    if (!outcome) throw new BulkEmailError('NOT_FOUND', `No job ${job.id}`);
    // The queue forgets the job's calls; if it cannot now, each refuses to claim later and is dropped then.
    await ctx.config.queue.remove(job.id).catch((err: unknown) => {
      ctx.config.logger.warn(
        { code: 'EBE_QUEUE_REMOVE', jobId: job.id, err: err instanceof Error ? err.message : String(err) },
        'express-bulk-email: the queue could not forget a canceled job; its calls will be dropped when taken',
      );
    });
    const { config } = ctx;
    const at = new Date(config.clock.now()).toISOString();
    if (outcome.job.status === 'completed' || outcome.job.status === 'failed') {
      throw new BulkEmailError('NOT_CANCELABLE', `Job ${job.id} has already finished`);
    }
    config.emit({ type: 'job.canceled', jobId: job.id, counts: outcome.job.counts, at });
    config.logger.info({ jobId: job.id, counts: outcome.job.counts }, 'express-bulk-email: job canceled');
    res.json(ok(jobView(outcome.job, ctx.engine.sending())));
  };
}

function notPausable(job: JobRecord): BulkEmailError {
  const why =
    job.status === 'paused'
      ? 'is already paused'
      : job.status === 'canceled'
        ? 'has been canceled'
        : `has already finished (${job.status})`;
  return new BulkEmailError('NOT_PAUSABLE', `Job ${job.id} ${why}`);
}

/**
 * Pauses a scheduled, queued or sending job: the store first (claims are refused from now on, whichever process
 * takes the job's calls), then the queue (it hands out nothing more of the job). Calls already claimed finish.
 */
export function pauseHandler<P extends Principal>(ctx: RouteContext<P>) {
  const { config } = ctx;
  return async (req: Request, res: Response): Promise<void> => {
    const job = await ownedJob(ctx, req);
    if (!PAUSABLE.includes(job.status)) throw notPausable(job);
    const paused = await config.store.setPaused(job.id, true, 'USER');
    if (!paused) throw new BulkEmailError('NOT_FOUND', `No job ${job.id}`);
    // Changed meanwhile (finished, canceled, or paused by another request or the reputation guard).
    if (paused.status !== 'paused' || paused.pausedReason !== 'USER') throw notPausable(paused);
    // If the queue cannot hold the job now, its calls are refused at the claim and the queue is paused then.
    await config.queue.pause(job.id).catch((err: unknown) => {
      config.logger.warn(
        { code: 'EBE_QUEUE_PAUSE', jobId: job.id, err: err instanceof Error ? err.message : String(err) },
        'express-bulk-email: queue.pause failed; the job is paused in the store and its calls are held when taken',
      );
    });
    const at = new Date(config.clock.now()).toISOString();
    config.emit({
      type: 'job.paused',
      jobId: job.id,
      principalId: job.principalId,
      reason: 'USER',
      counts: paused.counts,
      at,
    });
    config.logger.info({ jobId: job.id }, 'express-bulk-email: job paused');
    res.json(ok(jobView(paused, ctx.engine.sending())));
  };
}

/**
 * Resumes a job its owner paused: back to `scheduled` while its send time is ahead, else `sending` (or `queued`),
 * and the queue hands its work out again from where it stopped (the entries not yet claimed). A job the reputation
 * guard paused is resumed by the operator (`router.resumePrincipal`), not by its owner.
 */
export function resumeHandler<P extends Principal>(ctx: RouteContext<P>) {
  const { config } = ctx;
  return async (req: Request, res: Response): Promise<void> => {
    const job = await ownedJob(ctx, req);
    if (job.status !== 'paused') {
      throw new BulkEmailError('NOT_RESUMABLE', `Job ${job.id} is not paused (it is ${job.status})`);
    }
    if (job.pausedReason === 'REPUTATION') {
      throw new BulkEmailError(
        'NOT_RESUMABLE',
        `Job ${job.id} was paused by the reputation guard (bounce or complaint rate); the operator lifts that pause`,
      );
    }
    const resumed = await config.store.setPaused(job.id, false);
    if (!resumed) throw new BulkEmailError('NOT_FOUND', `No job ${job.id}`);
    if (resumed.status === 'paused') {
      throw new BulkEmailError('NOT_RESUMABLE', `Job ${job.id} is not paused (it is ${resumed.status})`);
    }
    try {
      await config.queue.resume(job.id, resumeAt(resumed, config.clock.now()));
    } catch (err) {
      // The queue still holds the job: so does the store, and the caller may try again.
      await config.store.setPaused(job.id, true, 'USER').catch(() => undefined);
      throw err;
    }
    const at = new Date(config.clock.now()).toISOString();
    const { id, principalId } = job;
    config.emit({ type: 'job.resumed', jobId: id, principalId, status: resumed.status, counts: resumed.counts, at });
    config.logger.info({ jobId: job.id, status: resumed.status }, 'express-bulk-email: job resumed');
    res.json(ok(jobView(resumed, ctx.engine.sending())));
  };
}
