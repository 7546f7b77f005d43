// GET /:id/events: the caller's job as Server-Sent Events (progress while it runs, done at the end), any process.
import type { Request, Response } from 'express';
import type { Principal } from '../types.js';
import type { RouteContext } from './context.js';
import { jobFeed } from './job-watch.js';
import { ownedJob } from './job-routes.js';
import { streamEvents } from './sse.js';
import { tooManyStreams } from './stream-limiter.js';

/** How often a watched job is read from the store (once per job per process, whatever the number of streams). */
export const WATCH_POLL_MS = 400;

export function jobEventsHandler<P extends Principal>(ctx: RouteContext<P>) {
  return async (req: Request, res: Response): Promise<void> => {
    // 404 (unknown job, another principal's) and 429 are envelopes: nothing is streamed before both checks.
    const job = await ownedJob(ctx, req);
    const { watcher, limiter, closing } = ctx.streams;
    const release = limiter.acquire(job.principalId);
    if (!release) throw tooManyStreams(ctx.config.maxStreamsPerPrincipal);
    try {
      const feed = jobFeed(ctx.config.store, watcher, job.id, () => ctx.engine.sending());
      await streamEvents(req, res, feed, { signal: closing, logger: ctx.config.logger });
    } finally {
      release();
    }
  };
}
