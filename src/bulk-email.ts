// bulkEmail(options): resolve options, wire the parts, return the Router (with close()).
import type { Router } from 'express';
import { type IngestOutcome, deliveryFeedback } from './events/delivery-feedback.js';
import type { ResumeOutcome } from './events/principal-guard.js';
import { snsReceiver } from './events/sns-receiver.js';
import { admissionLedger } from './http/admission.js';
import type { Engine, RouteContext } from './http/context.js';
import { WATCH_POLL_MS } from './http/events-route.js';
import { jobWatcher } from './http/job-watch.js';
import { buildRouter } from './http/router.js';
import { streamLimiter } from './http/stream-limiter.js';
import { resolveOptions } from './options.js';
import { jobWebhooks } from './webhooks/job-webhooks.js';
import { storedTemplateFetcher } from './render/stored-template-fetcher.js';
import { templateCache } from './render/template-cache.js';
import type { SendRate } from './sending/send-rate.js';
import { sendStats } from './sending/send-stats.js';
import type { BulkEmailEvent, Principal, BulkEmailOptions, SendStats } from './types.js';
import { createValidator } from './validation/validator.js';
import { readSendRate, startSender } from './worker.js';

export interface BulkEmailRouter extends Router {
  /** Settles once the send rate is known (GetAccount read or failed; at once for a fixed `sendRate`). Never rejects. */
  ready: Promise<void>;
  /** Stops this router's sender (finishing calls in flight) and closes what bulkEmail() itself created. */
  close(): Promise<void>;
  /**
   * Takes one SES event as received from EventBridge (the event or its `detail`), SQS (the body string), Lambda or an
   * SNS envelope — trusted as given (no signature is checked: pass only what came from your own bus or queue). An
   * event it cannot use is ignored with a reason; it rejects only when the store fails (so the caller retries).
   */
  ingest(event: unknown): Promise<IngestOutcome>;
  /**
   * Lifts a reputation-guard pause: new jobs are accepted again, the guard's counts start afresh, and the jobs the
   * guard paused resume (jobs the owner paused stay paused).
   */
  resumePrincipal(principalId: string): Promise<ResumeOutcome>;
  /**
   * Fair share as it stands: the send rate and, per principal with jobs in the queue, its waiting recipients, jobs,
   * lag (how long its oldest ready work has waited), weight and share of the rate. With the Redis queue it covers
   * every web instance and worker.
   */
  stats(): Promise<SendStats>;
}

/** How long a per-entry ACCOUNT_DAILY_QUOTA_EXCEEDED makes admission treat the quota as spent. */
const QUOTA_SPENT_MS = 15 * 60 * 1000;

export function bulkEmail<P extends Principal = Principal>(options: BulkEmailOptions<P>): BulkEmailRouter {
  const config = resolveOptions(options);
  if (!config.worker && !config.queue.distributed) {
    throw new TypeError(
      'express-bulk-email: worker: false needs a queue that other processes consume (the Redis queue from express-bulk-email/redis); with the in-process queue nothing would ever be sent',
    );
  }
  if (config.owned.store && config.queue.distributed) {
    config.logger.warn(
      { code: 'EBE_MEMORY_STORE_DISTRIBUTED' },
      'express-bulk-email: a memory store with a distributed queue: workers in other processes cannot see these jobs; use redisStore()',
    );
  }
  // SES's per-entry ACCOUNT_DAILY_QUOTA_EXCEEDED feeds back into admission: the quota counts as spent for a while.
  let quotaSpentUntil = 0;
  const emit = config.emit;
  config.emit = (event: BulkEmailEvent) => {
    if (event.type === 'chunk.retry' && event.reason === 'ACCOUNT_DAILY_QUOTA_EXCEEDED') {
      quotaSpentUntil = config.clock.now() + QUOTA_SPENT_MS;
    }
    emit(event);
  };

  // Before the sender and the feedback read config.emit: the events webhooks carry are queued from it.
  const webhooks = jobWebhooks(config, config.worker, () => engine.sending());
  const validator = createValidator({ maxEntries: config.maxEntries });
  const sender = config.worker ? startSender(config) : undefined;
  // A web-only process still reads the account, for estimates and quota-aware admission.
  const rates: SendRate = sender?.sendRate ?? readSendRate(config);
  const engine: Engine = {
    sending: () => ({ rate: rates.rate(), source: rates.source() }),
    remaining24h: () => (config.clock.now() < quotaSpentUntil ? 0 : rates.remaining24h()),
    ready: rates.ready,
    close: async () => {
      if (sender) await sender.close();
      else rates.close();
    },
  };
  const feedback = deliveryFeedback(config);
  const sns = config.events.sns
    ? snsReceiver({
        ...config.events.sns,
        ingest: (event) => feedback.ingest(event),
        seen: feedback.seen,
        logger: config.logger,
        clock: config.clock,
      })
    : undefined;
  // Aborted by close(): open event streams end (clients reconnect to another process).
  const closing = new AbortController();
  const ctx: RouteContext<P> = {
    config,
    validator,
    engine,
    admission: admissionLedger(config.store, () => config.clock.now()),
    fetchStoredTemplate: storedTemplateFetcher(config.ses),
    variablesOf: templateCache(),
    feedback,
    sns,
    webhooks,
    streams: {
      watcher: jobWatcher(config.store, WATCH_POLL_MS, config.logger),
      limiter: streamLimiter(config.maxStreamsPerPrincipal),
      closing: closing.signal,
    },
  };
  const router = buildRouter(ctx) as BulkEmailRouter;
  router.ready = rates.ready;
  router.ingest = (event) => feedback.ingest(event);
  router.resumePrincipal = (principalId) => feedback.guard.resume(principalId);
  let closed: Promise<void> | undefined;
  router.stats = () => sendStats(config.queue, config.clock, rates.rate());
  router.close = () => {
    closed ??= (async () => {
      closing.abort();
      ctx.streams.watcher.close();
      // A queue this router consumes is closed with it: its consumer cannot be stopped on its own.
      if (config.owned.queue || config.worker) await config.queue.close();
      await sns?.close();
      await engine.close();
      await webhooks?.close();
      if (config.owned.store) await config.store.close();
      if (config.owned.ses) config.ses.destroy();
    })();
    return closed;
  };
  return router;
}
