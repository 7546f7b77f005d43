// One poll of the store per watched job per process, however many event streams watch it; the feed of GET /:id/events.

import type { SendingView } from '../envelope.js';
import { jobView } from '../envelope.js';
import type { JobRecord, Logger, Store } from '../types.js';
import type { EventFeed, SseEvent } from './sse.js';

export interface JobWatcher {
  /** Calls `onChange` whenever the job's status or counts change (read from the store); returns the unsubscriber. */
  watch(jobId: string, onChange: () => void): () => void;
  /** The job as last read by the poll, when someone watches it and it has been read. */
  latest(jobId: string): JobRecord | undefined;
  /** Jobs polled now (one timer each). */
  readonly watched: number;
  /** Stops every poll. */
  close(): void;
}

interface Watched {
  listeners: Set<() => void>;
  timer?: NodeJS.Timeout;
  key?: string;
  job?: JobRecord;
}

/** What the id of an event is: a job's status and counts (the same state in any process gives the same id). */
function stateKey(job: JobRecord): string {
  const c = job.counts;
  const n = [c.sent, c.failed, c.pending, c.canceled, c.suppressed, c.unknown, c.delivered, c.bounced, c.complained];
  return `${job.status}.${n.map((v) => v ?? 0).join('.')}`;
}

/** A job with every entry final (completed, failed, or canceled with nothing in flight). */
const isFinal = (job: JobRecord): boolean => job.completedAt !== undefined;

export function jobWatcher(store: Store, pollMs: number, logger: Logger): JobWatcher {
  const jobs = new Map<string, Watched>();
  let closed = false;

  const schedule = (id: string, w: Watched) => {
    if (closed || w.listeners.size === 0) return;
    w.timer = setTimeout(() => poll(id, w), pollMs);
    w.timer.unref?.();
  };
  const poll = async (id: string, w: Watched) => {
    w.timer = undefined;
    try {
      const job = await store.getJob(id);
      if (jobs.get(id) !== w) return; // nobody watches any more
      const key = job ? stateKey(job) : 'gone';
      if (job) w.job = job;
      const final = !job || isFinal(job);
      if (key !== w.key || final) {
        w.key = key;
        for (const listener of [...w.listeners]) listener();
      }
      // Nothing more will change once final (the streams write `done`) or gone (they end): stop polling.
      if (final) return;
    } catch (err) {
      logger.warn(
        { jobId: id, err: err instanceof Error ? err.message : String(err) },
        'express-bulk-email: could not read a watched job; retrying',
      );
    }
    schedule(id, w);
  };

  return {
    watch(jobId, onChange) {
      let w = jobs.get(jobId);
      if (!w) {
        w = { listeners: new Set() };
        jobs.set(jobId, w);
      }
      const watched = w;
      watched.listeners.add(onChange);
      if (watched.listeners.size === 1 && watched.timer === undefined) schedule(jobId, watched);
      return () => {
        watched.listeners.delete(onChange);
        if (watched.listeners.size === 0) {
          clearTimeout(watched.timer);
          if (jobs.get(jobId) === watched) jobs.delete(jobId);
        }
      };
    },
    latest: (jobId) => jobs.get(jobId)?.job,
    get watched() {
      return jobs.size;
    },
    close() {
      closed = true;
      for (const w of jobs.values()) clearTimeout(w.timer);
      jobs.clear();
    },
  };
}

/**
 * The event stream of one job: `progress` with the job view when its state differs from the client's last event id,
 * `done` (always, whatever the client saw) once the job is final. The first read goes to the store; later reads use
 * what the shared poll read, so a thousand watchers of one job cost one store read per poll.
 */
export function jobFeed(store: Store, watcher: JobWatcher, jobId: string, sending: () => SendingView): EventFeed {
  let opened = false;
  return {
    async since(lastId): Promise<SseEvent[]> {
      const cached = opened ? watcher.latest(jobId) : undefined;
      opened = true;
      const job = cached ?? (await store.getJob(jobId));
      if (!job) throw new Error('the job is no longer stored');
      const id = stateKey(job);
      const data = jobView(job, sending());
      if (isFinal(job)) return [{ event: 'done', id, data }];
      return lastId === id ? [] : [{ event: 'progress', id, data }];
    },
    subscribe: (onChange) => watcher.watch(jobId, onChange),
  };
}
