// Queues for measuring the accept path alone: they take chunk tasks like a real queue but never send them.
import type { ChunkTask, LegacyQueue as Queue, Store } from '../../../src/types.js';

/**
 * Drops every task (counting them). `distributed: true` so that a router may use it with `worker: false`: sending is
 * someone else's job, exactly as with bullmqQueue(), but without Redis in the measured path. Jobs stay `queued`.
 */
export function droppingQueue(): Queue & { tasks(): number } {
  let n = 0;
  return {
    distributed: true,
    async enqueue(tasks) {
      n += tasks.length;
    },
    async start() {
      throw new Error('droppingQueue: nothing consumes this queue');
    },
    async close() {},
    tasks: () => n,
  };
}

/**
 * Like droppingQueue(), but ends each job at once (store.finishPending with cancel), as an infinitely fast sender
 * would: no backlog of unfinished jobs builds up.
 */
export function finishingQueue(store: Store): Queue {
  return {
    distributed: true,
    async enqueue(tasks) {
      const jobs = new Set(tasks.map((t) => t.jobId));
      for (const id of jobs) await store.finishPending(id, { status: 'CANCELED', cancel: true });
    },
    async start() {
      throw new Error('finishingQueue: nothing consumes this queue');
    },
    async close() {},
  };
}

/** Keeps every task in memory, as the in-process queue does until a sender takes it, and never sends. */
export function holdingQueue(): Queue & { held(): ChunkTask[] } {
  const held: ChunkTask[] = [];
  return {
    distributed: true,
    async enqueue(tasks) {
      for (const t of tasks) held.push(t);
    },
    async start() {
      throw new Error('holdingQueue: nothing consumes this queue');
    },
    async close() {},
    held: () => held,
  };
}
