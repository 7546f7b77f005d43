// The `webhooks` option → its resolved config, with build-time TypeErrors that say how to fix it.
import type { WebhookEventType, WebhookOptions } from '../types.js';

export const WEBHOOK_EVENT_TYPES: readonly WebhookEventType[] = [
  'job.completed',
  'job.failed',
  'job.paused',
  'job.canceled',
  'entry.bounced',
  'entry.complained',
];

export interface WebhooksConfig {
  endpoint: WebhookOptions['endpoint'];
  events: ReadonlySet<WebhookEventType>;
  /** null: the default jittered schedule (up to 3 days). */
  retryDelaysMs: readonly number[] | null;
  allowPrivate: boolean;
}

const KEYS = ['endpoint', 'events', 'retryDelaysMs', 'allowPrivate'];
/** One retry a minute for 3 days is already 4,320: a longer list is a mistake. */
const MAX_DELAYS = 1_000;

function fail(message: string): never {
  throw new TypeError(`express-bulk-email: ${message}`);
}

/** undefined stays undefined (no webhooks). */
export function resolveWebhookOptions(value: WebhookOptions | undefined): WebhooksConfig | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(
      'option "webhooks" must be an object { endpoint(principal) → { url, secret } | null, events?, retryDelaysMs?, allowPrivate? }',
    );
  }
  for (const key of Object.keys(value)) {
    if (!KEYS.includes(key)) fail(`unknown option "webhooks.${key}"; known options: ${KEYS.join(', ')}`);
  }
  if (typeof value.endpoint !== 'function') {
    fail('webhooks.endpoint is required: a function (principal) => ({ url, secret }) | null');
  }
  let events = new Set<WebhookEventType>(WEBHOOK_EVENT_TYPES);
  if (value.events !== undefined) {
    if (!Array.isArray(value.events) || value.events.length === 0) {
      fail(`webhooks.events must be a non-empty list of event types: ${WEBHOOK_EVENT_TYPES.join(', ')}`);
    }
    for (const type of value.events) {
      if (!WEBHOOK_EVENT_TYPES.includes(type)) {
        fail(
          `webhooks.events has unknown event type ${JSON.stringify(type)}; known: ${WEBHOOK_EVENT_TYPES.join(', ')}`,
        );
      }
    }
    events = new Set(value.events);
  }
  let retryDelaysMs: readonly number[] | null = null;
  if (value.retryDelaysMs !== undefined) {
    const delays = value.retryDelaysMs;
    if (!Array.isArray(delays) || delays.length > MAX_DELAYS) {
      fail(`webhooks.retryDelaysMs must be a list of at most ${MAX_DELAYS} delays in ms, e.g. [1000, 60000, 3600000]`);
    }
    for (const delay of delays) {
      if (typeof delay !== 'number' || !Number.isFinite(delay) || delay < 0) {
        fail(`webhooks.retryDelaysMs must hold non-negative finite numbers of ms, got ${String(delay)}`);
      }
    }
    retryDelaysMs = Object.freeze([...delays]);
  }
  if (value.allowPrivate !== undefined && typeof value.allowPrivate !== 'boolean') {
    fail('webhooks.allowPrivate must be true or false');
  }
  return { endpoint: value.endpoint, events, retryDelaysMs, allowPrivate: value.allowPrivate === true };
}
