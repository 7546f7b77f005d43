// The sending side: the send-rate source, the dispatcher and its guard, the queue consumer; createWorker() for other processes.
import { jobWebhooks } from './webhooks/job-webhooks.js';
import { type SenderConfig, checkSenderKeys, resolveSenderOptions } from './options.js';
import { guardCalls } from './sending/call-guard.js';
import { DEFAULT_TIMING, createDispatcher } from './sending/dispatcher.js';
import { type SendRate, createSendRate } from './sending/send-rate.js';
import { sendStats } from './sending/send-stats.js';
import type { Queue, SendStats, SenderOptions, Store } from './types.js';

export interface Sender {
  /** The send rate and 24-hour quota as last read from the account. */
  sendRate: SendRate;
  /** Resolves once the queue consumer runs. */
  ready: Promise<void>;
  close(): Promise<void>;
}

/** Throws allowed per call before its entries are settled FAILED QUEUE_ATTEMPTS_EXHAUSTED, and the first backoff. */
const CALL_ATTEMPTS = 4;
const CALL_RETRY_DELAY_MS = 1000;

/** The send rate for a process that does not send (web only): read for estimates and admission, given to no queue. */
export function readSendRate(config: SenderConfig): SendRate {
  const { ses, sendRate, logger, alert, clock } = config;
  return createSendRate({ ses, sendRate, logger, alert, clock });
}

/** Starts consuming the config's queue in this process. */
export function startSender(config: SenderConfig): Sender {
  const { ses, store, queue, logger, alert, clock, emit } = config;
  const sendRate = createSendRate({
    ses,
    sendRate: config.sendRate,
    sink: queue,
    logger,
    alert,
    clock,
    blocked: async () => {
      const remaining = sendRate.remaining24h();
      if (remaining === null || remaining < 0) return false;
      const waiting = (await queue.stats()).reduce((n, s) => n + s.waitingRecipients, 0);
      return waiting > remaining;
    },
  });
  const dispatch = createDispatcher({
    ses,
    store,
    queue,
    retry: config.retry,
    atLeastOnce: config.atLeastOnce,
    callTimeoutMs: config.callTimeoutMs,
    clock,
    logger,
    emit,
    quotaSpent: () => sendRate.quotaSpent(),
    timing: DEFAULT_TIMING,
    random: Math.random,
    feedback: { messageRetentionMs: config.events.retentionMs, guardWindowMs: config.guard?.windowMs },
    telemetry: config.telemetry,
  });
  const unwatch = config.telemetry.watchQueue(queue, clock);
  const consumer = guardCalls(dispatch, {
    store,
    clock,
    logger,
    emit,
    attempts: CALL_ATTEMPTS,
    retryDelayMs: CALL_RETRY_DELAY_MS,
  });
  const ready = (async () => {
    await sendRate.ready;
    await queue.start(consumer, { concurrency: config.concurrency, logger });
  })();
  ready.catch((err: unknown) => {
    logger.error(
      { err: err instanceof Error ? err.message : String(err) },
      'express-bulk-email: the sender could not start',
    );
  });
  return {
    sendRate,
    ready,
    close: async () => {
      unwatch();
      sendRate.close();
      await ready.catch(() => undefined);
    },
  };
}

export interface WorkerOptions extends SenderOptions {
  store: Store;
  queue: Queue;
}

export interface Worker {
  /** Resolves once the worker consumes the queue (rejects if it cannot start). */
  ready: Promise<void>;
  /** Recipients per second in force now (the configured rate, or the account's). */
  rate(): number;
  /** Per principal with jobs in the shared queue: waiting recipients, jobs, lag, weight, share (as `router.stats()`). */
  stats(): Promise<SendStats>;
  /** Graceful: finishes the calls in flight, hands the rest of its work back to the queue, closes what it created. */
  close(): Promise<void>;
}

/** Runs the sending side in this process, consuming a shared queue (the Redis queue from express-bulk-email/redis) and writing to a shared store. */
export function createWorker(options: WorkerOptions): Worker {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('express-bulk-email: createWorker(options) needs an options object');
  checkSenderKeys(options);
  if (!options.store)
    throw new TypeError(
      'express-bulk-email: createWorker needs the same `store` as the web processes, e.g. redisStore({ connection })',
    );
  if (!options.queue)
    throw new TypeError(
      'express-bulk-email: createWorker needs the same `queue` as the web processes, e.g. a Redis queue',
    );
  const config = resolveSenderOptions(options);
  // Before the sender reads config.emit; this process sends, so it delivers the outbox too.
  const webhooks = jobWebhooks(config, true, () => ({
    rate: sender.sendRate.rate(),
    source: sender.sendRate.source(),
  }));
  const sender = startSender(config);
  let closing: Promise<void> | undefined;
  return {
    ready: sender.ready,
    rate: () => sender.sendRate.rate(),
    stats: () => sendStats(config.queue, config.clock, sender.sendRate.rate()),
    close: () => {
      closing ??= (async () => {
        await config.queue.close();
        await sender.close();
        await webhooks?.close();
        if (config.owned.ses) config.ses.destroy();
      })();
      return closing;
    },
  };
}
