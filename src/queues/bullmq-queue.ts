// bullmqQueue(): the distributed Queue — chunk tasks in BullMQ, consumed by any number of worker processes.
import { setMaxListeners } from 'node:events';
import { Queue as BullQueue, type ConnectionOptions, Worker } from 'bullmq';
import { failFast, ownClient, type RedisConnection, redisGuard, redisOptions } from '../stores/redis-connection.js';
import type { ChunkTask, Logger, Queue, RateLimiter } from '../types.js';
import { redisRateLimiter } from './redis-rate-limiter.js';

export interface BullmqQueueOptions {
  /** ioredis options, a redis:// URL, or an ioredis instance; the queue opens its own connections from it. */
  connection: RedisConnection;
  /** BullMQ queue name; every web and worker process of one app must use the same. Default `express-bulk-email`. */
  name?: string;
  /** BullMQ key prefix. Default `bull`. */
  prefix?: string;
  /** Runs of a task whose processor throws (e.g. the store is unreachable), first included. Default 8. */
  attempts?: number;
  /** First retry delay of such a task, doubled each time. Default 1,000 ms. */
  retryDelayMs?: number;
  /** A worker that holds a task this long without renewing its lock (it died) loses it. Default 10,000 ms. */
  lockDurationMs?: number;
  /** How often workers look for tasks whose lock expired. Default 5,000 ms. */
  stalledIntervalMs?: number;
  /** Enqueueing (or starting a worker) that takes longer fails with 503. Default 5,000 ms. */
  timeoutMs?: number;
  logger?: Logger;
}

const DAY_S = 24 * 60 * 60;
/** Clients that answer or fail at once (one retry per command), without ioredis keyPrefix (BullMQ has `prefix`). */
const ONE_TRY = { maxRetriesPerRequest: 1, enableOfflineQueue: true, keyPrefix: '' } as const;

/**
 * Tasks get BullMQ-generated ids: a deterministic id would make BullMQ drop a hand-back (the same entries enqueued
 * again while the original task is still active). With the default lock settings a task held by a SIGKILLed worker
 * is back in the wait list within ~15 s; `maxStalledCount` is high so a crash never fails a task.
 */
export function bullmqQueue(options: BullmqQueueOptions): Queue {
  const name = options.name ?? 'express-bulk-email';
  const prefix = options.prefix ?? 'bull';
  const timeoutMs = options.timeoutMs ?? 5000;
  let logger = options.logger;
  // BullMQ refuses ioredis keyPrefix (it has `prefix`); the producer fails fast instead of queueing commands forever.
  const producer = ownClient(options.connection, ONE_TRY);
  const guard = redisGuard(producer);
  const queue = new BullQueue<ChunkTask>(name, {
    connection: producer,
    prefix,
    defaultJobOptions: {
      attempts: options.attempts ?? 8,
      backoff: { type: 'exponential', delay: options.retryDelayMs ?? 1000 },
      removeOnComplete: { age: 3600, count: 1000 },
      removeOnFail: { age: 7 * DAY_S, count: 10_000 },
    },
  });
  queue.on('error', (err) => logger?.error({ code: 'EBE_QUEUE_ERROR', err }, 'BullMQ queue error'));
  const controller = new AbortController();
  // Every running task's sleeps and semaphore waits listen on this one signal: many listeners are expected.
  setMaxListeners(0, controller.signal);
  const limiters = new Set<RateLimiter>();
  let worker: Worker<ChunkTask> | undefined;
  let closing: Promise<void> | undefined;

  return {
    distributed: true,

    enqueue: (tasks, { delayMs = 0 } = {}) =>
      guard(async () => {
        if (tasks.length === 0) return;
        const delay = Math.max(0, Math.round(delayMs));
        const jobs = tasks.map((task) => ({ name: `${task.jobId}:${task.chunk}`, data: task, opts: { delay } }));
        await failFast(producer, queue.addBulk(jobs), timeoutMs);
      }),

    async start(processor, { concurrency, logger: startLogger }) {
      if (worker) throw new Error('bullmqQueue: start() was already called');
      if (closing) throw new Error('bullmqQueue: the queue is closed');
      if (!(Number.isInteger(concurrency) && concurrency >= 1))
        throw new TypeError('bullmqQueue: concurrency must be a positive integer');
      logger = startLogger ?? logger;
      worker = new Worker<ChunkTask>(name, (job) => processor(job.data, controller.signal), {
        connection: redisOptions(options.connection, {
          maxRetriesPerRequest: null,
          keyPrefix: '',
        }) as ConnectionOptions,
        prefix,
        concurrency,
        lockDuration: options.lockDurationMs ?? 10_000,
        stalledInterval: options.stalledIntervalMs ?? 5_000,
        maxStalledCount: 1_000,
      });
      worker.on('error', (err) => logger?.error({ code: 'EBE_WORKER_ERROR', err }, 'BullMQ worker error'));
      worker.on('failed', (job, err) =>
        logger?.warn(
          {
            code: 'EBE_TASK_RETRY',
            err,
            jobId: job?.data.jobId,
            chunk: job?.data.chunk,
            attemptsMade: job?.attemptsMade,
          },
          'chunk task failed',
        ),
      );
      try {
        await failFast(producer, worker.waitUntilReady(), timeoutMs);
      } catch (err) {
        const failed = worker;
        worker = undefined;
        await failed.close(true).catch(() => undefined);
        throw err;
      }
    },

    createRateLimiter({ rate }) {
      const client = ownClient(options.connection, ONE_TRY);
      const limiter = redisRateLimiter({ client, key: `${prefix}:${name}:ebe-rate-limiter`, rate });
      limiters.add(limiter);
      return limiter;
    },

    close() {
      closing ??= (async () => {
        controller.abort();
        await worker?.close();
        await queue.close();
        await Promise.all([...limiters].map((l) => l.close()));
        if (producer.status !== 'end') producer.disconnect();
      })();
      return closing;
    },
  };
}
