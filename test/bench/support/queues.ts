// Queues for measuring the accept path alone: they take a job's work like a real queue but never send it.
import type { ChunkTask, Queue, Store } from '../../../src/types.js';
import { parkedQueue } from '../../helpers/parked-queue.js';

/** Drops every job's work (counting its tasks): sending is someone else's job, without Redis in the measured path. */
export function droppingQueue(): Queue & { tasks(): number } {
  let n = 0;
  const queue = parkedQueue((work) => {
    n += work.tasks.length;
  });
  return Object.assign(queue, { tasks: () => n });
}

/**
 * Like droppingQueue(), but ends each job at once (store.finishPending with cancel), as an infinitely fast sender
 * would: no backlog of unfinished jobs builds up.
 */
export function finishingQueue(store: Store): Queue {
  return parkedQueue(async (work) => {
    await store.finishPending(work.jobId, { status: 'CANCELED', cancel: true });
  });
}

/** Keeps every task in memory, as the in-process queue does until a sender takes it, and never sends. */
export function holdingQueue(): Queue & { held(): ChunkTask[] } {
  const held: ChunkTask[] = [];
  const queue = parkedQueue((work) => {
    for (const t of work.tasks) held.push(t);
  });
  return Object.assign(queue, { held: () => held });
}
