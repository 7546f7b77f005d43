// GET /: the principal's jobs, newest first, one page at a time (`?status=`, `?limit=`, `?cursor=`).
import type { Request, Response } from 'express';
import { jobView, ok } from '../envelope.js';
import { validationError } from '../errors.js';
import type { JobListPosition, JobStatus, Principal } from '../types.js';
import { principalOf, type RouteContext } from './context.js';
import { parseLimit } from './pagination.js';
import { valuesOf } from './results-filter.js';

export const DEFAULT_JOB_PAGE = 20;
export const MAX_JOB_PAGE = 100;
/** Jobs a page filtered by `?status=` looks at, at most (it may hold fewer than `limit` jobs and a next_cursor). */
export const MAX_JOBS_SCANNED = 1000;

const JOB_STATUSES = [
  'scheduled',
  'queued',
  'sending',
  'paused',
  'completed',
  'failed',
  'canceled',
] as const satisfies readonly JobStatus[];

/** An opaque cursor: base64url of `j:<creation ms>:<job id>` (the last job of the page). */
export function encodeJobCursor(position: JobListPosition): string {
  return Buffer.from(`j:${position.at}:${position.id}`).toString('base64url');
}

export function decodeJobCursor(cursor: unknown): JobListPosition | null {
  if (cursor === undefined) return null;
  if (typeof cursor === 'string' && /^[A-Za-z0-9_-]{1,120}$/.test(cursor)) {
    const match = /^j:(\d{1,15}):([A-Za-z0-9-]{1,64})$/.exec(Buffer.from(cursor, 'base64url').toString());
    if (match) return { at: Number(match[1]), id: match[2] };
  }
  throw validationError({ path: '/cursor', message: 'cursor is not one this API returned' });
}

export function listJobsHandler<P extends Principal>(ctx: RouteContext<P>) {
  return async (req: Request, res: Response): Promise<void> => {
    const principal = await principalOf(ctx, req);
    const limit = parseLimit(req.query.limit, DEFAULT_JOB_PAGE, MAX_JOB_PAGE);
    const after = decodeJobCursor(req.query.cursor);
    const statuses = valuesOf(req.query.status, 'status', JOB_STATUSES, 'lower') as Set<JobStatus> | undefined;
    const page = await ctx.config.store.listJobs(principal.id, {
      after,
      limit,
      statuses: statuses ? [...statuses] : undefined,
      scanLimit: MAX_JOBS_SCANNED,
    });
    const sending = ctx.engine.sending();
    res.json(
      ok({
        jobs: page.jobs.map((job) => jobView(job, sending)),
        next_cursor: page.next ? encodeJobCursor(page.next) : null,
      }),
    );
  };
}
