// webhookDelivery(): queues events as signed webhooks in an outbox and delivers them, at least once, with retries.
import { createHash, randomBytes } from 'node:crypto';
import { silentLogger } from '../logger.js';
import { systemClock } from '../sending/clock.js';
import type {
  Clock,
  LeasedWebhookMessage,
  Logger,
  WebhookEndpoint,
  WebhookEventType,
  WebhookOutbox,
} from '../types.js';
import { addressPolicy } from './address-policy.js';
import { postWebhook } from './post-webhook.js';
import { nextRetryDelay } from './retry-schedule.js';
import { type ResolveHost, systemResolve } from './safe-target.js';
import { secretKeys, signWebhook } from './signature.js';
import type { WebhooksConfig } from './webhook-options.js';

export interface WebhookDeliveryOptions {
  config: WebhooksConfig;
  outbox: WebhookOutbox;
  clock?: Clock;
  logger?: Logger;
  /** Attempts in flight at once in this process. Default 8. */
  concurrency?: number;
  /** An attempt with no answer (status line and headers) by then fails. Default 15,000 ms. */
  timeoutMs?: number;
  /** How often the outbox is asked for due messages when nothing wakes the loop sooner. Default 1,000 ms. */
  pollMs?: number;
  /** DNS resolution (tests). Default: the system resolver, as `dns.lookup`. */
  resolve?: ResolveHost;
  /** Jitter source (tests). Default Math.random. */
  random?: () => number;
}

/** One event for one principal's endpoint. `data` is already the snake_case view the receiver gets. */
export interface WebhookEvent {
  principalId: string;
  type: WebhookEventType;
  data: Record<string, unknown>;
  /** Makes the webhook-id a function of (principal, type, key): emitting the same event twice queues it once. */
  key?: string;
  /** Epoch ms of the event (the payload's `timestamp`). Default now. */
  at?: number;
}

export interface WebhookDelivery {
  /** Queues the event if it is subscribed and the principal has an endpoint; resolves with its webhook-id or null. */
  emit(event: WebhookEvent): Promise<string | null>;
  /** Starts delivering from the outbox in this process (any number of processes may). */
  start(): void;
  /** Sends to a URL again after it answered 410 Gone. */
  enable(url: string): Promise<void>;
  /** Stops: attempts in flight are aborted and put back due now (same webhook-id), the loop ends. */
  close(): Promise<void>;
}

const USER_AGENT = 'express-bulk-email-webhooks/1';

/** Where a URL points, for logs: no credentials, query or fragment. */
function logUrl(raw: string): string {
  try {
    const url = new URL(raw);
    return `${url.origin}${url.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

function messageId(event: WebhookEvent): string {
  if (event.key === undefined) return `msg_${randomBytes(16).toString('base64url')}`;
  const hash = createHash('sha256').update(`${event.principalId}\0${event.type}\0${event.key}`).digest('base64url');
  return `msg_${hash.slice(0, 27)}`;
}

export function webhookDelivery(options: WebhookDeliveryOptions): WebhookDelivery {
  const { config, outbox } = options;
  const clock = options.clock ?? systemClock();
  const logger = options.logger ?? silentLogger;
  const concurrency = options.concurrency ?? 8;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const pollMs = options.pollMs ?? 1_000;
  const resolve = options.resolve ?? systemResolve;
  const random = options.random ?? Math.random;
  const policy = config.allowPrivate ? null : addressPolicy();
  /** Longer than an attempt can take (endpoint lookup + request deadline), so a live deliverer never loses its lease. */
  const leaseMs = 2 * timeoutMs + 10_000;

  const inFlight = new Set<Promise<void>>();
  const aborts = new Set<AbortController>();
  let running: Promise<void> | null = null;
  let closing = false;
  let sleeper: AbortController | null = null;
  /** Set by wake(): something changed while the loop was busy, so it must not sleep before looking again. */
  let woken = false;
  /** The earliest due time this process knows of (its own reschedules), to wake for it before the next poll. */
  let soonest = Number.POSITIVE_INFINITY;

  const wake = () => {
    woken = true;
    sleeper?.abort();
  };

  async function retryLater(message: LeasedWebhookMessage, reason: string, retryAfterMs?: number): Promise<void> {
    const now = clock.now();
    const attempts = message.attempts + 1;
    let delay = nextRetryDelay(attempts, now - message.createdAt, config.retryDelaysMs, random);
    const fields = { webhookId: message.id, type: message.type, attempts, reason };
    if (delay === null) {
      await outbox.remove(message.id, message.lease);
      logger.warn({ ...fields, code: 'WEBHOOK_GAVE_UP' }, 'express-bulk-email: webhook dropped after its last attempt');
      return;
    }
    if (retryAfterMs !== undefined) delay = Math.max(delay, retryAfterMs);
    await outbox.reschedule(message.id, message.lease, now + delay);
    soonest = Math.min(soonest, now + delay);
    logger.info({ ...fields, retryInMs: delay }, 'express-bulk-email: webhook attempt failed; will retry');
  }

  /** The principal's endpoint now, null for none, 'failed' when the app's function threw or answered nonsense (logged). */
  async function endpointOf(principalId: string): Promise<WebhookEndpoint | null | 'failed'> {
    let endpoint: WebhookEndpoint | null | undefined;
    try {
      endpoint = await config.endpoint({ id: principalId });
    } catch (err) {
      logger.error(
        { code: 'WEBHOOK_ENDPOINT_THREW', err: (err as Error)?.message },
        'express-bulk-email: webhooks.endpoint threw',
      );
      return 'failed';
    }
    if (!endpoint) return null;
    if (typeof endpoint !== 'object' || typeof endpoint.url !== 'string') {
      logger.error(
        { code: 'WEBHOOK_ENDPOINT_INVALID' },
        'express-bulk-email: webhooks.endpoint returned no { url, secret }',
      );
      return 'failed';
    }
    return endpoint;
  }

  async function attempt(message: LeasedWebhookMessage, signal: AbortSignal): Promise<void> {
    const endpoint = await endpointOf(message.principalId);
    if (endpoint === 'failed') return retryLater(message, 'webhooks.endpoint failed');
    if (!endpoint) {
      await outbox.remove(message.id, message.lease);
      logger.info(
        { webhookId: message.id, type: message.type },
        'express-bulk-email: webhook dropped: the principal has no endpoint now',
      );
      return;
    }
    let keys: Buffer[];
    try {
      keys = secretKeys(endpoint.secret);
    } catch (err) {
      logger.error(
        { code: 'WEBHOOK_SECRET_INVALID', err: (err as Error).message },
        'express-bulk-email: webhook secret unusable',
      );
      return retryLater(message, 'secret unusable');
    }
    const now = clock.now();
    const timestamp = Math.floor(now / 1000);
    const outcome = await postWebhook({
      url: endpoint.url,
      headers: {
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        'webhook-id': message.id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signWebhook(keys, message.id, timestamp, message.body),
      },
      body: message.body,
      timeoutMs,
      policy,
      resolve,
      now,
      signal,
    });
    const url = logUrl(endpoint.url);
    if (outcome.kind === 'delivered') {
      await outbox.remove(message.id, message.lease);
      logger.debug(
        { webhookId: message.id, type: message.type, url, status: outcome.status },
        'express-bulk-email: webhook delivered',
      );
    } else if (outcome.kind === 'gone') {
      await outbox.disable(endpoint.url);
      await outbox.remove(message.id, message.lease);
      logger.warn(
        { code: 'WEBHOOK_ENDPOINT_GONE', url },
        'express-bulk-email: webhook endpoint answered 410 Gone; disabled',
      );
    } else if (signal.aborted) {
      await outbox.reschedule(message.id, message.lease, clock.now());
    } else {
      await retryLater(message, `${url}: ${outcome.reason}`, outcome.retryAfterMs);
    }
  }

  function launch(message: LeasedWebhookMessage): void {
    const abort = new AbortController();
    aborts.add(abort);
    const run = attempt(message, abort.signal)
      .catch((err) => {
        // The outbox failed (store unreachable): the lease runs out and the message is tried again.
        logger.error(
          { code: 'WEBHOOK_OUTBOX_FAILED', webhookId: message.id, err: (err as Error)?.message },
          'express-bulk-email: webhook outbox failed',
        );
      })
      .finally(() => {
        aborts.delete(abort);
        inFlight.delete(run);
        wake();
      });
    inFlight.add(run);
  }

  async function pump(): Promise<void> {
    const now = clock.now();
    if (soonest <= now) soonest = Number.POSITIVE_INFINITY;
    const free = concurrency - inFlight.size;
    if (free <= 0) return;
    for (const message of await outbox.due(now, free, leaseMs)) launch(message);
  }

  async function loop(): Promise<void> {
    while (!closing) {
      woken = false;
      try {
        await pump();
      } catch (err) {
        logger.error(
          { code: 'WEBHOOK_OUTBOX_FAILED', err: (err as Error)?.message },
          'express-bulk-email: webhook outbox failed',
        );
      }
      if (closing) break;
      if (woken) continue;
      sleeper = new AbortController();
      const wait = Math.min(pollMs, Math.max(0, soonest - clock.now()));
      await clock.sleep(wait, sleeper.signal);
      sleeper = null;
    }
  }

  return {
    async emit(event) {
      if (!config.events.has(event.type)) return null;
      const endpoint = await endpointOf(event.principalId);
      if (endpoint === null || endpoint === 'failed') return null;
      const at = event.at ?? clock.now();
      const id = messageId(event);
      const body = JSON.stringify({ type: event.type, timestamp: new Date(at).toISOString(), data: event.data });
      const added = await outbox.add({
        id,
        principalId: event.principalId,
        url: endpoint.url,
        type: event.type,
        body,
        createdAt: at,
        attempts: 0,
        nextAt: at,
      });
      if (added === 'full') {
        logger.warn(
          { code: 'WEBHOOK_OUTBOX_FULL', type: event.type },
          'express-bulk-email: webhook outbox full; event dropped',
        );
      }
      if (added === 'duplicate') return id;
      if (added !== 'added') return null;
      wake();
      return id;
    },
    start() {
      if (running || closing) return;
      running = loop();
    },
    enable: (url) => outbox.enable(url),
    async close() {
      closing = true;
      for (const abort of aborts) abort.abort();
      wake();
      await running;
      await Promise.allSettled([...inFlight]);
    },
  };
}
