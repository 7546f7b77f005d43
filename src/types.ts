// Every public type: the SES request shape, options and hooks, jobs, stores, queues, events.
import type { SESv2Client, SESv2ClientConfig } from '@aws-sdk/client-sesv2';
import type { Request } from 'express';

/* ------------------------------------------------------------------ SES request (PascalCase, as on the wire) */

export interface MessageTag {
  Name: string;
  Value: string;
}

export interface MessageHeader {
  Name: string;
  Value: string;
}

/** An attachment as it arrives in JSON: `RawContent` is base64, decoded to bytes before the SDK sees it. */
export interface Attachment {
  RawContent: string;
  FileName: string;
  ContentDisposition?: 'ATTACHMENT' | 'INLINE';
  ContentDescription?: string;
  ContentId?: string;
  ContentTransferEncoding?: 'BASE64' | 'QUOTED_PRINTABLE' | 'SEVEN_BIT';
  ContentType?: string;
}

export interface EmailTemplateContent {
  Subject?: string;
  Text?: string;
  Html?: string;
}

export interface Template {
  TemplateName?: string;
  TemplateArn?: string;
  TemplateContent?: EmailTemplateContent;
  TemplateData?: string;
  Headers?: MessageHeader[];
  Attachments?: Attachment[];
}

export interface Destination {
  ToAddresses?: string[];
  CcAddresses?: string[];
  BccAddresses?: string[];
}

export interface BulkEmailEntry {
  Destination: Destination;
  ReplacementTags?: MessageTag[];
  ReplacementEmailContent?: { ReplacementTemplate?: { ReplacementTemplateData?: string } };
  ReplacementHeaders?: MessageHeader[];
}

/** The JSON body of SES v2 `SendBulkEmail`, field for field. */
export interface SendBulkEmailRequest {
  FromEmailAddress?: string;
  FromEmailAddressIdentityArn?: string;
  ReplyToAddresses?: string[];
  FeedbackForwardingEmailAddress?: string;
  FeedbackForwardingEmailAddressIdentityArn?: string;
  DefaultEmailTags?: MessageTag[];
  DefaultContent: { Template?: Template };
  BulkEmailEntries: BulkEmailEntry[];
  ConfigurationSetName?: string;
  EndpointId?: string;
  TenantName?: string;
  ConfigurationOverrides?: {
    Tracking?: { OpenTrackingEnabled?: 'ENABLED' | 'DISABLED'; ClickTrackingEnabled?: 'ENABLED' | 'DISABLED' };
  };
}

/** What a job stores besides its entries: the request with `BulkEmailEntries` removed and the template resolved. */
export type JobContent = Omit<SendBulkEmailRequest, 'BulkEmailEntries'>;

/* ------------------------------------------------------------------ principals and hooks */

/** Whoever `authenticate` says is calling. Only `id` is read by the package. */
export interface Principal {
  id: string;
  [key: string]: unknown;
}

/** The one context object every hook receives. New fields may be added; none will be removed. */
export interface HookContext<P extends Principal = Principal> {
  principal: P;
  request: SendBulkEmailRequest;
  req: Request;
}

type MaybePromise<T> = T | Promise<T>;

export type AuthenticateHook<P extends Principal = Principal> = (req: Request) => MaybePromise<P | null | undefined>;
/** `false` refuses (403); returning nothing allows, so a hook that only throws `forbidden()` needs no return. */
export type AuthorizeHook<P extends Principal = Principal> = (
  ctx: HookContext<P>,
  // biome-ignore lint/suspicious/noConfusingVoidType: returning nothing means allow.
) => MaybePromise<boolean | undefined | void>;
/** Addresses (`a@b.com`), domains (`@b.com`) and identity ARNs this principal may send from; `undefined`/`null` = any. */
export type SendersHook<P extends Principal = Principal> = (
  principal: P,
  ctx: HookContext<P>,
) => MaybePromise<readonly string[] | null | undefined>;
export type ValidateHook<P extends Principal = Principal> = (
  request: SendBulkEmailRequest,
  ctx: HookContext<P>,
) => MaybePromise<void>;
export type ResolveTemplateHook<P extends Principal = Principal> = (
  template: Template,
  ctx: HookContext<P>,
) => MaybePromise<Template | null | undefined>;
export type SuppressHook<P extends Principal = Principal> = (
  addresses: string[],
  ctx: HookContext<P>,
) => MaybePromise<Iterable<string> | null | undefined>;

/* ------------------------------------------------------------------ jobs and results */

export type JobStatus = 'queued' | 'sending' | 'completed' | 'canceled';

/** SES's `BulkEmailStatus` values. */
export type SesEntryStatus =
  | 'SUCCESS'
  | 'MESSAGE_REJECTED'
  | 'MAIL_FROM_DOMAIN_NOT_VERIFIED'
  | 'CONFIGURATION_SET_NOT_FOUND'
  | 'TEMPLATE_NOT_FOUND'
  | 'ACCOUNT_SUSPENDED'
  | 'ACCOUNT_THROTTLED'
  | 'ACCOUNT_DAILY_QUOTA_EXCEEDED'
  | 'INVALID_SENDING_POOL_NAME'
  | 'ACCOUNT_SENDING_PAUSED'
  | 'CONFIGURATION_SET_SENDING_PAUSED'
  | 'INVALID_PARAMETER'
  | 'TRANSIENT_FAILURE'
  | 'FAILED';

/** An entry's status as reported: SES's own, or one of the package's. */
export type EntryStatus = SesEntryStatus | 'PENDING' | 'CANCELED' | 'SUPPRESSED' | 'UNKNOWN';

export interface EntryResult {
  index: number;
  status: EntryStatus;
  messageId?: string;
  error?: string;
  attempts: number;
}

/**
 * Counts always add up to `entries`: `sent` is SUCCESS, `pending` is not final yet, `canceled` is CANCELED and
 * `failed` is every other final status. `suppressed` and `unknown` break out two parts of `failed`.
 */
export interface JobCounts {
  sent: number;
  failed: number;
  pending: number;
  canceled: number;
  suppressed: number;
  unknown: number;
}

export interface JobRecord {
  id: string;
  principalId: string;
  status: JobStatus;
  createdAt: string;
  updatedAt: string;
  completedAt?: string;
  entries: number;
  recipients: number;
  counts: JobCounts;
  estimatedCompletionAt?: string;
}

/** One entry and its place in the original request. */
export interface IndexedEntry {
  index: number;
  entry: BulkEmailEntry;
  /** SES calls this entry already went out in (set when a task is handed back to the queue). Default 0. */
  attempts?: number;
}

/** What the dispatcher needs to send one job: everything but the entries, which travel in chunk tasks. */
export interface JobPayload {
  content: JobContent;
}

/* ------------------------------------------------------------------ store */

export type IdempotencyClaim =
  | { state: 'new' }
  | { state: 'in_flight' }
  | { state: 'mismatch' }
  | { state: 'replay'; response: StoredResponse };

/** A finished response kept for idempotent replay. */
export interface StoredResponse {
  status: number;
  body: unknown;
}

/** Result of claiming entries before an SES call. */
export interface EntryClaim {
  /** Entries moved from PENDING to in flight: send these. */
  claimed: number[];
  /** Entries already in flight when claimed: a worker died while sending them. */
  stale: number[];
}

export interface RecordOutcome {
  job: JobRecord;
  /** True for exactly one caller: the one whose write made the job final. */
  finished: boolean;
}

/**
 * Where jobs, per-entry results and idempotency keys live. Every method must be atomic with respect to the others
 * for one job (the Redis store uses Lua scripts; the memory store is single-threaded).
 */
export interface Store {
  /** Stores a new job; every index in `initial` gets that result, every other entry is PENDING. */
  createJob(job: JobRecord, payload: JobPayload, initial: EntryResult[]): Promise<void>;
  getJob(id: string): Promise<JobRecord | null>;
  getPayload(id: string): Promise<JobPayload | null>;
  /** Results with `index > after` (or from 0 when `after` is -1), in index order, at most `limit`. */
  getResults(id: string, after: number, limit: number): Promise<EntryResult[]>;
  /** Atomically moves PENDING entries among `indexes` to in flight (refuses all once the job is canceled). */
  claimEntries(id: string, indexes: number[]): Promise<EntryClaim>;
  /**
   * Records outcomes of in-flight or pending entries. A result with status PENDING puts an entry back to wait.
   * Never overwrites a final status. Recomputes counts and the job status.
   */
  recordResults(id: string, results: EntryResult[]): Promise<RecordOutcome>;
  /**
   * Gives every entry that is PENDING and not in flight the given final status (cancel, or a job-fatal SES status).
   * With `cancel`, the job's status becomes `canceled`. Returns null when there is no such job.
   */
  finishPending(
    id: string,
    result: { status: EntryStatus; error?: string; cancel?: boolean },
  ): Promise<RecordOutcome | null>;
  /** Unfinished jobs (queued or sending) created by this principal. */
  countActiveJobs(principalId: string): Promise<number>;
  claimIdempotency(key: string, fingerprint: string, ttlMs: number): Promise<IdempotencyClaim>;
  completeIdempotency(key: string, fingerprint: string, response: StoredResponse, ttlMs: number): Promise<void>;
  releaseIdempotency(key: string): Promise<void>;
  close(): Promise<void>;
}

/* ------------------------------------------------------------------ queue and rate limiting */

/** A unit of queued work: up to 50 entries of one job. */
export interface ChunkTask {
  jobId: string;
  chunk: number;
  entries: IndexedEntry[];
}

export type ChunkProcessor = (task: ChunkTask, signal: AbortSignal) => Promise<void>;

export interface Queue {
  /** True when tasks may be processed by another process (the memory store cannot serve such a queue). */
  readonly distributed: boolean;
  enqueue(tasks: ChunkTask[], options?: { delayMs?: number }): Promise<void>;
  /** Starts consuming. `close()` stops it: the processor's signal aborts, in-flight calls finish. */
  start(processor: ChunkProcessor, options: { concurrency: number; logger?: Logger }): Promise<void>;
  /** A limiter shared by every consumer of this queue; the in-process queue returns a local one. */
  createRateLimiter?(options: RateLimiterOptions): RateLimiter;
  close(): Promise<void>;
}

export interface RateLimiterOptions {
  /** Recipients per second. */
  rate: number;
  clock?: Clock;
}

export interface RateLimiter {
  /** Reserves `recipients` tokens; resolves with how many ms to wait before sending. */
  reserve(recipients: number): Promise<number>;
  /** The largest call (in recipients) that keeps every 1-second window within 1.1 × rate. */
  maxBurst(): number;
  /** Called when SES throttled: slows every user of this limiter down, recovering gradually. */
  penalize(): Promise<void>;
  setRate(rate: number): void;
  readonly rate: number;
  close(): Promise<void>;
}

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/* ------------------------------------------------------------------ events and logging */

export type BulkEmailEvent =
  | { type: 'job.created'; jobId: string; principalId: string; entries: number; recipients: number; at: string }
  | {
      type: 'chunk.sent';
      jobId: string;
      chunk: number;
      attempt: number;
      entries: number;
      recipients: number;
      succeeded: number;
      failed: number;
      retrying: number;
      awsRequestId?: string;
      at: string;
    }
  | {
      type: 'chunk.retry';
      jobId: string;
      chunk: number;
      attempt: number;
      entries: number;
      delayMs: number;
      reason: string;
      at: string;
    }
  | { type: 'job.completed'; jobId: string; status: JobStatus; counts: JobCounts; at: string }
  | { type: 'job.canceled'; jobId: string; counts: JobCounts; at: string };

/** The subset of pino's API the package uses. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/* ------------------------------------------------------------------ options */

export interface RetryOptions {
  /** Total attempts per entry, first included. Default 6. */
  attempts?: number;
  /** Backoff base in ms. Default 200. */
  baseDelayMs?: number;
  /** Backoff cap in ms. Default 20,000. */
  maxDelayMs?: number;
}

export interface UnsubscribeOptions {
  secret: string;
  url: string;
  mailto?: string;
  /** Token lifetime in seconds. Default 60 days. */
  ttl?: number;
  onUnsubscribe: (event: { address: string; job_id: string; principal_id: string }) => void | Promise<void>;
}

/** Options shared by `bulkEmail()` and `createWorker()`: the sending side. */
export interface SenderOptions {
  ses?: SESv2Client | SESv2ClientConfig;
  store?: Store;
  queue?: Queue;
  sendRate?: number | 'account';
  retry?: RetryOptions;
  /** Resend calls whose outcome is unknown (at-least-once) instead of marking them UNKNOWN. Default false. */
  atLeastOnce?: boolean;
  /** Abort an SES call that has not answered after this many ms; its entries end UNKNOWN. Default 30,000. */
  callTimeoutMs?: number;
  /** SES calls in flight at once in this process. Default 8. */
  concurrency?: number;
  onEvent?: (event: BulkEmailEvent) => void;
  logger?: Logger;
  clock?: Clock;
}

export interface BulkEmailOptions<P extends Principal = Principal> extends SenderOptions {
  authenticate: AuthenticateHook<P>;
  authorize?: AuthorizeHook<P>;
  senders?: SendersHook<P>;
  validate?: ValidateHook<P>;
  resolveTemplate?: ResolveTemplateHook<P>;
  suppress?: SuppressHook<P>;
  maxEntries?: number;
  bodyLimit?: string | number;
  maxActiveJobs?: number;
  /** Whether this router's process also sends. Default true. */
  worker?: boolean;
  quota?: 'defer' | 'refuse';
  renderCheck?: 'strict' | 'permissive' | 'off';
  /** Merge default `TemplateData` with each entry's data per key (as the emulator does). Default true. */
  mergeTemplateData?: boolean;
  unsubscribe?: UnsubscribeOptions;
}

/* ------------------------------------------------------------------ webhooks out (Standard Webhooks v1) */

export type WebhookEventType =
  | 'job.completed'
  | 'job.failed'
  | 'job.paused'
  | 'job.canceled'
  | 'entry.bounced'
  | 'entry.complained';

/** Where one principal's webhooks go and how they are signed. */
export interface WebhookEndpoint {
  /** `http:` or `https:`; private, loopback and link-local targets are refused unless `allowPrivate`. */
  url: string;
  /**
   * The signing secret in the Standard Webhooks format, `whsec_` + base64 of 24–64 random bytes, or those bytes
   * raw. A list signs every message with each secret (several `v1,` signatures), for rotating secrets.
   */
  secret: string | Uint8Array | readonly (string | Uint8Array)[];
}

export interface WebhookOptions {
  /**
   * The principal's endpoint, or null for none. Called when an event happens and again before each delivery
   * attempt (so a new URL or secret applies to retries). Webhooks fire in whichever process finishes the work, where
   * no request exists: the principal given is `{ id }`.
   */
  endpoint: (principal: { id: string }) => MaybePromise<WebhookEndpoint | null | undefined>;
  /** Event types to send. Default: all. */
  events?: readonly WebhookEventType[];
  /**
   * Delays in ms between attempts, used as given (no jitter); after the last one the message is dropped.
   * Default: jittered exponential backoff for up to 3 days.
   */
  retryDelaysMs?: readonly number[];
  /** Allow private, loopback, link-local and other non-public targets. Default false. */
  allowPrivate?: boolean;
}

/** One webhook waiting in the outbox. Its `body` and `id` never change, so every retry is the same message. */
export interface WebhookMessage {
  /** The `webhook-id` header: the same on every attempt, so receivers can drop duplicates. */
  id: string;
  principalId: string;
  /** The endpoint URL when the event happened (what `disable()` matches). */
  url: string;
  type: WebhookEventType;
  /** The exact JSON text sent and signed: `{ type, timestamp, data }`. */
  body: string;
  /** Epoch ms when the event happened. */
  createdAt: number;
  /** Attempts made so far. */
  attempts: number;
  /** Epoch ms at which the next attempt is due. */
  nextAt: number;
}

export interface LeasedWebhookMessage extends WebhookMessage {
  /** Proof of the lease: `remove` and `reschedule` only act while it is the message's current lease. */
  lease: string;
}

/**
 * Durable list of webhooks to deliver. Each method is atomic on its own (a Lua script in Redis), so any number of
 * processes may deliver from one outbox: a message is leased to one deliverer at a time, and a lease that runs out
 * (its deliverer died) makes the message due again — delivery is at least once.
 */
export interface WebhookOutbox {
  /** Stores the message, unless its `url` is disabled, one with the same id is there, or the outbox is full. */
  add(message: WebhookMessage): Promise<'added' | 'duplicate' | 'disabled' | 'full'>;
  /** Leases up to `limit` messages whose `nextAt` ≤ `now` and that are not leased, earliest due first, for `leaseMs`. */
  due(now: number, limit: number, leaseMs: number): Promise<LeasedWebhookMessage[]>;
  /** The message is done with (delivered, given up, or no endpoint any more): forget it. */
  remove(id: string, lease: string): Promise<void>;
  /** An attempt failed: count it and make the message due again at `at` (epoch ms). */
  reschedule(id: string, lease: string, at: number): Promise<void>;
  /** The endpoint answered 410 Gone: drop its waiting messages and refuse new ones until `enable(url)`. */
  disable(url: string): Promise<void>;
  enable(url: string): Promise<void>;
  close(): Promise<void>;
}
