// bulkEmail(options): resolve options, wire the parts, return the Router (with close()).
import type { Router } from 'express';
import type { RouteContext } from './http/context.js';
import { buildRouter } from './http/router.js';
import { resolveOptions } from './options.js';
import type { BulkEmailOptions, Principal } from './types.js';
import { createValidator } from './validation/validator.js';
import { startSender } from './worker.js';

export interface BulkEmailRouter extends Router {
  /** Stops this router's sender (finishing calls in flight) and closes what bulkEmail() itself created. */
  close(): Promise<void>;
}

export function bulkEmail<P extends Principal = Principal>(options: BulkEmailOptions<P>): BulkEmailRouter {
  const config = resolveOptions(options);
  if (!config.worker && !config.queue.distributed) {
    throw new TypeError(
      'express-bulk-email: worker: false needs a queue that other processes consume, such as bullmqQueue(); with the in-process queue nothing would ever be sent',
    );
  }
  if (config.owned.store && config.queue.distributed) {
    config.logger.warn(
      { code: 'EBE_MEMORY_STORE_DISTRIBUTED' },
      'express-bulk-email: a memory store with a distributed queue: workers in other processes cannot see these jobs; use redisStore()',
    );
  }
  const validator = createValidator({ maxEntries: config.maxEntries });
  const sender = config.worker ? startSender(config) : undefined;
  const ctx: RouteContext<P> = {
    config,
    validator,
    engine: {
      rate: () => sender?.rate() ?? (typeof config.sendRate === 'number' ? config.sendRate : undefined),
      close: async () => {
        await sender?.close();
      },
    },
  };
  const router = buildRouter(ctx) as BulkEmailRouter;
  let closing: Promise<void> | undefined;
  router.close = () => {
    closing ??= (async () => {
      await ctx.engine.close();
      // A queue this router consumes is closed with it: its consumer cannot be stopped on its own.
      if (config.owned.queue || config.worker) await config.queue.close();
      if (config.owned.store) await config.store.close();
      if (config.owned.ses) config.ses.destroy();
    })();
    return closing;
  };
  return router;
}
