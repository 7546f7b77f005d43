// inProcessQueue(): the embedded Queue — chunk tasks in memory, consumed by this process with bounded concurrency.
import { setMaxListeners } from 'node:events';
import { memoryRateLimiter } from '../sending/rate-limiter.js';
import type { ChunkProcessor, ChunkTask, Logger, LegacyQueue as Queue } from '../types.js';

export interface InProcessQueueOptions {
  /** Times a task whose processor throws is run again. Default 3. */
  retries?: number;
  /** Wait before the first rerun, doubled for each later one. Default 1,000 ms. */
  retryDelayMs?: number;
  /** Where failed tasks are reported; `start({ logger })` overrides it. Default silent. */
  logger?: Logger;
}

interface Item {
  task: ChunkTask;
  /** Runs that already failed. */
  failures: number;
}

/**
 * Tasks live in this process only (`distributed: false`): they are lost if it stops, as is the memory store that
 * tracks them. Delay timers are unref'd, so a pending delay never keeps the process alive.
 */
export function inProcessQueue(options: InProcessQueueOptions = {}): Queue {
  const retries = options.retries ?? 3;
  const retryDelayMs = options.retryDelayMs ?? 1000;
  let logger = options.logger;
  const ready: Item[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<void>>();
  const controller = new AbortController();
  // Every running task's sleeps and semaphore waits listen on this one signal: many listeners are expected.
  setMaxListeners(0, controller.signal);
  let processor: ChunkProcessor | undefined;
  let concurrency = 1;
  let closed = false;

  function later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timer.unref();
    timers.add(timer);
  }

  function pump(): void {
    while (processor && !closed && running.size < concurrency && ready.length > 0) {
      run(processor, ready.shift() as Item);
    }
  }

  function run(process: ChunkProcessor, item: Item): void {
    const done = (async () => {
      try {
        await process(item.task, controller.signal);
      } catch (err) {
        failed(item, err);
      }
    })();
    running.add(done);
    void done.finally(() => {
      running.delete(done);
      pump();
    });
  }

  function failed(item: Item, err: unknown): void {
    const { jobId, chunk } = item.task;
    const failures = item.failures + 1;
    if (closed) return; // nothing runs after close
    if (failures > retries) {
      logger?.error({ code: 'EBE_TASK_FAILED', err, jobId, chunk, failures }, 'chunk task failed; giving up');
      return;
    }
    const delayMs = retryDelayMs * 2 ** (failures - 1);
    logger?.warn({ code: 'EBE_TASK_RETRY', err, jobId, chunk, failures, delayMs }, 'chunk task failed; retrying');
    later(delayMs, () => {
      ready.push({ task: item.task, failures });
      pump();
    });
  }

  return {
    distributed: false,

    async enqueue(tasks, { delayMs = 0 } = {}) {
      const items = tasks.map((task) => ({ task, failures: 0 }));
      if (delayMs > 0 && !closed) {
        later(delayMs, () => {
          ready.push(...items);
          pump();
        });
        return;
      }
      ready.push(...items);
      pump();
    },

    async start(proc, { concurrency: limit, logger: startLogger }) {
      if (processor) throw new Error('inProcessQueue: start() was already called');
      if (closed) throw new Error('inProcessQueue: the queue is closed');
      if (!(Number.isInteger(limit) && limit >= 1))
        throw new TypeError('inProcessQueue: concurrency must be a positive integer');
      processor = proc;
      concurrency = limit;
      logger = startLogger ?? logger;
      pump();
    },

    createRateLimiter({ rate, clock }) {
      return memoryRateLimiter({ rate, clock });
    },

    async close() {
      closed = true;
      controller.abort();
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  };
}
