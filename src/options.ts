// BulkEmailOptions → internal config: defaults, unknown keys, and build-time TypeErrors that say how to fix them.
import { SESv2Client, type SESv2ClientConfig } from '@aws-sdk/client-sesv2';
import { parseDuration } from './events/duration.js';
import { type EventsConfig, resolveEventsOptions, resolveGuardOptions } from './events/events-options.js';
import type { GuardConfig } from './events/reputation-guard.js';
import { silentLogger } from './logger.js';
import { inProcessQueue } from './queues/in-process-queue.js';
import { systemClock } from './sending/clock.js';
import { MAX_ATTEMPTS } from './stores/entry-codes.js';
import { memoryStore } from './stores/memory-store.js';
import { type WebhooksConfig, resolveWebhookOptions } from './webhooks/webhook-options.js';
import { type Telemetry, resolveTelemetry } from './telemetry/telemetry.js';
import type {
  BulkEmailEvent,
  BulkEmailOptions,
  Clock,
  Logger,
  Principal,
  Queue,
  RetryOptions,
  SenderOptions,
  Store,
  TelemetryOptions,
  UnsubscribeOptions,
} from './types.js';

export interface SenderConfig {
  ses: SESv2Client;
  store: Store;
  queue: Queue;
  sendRate: number | 'account';
  retry: Required<RetryOptions>;
  atLeastOnce: boolean;
  callTimeoutMs: number;
  concurrency: number;
  emit: (event: BulkEmailEvent) => void;
  logger: Logger;
  /** A warning someone must see (e.g. the fallback send rate): the app's logger, or the console when it gave none. */
  alert: (obj: object, msg: string) => void;
  clock: Clock;
  /** What this config created and so must close. */
  owned: { ses: boolean; store: boolean; queue: boolean };
  /** SES delivery events: the SNS route (router only) and how long sent messages stay linked. */
  events: EventsConfig;
  /** The reputation guard; undefined when `guard: false`. */
  guard?: GuardConfig;
  /** Webhooks out; undefined when not configured. */
  webhooks?: WebhooksConfig;
  /** OpenTelemetry spans and metrics (a pass-through when off or when @opentelemetry/api is not installed). */
  telemetry: Telemetry;
}

export interface RouterConfig<P extends Principal = Principal> extends SenderConfig {
  authenticate: BulkEmailOptions<P>['authenticate'];
  authorize?: BulkEmailOptions<P>['authorize'];
  senders?: BulkEmailOptions<P>['senders'];
  resources?: BulkEmailOptions<P>['resources'];
  validate?: BulkEmailOptions<P>['validate'];
  resolveTemplate?: BulkEmailOptions<P>['resolveTemplate'];
  suppress?: BulkEmailOptions<P>['suppress'];
  weight?: BulkEmailOptions<P>['weight'];
  maxEntries: number;
  /** Most recipients in one SES call (Infinity: only SES's 50 entries per call). */
  maxRecipientsPerCall: number;
  /** Bytes. */
  bodyLimit: number;
  maxActiveJobs: number;
  maxQueuedRecipients: number;
  /** Milliseconds. */
  maxScheduleAhead: number;
  worker: boolean;
  quota: 'defer' | 'refuse';
  renderCheck: 'strict' | 'permissive' | 'off';
  mergeTemplateData: boolean;
  unsubscribe?: UnsubscribeOptions;
  suppression: SuppressionConfig;
  /** Event streams (GET /:id/events) one principal may hold open in this process. */
  maxStreamsPerPrincipal: number;
  /** Serve GET /dashboard. */
  dashboard: boolean;
}

export interface SuppressionConfig {
  scope: 'principal' | 'account';
  maxAddresses: number;
}

const SENDER_KEYS = [
  'ses',
  'store',
  'queue',
  'sendRate',
  'retry',
  'atLeastOnce',
  'callTimeoutMs',
  'concurrency',
  'onEvent',
  'logger',
  'clock',
  'events',
  'guard',
  'webhooks',
  'telemetry',
] as const;

const ROUTER_KEYS = [
  ...SENDER_KEYS,
  'authenticate',
  'authorize',
  'senders',
  'resources',
  'validate',
  'resolveTemplate',
  'suppress',
  'weight',
  'maxEntries',
  'maxRecipientsPerCall',
  'bodyLimit',
  'maxActiveJobs',
  'maxQueuedRecipients',
  'maxScheduleAhead',
  'worker',
  'quota',
  'renderCheck',
  'mergeTemplateData',
  'unsubscribe',
  'suppression',
  'maxStreamsPerPrincipal',
  'dashboard',
] as const;

const STORE_METHODS = [
  'createJob',
  'getJob',
  'getPayload',
  'getResults',
  'claimEntries',
  'releaseEntries',
  'recordResults',
  'finishPending',
  'failJob',
  'setPaused',
  'countActiveJobs',
  'listJobs',
  'claimIdempotency',
  'completeIdempotency',
  'releaseIdempotency',
  'close',
  // delivery feedback (FeedbackStore)
  'recordDelivery',
  'findSuppressions',
  'addSuppressions',
  'removeSuppression',
  'listSuppressions',
  'addGuardCounts',
  'resetGuard',
  'getPrincipalPause',
  'setPrincipalPause',
  'activeJobIds',
  'markSeen',
  'forgetSeen',
] as const;
const QUEUE_METHODS = [
  'add',
  'pause',
  'resume',
  'remove',
  'start',
  'setRate',
  'penalize',
  'setQuota',
  'stats',
  'close',
] as const;

const SIZE = /^(\d+(?:\.\d+)?) *(b|kb|mb|gb)?$/i;
const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** `'20mb'`, `'512kb'`, `1048576`: a size in bytes (units of 1024, as express.json reads them); undefined if invalid. */
export function parseSize(size: unknown): number | undefined {
  if (typeof size === 'number') return Number.isSafeInteger(size) && size > 0 ? size : undefined;
  if (typeof size !== 'string') return undefined;
  const match = SIZE.exec(size.trim());
  if (!match) return undefined;
  const bytes = Math.floor(Number(match[1]) * UNITS[(match[2] ?? 'b').toLowerCase()]);
  return bytes > 0 ? bytes : undefined;
}

function fail(message: string): never {
  throw new TypeError(`express-bulk-email: ${message}`);
}

function checkKeys(options: object, allowed: readonly string[], what: string): void {
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) fail(`unknown option "${key}" for ${what}(); known options: ${allowed.join(', ')}`);
  }
}

function optionalFunction(options: Record<string, unknown>, name: string): void {
  if (options[name] !== undefined && typeof options[name] !== 'function') fail(`option "${name}" must be a function`);
}

function atMost(value: number, max: number, name: string): number {
  if (value > max) fail(`option "${name}" may be at most ${max} (the stores record up to ${max} attempts per entry)`);
  return value;
}

function positiveNumber(value: unknown, name: string, fallback: number, integer = true): number {
  if (value === undefined) return fallback;
  if (
    typeof value !== 'number' ||
    !(value > 0) ||
    (integer && !Number.isInteger(value) && value !== Number.POSITIVE_INFINITY)
  ) {
    fail(`option "${name}" must be a positive ${integer ? 'whole ' : ''}number, got ${String(value)}`);
  }
  return value;
}

const YEAR_MS = 366 * 86_400_000;

/** `maxScheduleAhead`: milliseconds or a duration ('30d'), from 1 s to 366 days. Default 30 days. */
function scheduleAhead(value: unknown): number {
  if (value === undefined) return 30 * 86_400_000;
  const ms = typeof value === 'number' ? value : parseDuration(value);
  if (ms === undefined || !Number.isFinite(ms) || ms < 1000 || ms > YEAR_MS) {
    fail(
      `option "maxScheduleAhead" must be milliseconds or a duration such as '30d' or '72h' (units ms, s, m, h, d), from 1 s to 366 days, got ${String(value)}`,
    );
  }
  return Math.floor(ms);
}

function oneOf<T extends string>(value: unknown, name: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) fail(`option "${name}" must be one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
  return value as T;
}

function checkMethods(value: unknown, methods: readonly string[], name: string, factory: string): void {
  if (typeof value !== 'object' || value === null) fail(`option "${name}" must be an object such as ${factory}`);
  const missing = methods.filter((m) => typeof (value as Record<string, unknown>)[m] !== 'function');
  if (missing.length)
    fail(`option "${name}" is missing method(s) ${missing.join(', ')}; use ${factory} or implement the interface`);
}

function isSesClient(value: unknown): value is SESv2Client {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as SESv2Client).send === 'function' &&
    'middlewareStack' in value
  );
}

export function resolveSenderOptions(options: SenderOptions): SenderConfig {
  const o = options as Record<string, unknown>;
  const logger = (options.logger ?? silentLogger) as Logger;
  if (options.logger !== undefined)
    checkMethods(options.logger, ['debug', 'info', 'warn', 'error'], 'logger', 'a pino logger');
  optionalFunction(o, 'onEvent');
  if (options.store !== undefined) checkMethods(options.store, STORE_METHODS, 'store', 'memoryStore() or redisStore()');
  if (options.queue !== undefined)
    checkMethods(options.queue, QUEUE_METHODS, 'queue', 'inProcessQueue() or the Redis queue');
  if (options.ses !== undefined && (typeof options.ses !== 'object' || options.ses === null)) {
    fail('option "ses" must be an SESv2Client or its config object');
  }
  const sendRate = options.sendRate ?? 'account';
  if (sendRate !== 'account' && !(typeof sendRate === 'number' && sendRate > 0 && Number.isFinite(sendRate))) {
    fail(`option "sendRate" must be a positive number of recipients per second or 'account', got ${String(sendRate)}`);
  }
  const retry = options.retry ?? {};
  if (typeof retry !== 'object') fail('option "retry" must be an object { attempts, baseDelayMs, maxDelayMs }');
  checkKeys(retry, ['attempts', 'baseDelayMs', 'maxDelayMs'], 'retry');
  const telemetry = checkTelemetry(options.telemetry);
  const sesGiven = isSesClient(options.ses);
  const onEvent = options.onEvent;
  const emit = (event: BulkEmailEvent) => {
    if (!onEvent) return;
    try {
      onEvent(event);
    } catch (err) {
      logger.error(
        { err: err instanceof Error ? err.message : String(err), event: event.type },
        'express-bulk-email: onEvent threw',
      );
    }
  };
  return {
    ses: sesGiven ? (options.ses as SESv2Client) : new SESv2Client((options.ses ?? {}) as SESv2ClientConfig),
    store: options.store ?? memoryStore(),
    queue: options.queue ?? inProcessQueue(),
    sendRate,
    retry: {
      attempts: atMost(positiveNumber(retry.attempts, 'retry.attempts', 6), MAX_ATTEMPTS, 'retry.attempts'),
      baseDelayMs: positiveNumber(retry.baseDelayMs, 'retry.baseDelayMs', 200, false),
      maxDelayMs: positiveNumber(retry.maxDelayMs, 'retry.maxDelayMs', 20_000, false),
    },
    atLeastOnce: options.atLeastOnce === true,
    callTimeoutMs: positiveNumber(options.callTimeoutMs, 'callTimeoutMs', 30_000),
    concurrency: positiveNumber(options.concurrency, 'concurrency', 8),
    emit,
    logger,
    alert: options.logger === undefined ? (obj, msg) => console.warn(msg, obj) : (obj, msg) => logger.warn(obj, msg),
    clock: options.clock ?? systemClock(),
    owned: { ses: !sesGiven, store: options.store === undefined, queue: options.queue === undefined },
    events: resolveEventsOptions(options.events),
    guard: resolveGuardOptions(options.guard),
    webhooks: resolveWebhookOptions(options.webhooks),
    telemetry: resolveTelemetry(telemetry),
  };
}

function checkTelemetry(value: unknown): TelemetryOptions | false | undefined {
  if (value === undefined || value === false) return value;
  if (typeof value !== 'object' || value === null)
    fail('option "telemetry" must be false or an object { tracerProvider?, meterProvider? }');
  checkKeys(value, ['tracerProvider', 'meterProvider'], 'telemetry');
  const { tracerProvider, meterProvider } = value as TelemetryOptions;
  if (tracerProvider !== undefined)
    checkMethods(tracerProvider, ['getTracer'], 'telemetry.tracerProvider', 'a TracerProvider');
  if (meterProvider !== undefined)
    checkMethods(meterProvider, ['getMeter'], 'telemetry.meterProvider', 'a MeterProvider');
  return value as TelemetryOptions;
}

export function checkSenderKeys(options: object): void {
  checkKeys(options, SENDER_KEYS, 'createWorker');
  const events = (options as { events?: { sns?: unknown } }).events;
  if (typeof events === 'object' && events !== null && events.sns !== undefined) {
    fail(
      'events.sns belongs to bulkEmail() (the router serves POST /events/sns); give createWorker only events.retention',
    );
  }
}

function resolveSuppression(value: unknown): SuppressionConfig {
  if (value === undefined) return { scope: 'principal', maxAddresses: 100_000 };
  if (typeof value !== 'object' || value === null)
    fail("option \"suppression\" must be an object { scope?: 'principal' | 'account', maxAddresses? }");
  checkKeys(value, ['scope', 'maxAddresses'], 'suppression');
  const { scope, maxAddresses } = value as { scope?: unknown; maxAddresses?: unknown };
  const max = positiveNumber(maxAddresses, 'suppression.maxAddresses', 100_000);
  if (max > 10_000_000) fail('option "suppression.maxAddresses" may be at most 10,000,000');
  return {
    scope: oneOf(scope, 'suppression.scope', ['principal', 'account'] as const, 'principal'),
    maxAddresses: max,
  };
}

function booleanOption(value: unknown, name: string): boolean {
  if (value !== undefined && typeof value !== 'boolean') fail(`option "${name}" must be true or false`);
  return value === true;
}

export function resolveOptions<P extends Principal>(options: BulkEmailOptions<P>): RouterConfig<P> {
  if (typeof options !== 'object' || options === null) fail('bulkEmail(options) needs an options object');
  checkKeys(options, ROUTER_KEYS, 'bulkEmail');
  const o = options as unknown as Record<string, unknown>;
  if (typeof options.authenticate !== 'function') {
    fail(
      'option "authenticate" is required: a function (req) => principal | null. For a local demo pass authenticate: allowAnonymous()',
    );
  }
  for (const hook of ['authorize', 'senders', 'resources', 'validate', 'resolveTemplate', 'suppress', 'weight'])
    optionalFunction(o, hook);
  if (options.unsubscribe !== undefined) {
    const u = options.unsubscribe;
    if (typeof u !== 'object' || u === null)
      fail('option "unsubscribe" must be an object { secret, url, onUnsubscribe }');
    checkKeys(u, ['secret', 'url', 'mailto', 'ttl', 'onUnsubscribe'], 'unsubscribe');
    if (typeof u.secret !== 'string' || u.secret.length < 16)
      fail('unsubscribe.secret must be a string of at least 16 characters');
    if (typeof u.url !== 'string' || !/^https?:\/\//.test(u.url))
      fail("unsubscribe.url must be the absolute URL of this router's /unsubscribe route");
    if (!/^https?:\/\/[!-~]+$/.test(u.url))
      fail('unsubscribe.url must be plain ASCII without spaces (it goes into a mail header)');
    if (u.mailto !== undefined && !/^[!-~]+@[!-~]+$/.test(u.mailto))
      fail('unsubscribe.mailto must be a plain ASCII address');
    if (u.ttl !== undefined && !(typeof u.ttl === 'number' && u.ttl > 0))
      fail('unsubscribe.ttl must be a positive number of seconds');
    if (typeof u.onUnsubscribe !== 'function') fail('unsubscribe.onUnsubscribe must be a function');
  }
  const bodyLimit = parseSize(options.bodyLimit ?? '20mb');
  if (bodyLimit === undefined)
    fail("option \"bodyLimit\" must be a size such as '20mb' or '512kb', or a positive byte count");
  const sender = resolveSenderOptions(options);
  return {
    ...sender,
    authenticate: options.authenticate,
    authorize: options.authorize,
    senders: options.senders,
    resources: options.resources,
    validate: options.validate,
    resolveTemplate: options.resolveTemplate,
    suppress: options.suppress,
    weight: options.weight,
    maxEntries: positiveNumber(options.maxEntries, 'maxEntries', 10_000),
    maxRecipientsPerCall: positiveNumber(
      options.maxRecipientsPerCall,
      'maxRecipientsPerCall',
      Number.POSITIVE_INFINITY,
    ),
    bodyLimit,
    maxActiveJobs: positiveNumber(options.maxActiveJobs, 'maxActiveJobs', 100),
    maxQueuedRecipients: positiveNumber(options.maxQueuedRecipients, 'maxQueuedRecipients', 1_000_000),
    maxScheduleAhead: scheduleAhead(options.maxScheduleAhead),
    worker: options.worker !== false,
    quota: oneOf(options.quota, 'quota', ['defer', 'refuse'] as const, 'defer'),
    renderCheck: oneOf(options.renderCheck, 'renderCheck', ['strict', 'permissive', 'off'] as const, 'strict'),
    mergeTemplateData: options.mergeTemplateData !== false,
    unsubscribe: options.unsubscribe,
    suppression: resolveSuppression(options.suppression),
    maxStreamsPerPrincipal: positiveNumber(options.maxStreamsPerPrincipal, 'maxStreamsPerPrincipal', 10),
    dashboard: booleanOption(options.dashboard, 'dashboard'),
  };
}
