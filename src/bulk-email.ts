// bulkEmail(options): resolve options, wire the parts, return the Router (with close()).
import type { Router } from 'express';
import { admissionLedger } from './http/admission.js';
import type { Engine, RouteContext } from './http/context.js';
import { buildRouter } from './http/router.js';
import { resolveOptions } from './options.js';
import { storedTemplateFetcher } from './render/stored-template-fetcher.js';
import { templateCache } from './render/template-cache.js';
import type { SendRate } from './sending/send-rate.js';
import type { BulkEmailEvent, Principal, BulkEmailOptions } from './types.js';
import { createValidator } from './validation/validator.js';
import { readSendRate, startSender } from './worker.js';

export interface BulkEmailRouter extends Router {
  /** Settles once the send rate is known (GetAccount read or failed; at once for a fixed `sendRate`). Never rejects. */
  ready: Promise<void>;
  /** Stops this router's sender (finishing calls in flight) and closes what bulkEmail() itself created. */
  close(): Promise<void>;
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
  const ctx: RouteContext<P> = {
    config,
    validator,
    engine,
    admission: admissionLedger(config.store, () => config.clock.now()),
    fetchStoredTemplate: storedTemplateFetcher(config.ses),
    variablesOf: templateCache(),
  };
  const router = buildRouter(ctx) as BulkEmailRouter;
  router.ready = rates.ready;
  let closing: Promise<void> | undefined;
  router.close = () => {
    closing ??= (async () => {
      // A queue this router consumes is closed with it: its consumer cannot be stopped on its own.
      if (config.owned.queue || config.worker) await config.queue.close();
      await engine.close();
      if (config.owned.store) await config.store.close();
      if (config.owned.ses) config.ses.destroy();
    })();
    return closing;
  };
  return router;
}
