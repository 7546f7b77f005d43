// Every public type: the SES request shape, options and hooks, jobs, stores, queues, events.
import type { SESv2Client, SESv2ClientConfig } from '@aws-sdk/client-sesv2';
import type { Request } from 'express';
import type { DeliveryState, MergeOutcome } from './events/delivery-state.js';
import type { GuardBucket, GuardCounts } from './events/reputation-guard.js';
import type { DeliveryDetail, DeliveryStatus, DeliveryUpdate, SesEventType } from './events/ses-event.js';

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

/** The JSON body of SES v2 `SendBulkEmail`, field for field. The router requires `FromEmailAddress` (its schema). */
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

/**
 * Whoever `authenticate` says is calling. Only `id` is read by the package. No index signature, so an app's own
 * `interface User { id: string; plan: Plan }` satisfies it.
 */
export interface Principal {
  id: string;
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
/** A list of names or ARNs, or `'*'` (also `['*']`) for any. */
export type ResourceList = readonly string[] | '*';
/**
 * The SES account resources one principal may name in a request. A field left out allows none of its kind (a
 * request naming one is refused); `'*'` allows any.
 */
export interface ResourceGrants {
  /** `TemplateName` or `TemplateArn` values (compared as given: list both spellings if principals use both). */
  templates?: ResourceList;
  configurationSets?: ResourceList;
  tenants?: ResourceList;
  endpoints?: ResourceList;
}
/** `undefined`/`null` = no restriction. */
export type ResourcesHook<P extends Principal = Principal> = (
  principal: P,
  ctx: HookContext<P>,
) => MaybePromise<ResourceGrants | null | undefined>;
export type SuppressHook<P extends Principal = Principal> = (
  addresses: string[],
  ctx: HookContext<P>,
) => MaybePromise<Iterable<string> | null | undefined>;
/**
 * This principal's share of the send rate relative to the others with work waiting (default 1): weight 2 gets twice
 * the recipients per second of weight 1 while both have work. A positive finite number; `undefined`/`null` = 1;
 * anything else is logged (EBE_WEIGHT_INVALID) and counts as 1; values are clamped to [0.001, 1000].
 */
export type WeightHook<P extends Principal = Principal> = (
  principal: P,
  ctx: HookContext<P>,
) => MaybePromise<number | null | undefined>;

/* ------------------------------------------------------------------ jobs and results */

/**
 * `scheduled` until its send time, `queued` until its first call, then `sending`; `paused` by the app or the
 * reputation guard. Final: `completed` (every entry has a final result), `failed` (a job-fatal error, see
 * `JobRecord.error`), `canceled`.
 */
export type JobStatus = 'scheduled' | 'queued' | 'sending' | 'paused' | 'completed' | 'failed' | 'canceled';

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

/**
 * Why an entry (or a job) did not succeed. `code` is SES's per-entry status for its answers (`MESSAGE_REJECTED`, …)
 * or one of the package's codes (`SES_UNREACHABLE`, `WORKER_STOPPED`, …: see the README); `message` is shown to
 * clients and never carries host names, addresses, ports or stacks.
 */
export interface EntryError {
  code: string;
  message: string;
}

export interface EntryResult {
  index: number;
  status: EntryStatus;
  messageId?: string;
  error?: EntryError;
  attempts: number;
  /** Read only (`getResults`): the entry's addresses, as `CreateJobOptions.recipients` gave them. */
  recipients?: string[];
  /** Read only (`getResults`): what SES events said about the message (`messageId`) so far. */
  delivery?: DeliveryState;
}

/**
 * Counts always add up to `entries`: `sent` is SUCCESS, `pending` is not final yet, `canceled` is CANCELED and
 * `failed` is every other final status. `suppressed` and `unknown` break out two parts of `failed`.
 * `delivered`, `bounced` and `complained` are a separate breakdown of `sent`: entries whose delivery status (from SES
 * events) is DELIVERED, BOUNCED or COMPLAINED now (absent in records stored before delivery feedback; views show 0).
 */
export interface JobCounts {
  sent: number;
  failed: number;
  pending: number;
  canceled: number;
  suppressed: number;
  unknown: number;
  delivered?: number;
  bounced?: number;
  complained?: number;
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
  /** Why the job failed (status `failed`). */
  error?: EntryError;
  /** A scheduled send: nothing is sent before this time (ISO). */
  sendAt?: string;
  /** Who paused the job (status `paused`). */
  pausedReason?: 'USER' | 'REPUTATION';
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
  /** `jobId`: what the claimant said it is creating (a retry answers that job if the claimant died after storing it). */
  | { state: 'in_flight'; jobId?: string }
  | { state: 'mismatch' }
  | { state: 'replay'; response: StoredResponse };

/** A finished response kept for idempotent replay. */
export interface StoredResponse {
  status: number;
  body: unknown;
}

/** Result of claiming entries before an SES call. */
export interface EntryClaim {
  /** Entries moved from PENDING to in flight under the claim's token (or already in flight under it): send these. */
  claimed: number[];
  /** Entries in flight under another token: a call carrying them may have reached SES (its worker stopped). */
  stale: number[];
  /** Why nothing was claimed: the job is paused, canceled, finished (completed or failed) or gone. */
  refused?: 'paused' | 'canceled' | 'finished' | 'gone';
}

export interface RecordOutcome {
  job: JobRecord;
  /** True for exactly one caller: the one whose write made the job final. */
  finished: boolean;
}

/** A place in a principal's job list (newest first): the job's creation time (epoch ms) and id. */
export interface JobListPosition {
  at: number;
  id: string;
}

export interface JobListQuery {
  /** Start after this job (null/undefined: from the newest). */
  after?: JobListPosition | null;
  /** Most jobs in the page. */
  limit: number;
  /** Only jobs in one of these statuses (undefined: all). */
  statuses?: readonly JobStatus[];
  /** With `statuses`: most jobs looked at for one page. Default 1,000. */
  scanLimit?: number;
}

export interface JobListPage {
  jobs: JobRecord[];
  /** Where the next page starts; null when nothing is left. */
  next: JobListPosition | null;
}

/** Per-principal bounds a store enforces atomically as it creates a job (`Infinity` = none). */
export interface PrincipalLimits {
  /** Unfinished jobs one principal may have at once; one more → 429 `RATE_LIMITED`. */
  maxActiveJobs: number;
  /** Recipients in one principal's unfinished jobs (each counted in full until it finishes); more → 429. */
  maxQueuedRecipients: number;
}

export interface CreateJobOptions {
  /** Refuse (BulkEmailError `RATE_LIMITED`) instead of creating when the job's principal would exceed these. */
  limits?: PrincipalLimits;
  /** The request's size in bytes as received (decoded JSON): what the memory store counts against `maxBytes`. */
  bytes?: number;
  /**
   * The addresses of each entry, by index (what it is sent to; a SUPPRESSED entry's suppressed addresses): shown in
   * results, and linked to the entry's SES MessageId so that events suppress and count the right recipients.
   */
  recipients?: readonly (readonly string[])[];
}

/** What `recordResults` does besides recording (the engine passes the `events` and `guard` options). */
export interface RecordResultsOptions {
  /** Link each SUCCESS entry's MessageId to its job, entry, principal and recipients for this long. */
  messageRetentionMs?: number;
  /** Count the recipients of newly linked SUCCESS entries as `sent` in the principal's guard window of this width. */
  guardWindowMs?: number;
}

/**
 * Where jobs, per-entry results and idempotency keys live. Every method must be atomic with respect to the others
 * for one job (the Redis store uses Lua scripts; the memory store is single-threaded).
 */
export interface Store extends FeedbackStore {
  /**
   * Stores a new job; every index in `initial` gets that result, every other entry is PENDING. With
   * `options.limits`, checks the principal's unfinished jobs and queued recipients and counts this job in the same
   * atomic step (throws BulkEmailError `RATE_LIMITED` when over, storing nothing).
   */
  createJob(job: JobRecord, payload: JobPayload, initial: EntryResult[], options?: CreateJobOptions): Promise<void>;
  getJob(id: string): Promise<JobRecord | null>;
  /** Null for an unknown job, and once the job has finished (completed or canceled): its results stay, its payload goes. */
  getPayload(id: string): Promise<JobPayload | null>;
  /** Results with `index > after` (or from 0 when `after` is -1), in index order, at most `limit`. */
  getResults(id: string, after: number, limit: number): Promise<EntryResult[]>;
  /**
   * Atomically moves PENDING entries among `indexes` to in flight, tagged with `token` (claiming again with the same
   * token is harmless). Entries in flight under another token come back as `stale`. A paused, canceled, finished
   * or missing job claims nothing and says why in `refused`. The first claim moves `scheduled`/`queued` to `sending`.
   */
  claimEntries(id: string, indexes: number[], token: string): Promise<EntryClaim>;
  /** Puts entries in flight under `token` back to PENDING (their call never started); returns how many. */
  releaseEntries(id: string, token: string): Promise<number>;
  /**
   * Records outcomes of in-flight or pending entries. A result with status PENDING puts an entry back to wait.
   * Never overwrites a final status. Recomputes counts and the job status. With `options.messageRetentionMs`, links
   * every SUCCESS result's MessageId to the entry in the same atomic step (see `FeedbackStore.recordDelivery`).
   */
  recordResults(id: string, results: EntryResult[], options?: RecordResultsOptions): Promise<RecordOutcome>;
  /**
   * Gives every entry that is PENDING and not in flight the given final status. With `cancel`, the job's status
   * becomes `canceled`. Entries still in flight finish later. Returns null when there is no such job.
   */
  finishPending(
    id: string,
    result: { status: EntryStatus; error?: EntryError; cancel?: boolean },
  ): Promise<RecordOutcome | null>;
  /**
   * A job-fatal error: the job's status becomes `failed` with `error`, and every entry that is PENDING and not in
   * flight ends FAILED with that error (later PENDING results too). Null when there is no such job; a job already
   * final is left as it is.
   */
  failJob(id: string, error: EntryError): Promise<RecordOutcome | null>;
  /**
   * Pauses (`paused`, with `reason`, default USER) or resumes a scheduled, queued or sending job; resuming goes back
   * to `scheduled` while `sendAt` is ahead, else to `sending` once anything was claimed, else `queued`. A job in
   * another state is returned unchanged (the caller decides what that means); null when there is no such job.
   */
  setPaused(id: string, paused: boolean, reason?: 'USER' | 'REPUTATION'): Promise<JobRecord | null>;
  /** Unfinished jobs (scheduled, queued, sending or paused) created by this principal. */
  countActiveJobs(principalId: string): Promise<number>;
  /**
   * One page of the principal's jobs, newest first (by `createdAt`, then id, both descending), starting after
   * `query.after`. With `statuses`, only jobs in one of them, looking at no more than `scanLimit` jobs: a page may
   * then hold fewer than `limit` jobs and still have a `next` position. Finished jobs stay listed while they are kept.
   */
  listJobs(principalId: string, query: JobListQuery): Promise<JobListPage>;
  /**
   * `scope` (optional): whose key it is (the principal id). The memory store bounds the keys it keeps per scope as
   * well as in all, so that one principal's keys never push out another's. `jobId` (optional): the job this claim is
   * creating, kept with the claim and returned to a request that finds it in flight. `ttlMs` bounds how long a claim
   * whose holder died blocks the key (the router claims for a few minutes, then keeps the answer 24 h).
   */
  claimIdempotency(
    key: string,
    fingerprint: string,
    ttlMs: number,
    scope?: string,
    jobId?: string,
  ): Promise<IdempotencyClaim>;
  /**
   * Optional: extends an in-flight claim (same fingerprint, no answer yet) to `ttlMs` from now; the live holder calls
   * it while it works so that only a dead holder's claim expires. Stores without it: a claim lasts its first TTL.
   */
  refreshIdempotency?(key: string, fingerprint: string, ttlMs: number): Promise<void>;
  completeIdempotency(key: string, fingerprint: string, response: StoredResponse, ttlMs: number): Promise<void>;
  releaseIdempotency(key: string): Promise<void>;
  /**
   * The store's durable webhook outbox (the same object on every call), used when the `webhooks` option is set.
   * memoryStore and redisStore have one; a store without it gets an in-memory outbox (lost on restart).
   */
  webhookOutbox?(): WebhookOutbox;
  close(): Promise<void>;
}

/* ------------------------------------------------------------------ queue */

/** Up to 50 entries of one job: the unit the queue hands out as one SES call. */
export interface ChunkTask {
  jobId: string;
  chunk: number;
  entries: IndexedEntry[];
}

/** A job's unsent work, given to the queue once when the job is created. */
export interface QueuedWork {
  jobId: string;
  principalId: string;
  /** Share of the send rate relative to other principals with work (default 1); the latest given wins. */
  weight?: number;
  /** Epoch ms before which none of it is handed out (a scheduled send). */
  notBefore?: number;
  /** In index order, each ≤ 50 entries and ≤ maxRecipientsPerCall recipients. */
  tasks: ChunkTask[];
}

/** One call handed to a consumer. */
export interface TakenCall {
  /** Opaque; identifies the lease (and is a good claim token). */
  lease: string;
  principalId: string;
  task: ChunkTask;
  recipients: number;
  /** Epoch ms at which the call may leave (its pacing slot); never more than the lookahead after the take. */
  startAt: number;
}

/** What the consumer reports when it is done with a call. */
export type CallOutcome =
  /** Every entry has a final result (or the job is over). */
  | { kind: 'done' }
  /** Hand these entries back, due at `notBefore` (a retry, entries SES held, or a call that never started). */
  | { kind: 'again'; entries: IndexedEntry[]; notBefore: number; reason: string };

export type CallConsumer = (call: TakenCall, signal: AbortSignal) => Promise<CallOutcome>;

/** One principal's waiting work, as the queue sees it (`Queue.stats()`). */
export interface QueueStats {
  principalId: string;
  /** Recipients in ready (not paused, not scheduled later) work. */
  waitingRecipients: number;
  jobs: number;
  /** Epoch ms: since when the principal's oldest ready work waits (its oldest ready job's ready time); null if none. */
  oldestWaitingSince: number | null;
  weight: number;
}

/** One principal with work in the queue, as `router.stats()` and `worker.stats()` report it. */
export interface PrincipalStats {
  principalId: string;
  /** Recipients in its ready work (not paused, not scheduled later, not in an SES call right now). */
  waitingRecipients: number;
  /** Its jobs with ready work. */
  jobs: number;
  /** ISO time since which its oldest ready work waits (when that job was queued, resumed or came due); null if none. */
  oldestWaitingSince: string | null;
  /** How long that is, in ms (its lag); 0 when nothing of it is ready. */
  lagMs: number;
  /** Its weight (the `weight` option's latest answer; 1 by default). */
  weight: number;
  /** Its share of the send rate now: its weight ÷ the weights of every principal with ready work (0 if none ready). */
  share: number;
}

/** The queue's state per principal: `router.stats()`, `worker.stats()`. */
export interface SendStats {
  /** ISO time of the reading. */
  at: string;
  /** Recipients per second in force (shared by every principal). */
  sendRate: number;
  /** Principals with jobs in the queue, the longest waiting first. */
  principals: PrincipalStats[];
}

/**
 * Holds the unsent work of every job and decides which call goes next and when: the shared pacing (a call of k
 * recipients moves the next free slot by k / rate), fair share between principals, delayed work, paused jobs.
 */
export interface Queue {
  /** True when other processes may consume it (the memory store cannot serve such a queue). */
  readonly distributed: boolean;
  add(work: QueuedWork): Promise<void>;
  /** Hands out nothing more of this job until resume(); calls in flight finish. */
  pause(jobId: string): Promise<void>;
  /** Makes the job's work ready again (at `notBefore` when given, e.g. a scheduled send not yet due). */
  resume(jobId: string, options?: { notBefore?: number }): Promise<void>;
  /** Forgets the job's unsent work (cancel, job failed or over). */
  remove(jobId: string): Promise<void>;
  /** Starts consuming in this process; the queue runs the take loop (concurrency = calls in flight here). */
  start(consumer: CallConsumer, options: { concurrency: number; logger?: Logger }): Promise<void>;
  /** The shared pacing: recipients per second across every consumer of this queue. */
  setRate(rate: number): void;
  /** SES throttled: slow every consumer down, recovering gradually. */
  penalize(): Promise<void>;
  /** Max24HourSend − SentLast24Hours as just read (null = unknown/unlimited): takes never exceed what is left. */
  setQuota(remaining: number | null): Promise<void>;
  stats(): Promise<QueueStats[]>;
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
  | { type: 'job.failed'; jobId: string; error: EntryError; counts: JobCounts; at: string }
  | { type: 'job.canceled'; jobId: string; counts: JobCounts; at: string }
  /** POST /:id/pause (reason USER); the reputation guard reports its pauses as `principal.paused`. */
  | { type: 'job.paused'; jobId: string; principalId: string; reason: 'USER'; counts: JobCounts; at: string }
  /** POST /:id/resume: back to `scheduled`, `queued` or `sending`. */
  | { type: 'job.resumed'; jobId: string; principalId: string; status: JobStatus; counts: JobCounts; at: string }
  | EntryDeliveryEvent
  | EntryBouncedEvent
  | EntryComplainedEvent
  | PrincipalPausedEvent;

/**
 * An SES event changed what is known about one sent entry (once per distinct SES event; repeats emit nothing).
 * `at` is when the SES event happened.
 */
export interface EntryDeliveryEvent {
  type: 'entry.delivery';
  jobId: string;
  principalId: string;
  index: number;
  messageId: string;
  /** The SES event type (`Delivery`, `Bounce`, `Open`…). */
  eventType: SesEventType;
  /** The entry's delivery status after this event (unchanged by opens, clicks and older events). */
  status?: DeliveryStatus;
  detail?: DeliveryDetail;
  /** The entry's delivery status changed with this event. */
  statusChanged: boolean;
  opened: number;
  clicked: number;
  at: string;
}

/** An entry became BOUNCED (once per entry). `at` is when it bounced. */
export interface EntryBouncedEvent {
  type: 'entry.bounced';
  jobId: string;
  principalId: string;
  index: number;
  messageId: string;
  /** The bounced addresses the event named (of this entry's). */
  recipients: string[];
  bounceType?: string;
  bounceSubType?: string;
  at: string;
}

/** An entry became COMPLAINED (once per entry). `at` is when the complaint was made. */
export interface EntryComplainedEvent {
  type: 'entry.complained';
  jobId: string;
  principalId: string;
  index: number;
  messageId: string;
  recipients: string[];
  complaintFeedbackType?: string;
  at: string;
}

/**
 * The reputation guard paused a principal: its unfinished jobs (`jobIds`) are paused and its new jobs refused (409
 * `SENDING_PAUSED`) until `router.resumePrincipal(principalId)`. `jobId` / `index`: the entry whose event crossed
 * the line. Emitted once per pause, by the process that paused it.
 */
export interface PrincipalPausedEvent {
  type: 'principal.paused';
  principalId: string;
  reason: PrincipalPause['reason'];
  bounceRate: number;
  complaintRate: number;
  messages: number;
  jobIds: string[];
  jobId: string;
  index: number;
  at: string;
}

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

/* ------------------------------------------------------------------ delivery feedback (SES events) */

/** `events.sns`: the SNS HTTPS subscription that POSTs to `/events/sns`. */
export interface SnsEventsOptions {
  /**
   * The standard SNS topics your configuration sets publish to. A message from any other topic is refused (403)
   * before its signature is even checked, and only these topics' subscriptions are ever confirmed.
   */
  topicArns: string[];
  /** Replaces the HTTPS download of SNS signing certificates (tests, your own HTTP client or cache): the PEM text. */
  fetchCertificate?(url: string): Promise<string>;
  /** Replaces the HTTPS GET of a listed topic's `SubscribeURL`; reject when the subscription was not confirmed. */
  confirmSubscription?(subscribeUrl: string): Promise<void>;
}

export interface EventsOptions {
  sns?: SnsEventsOptions;
  /** How long an SES MessageId stays linked to its job and entry, so that late events still land. Default `'14d'`. */
  retention?: string;
}

/** The reputation guard: pause a principal whose rolling bounce or complaint rate reaches SES's review line. */
export interface GuardOptions {
  /** Default 0.05 (5 %). */
  bounceRate?: number;
  /** Default 0.001 (0.1 %). */
  complaintRate?: number;
  /** No verdict before this many messages are known in the window. Default 500. */
  minMessages?: number;
  /** Default `'24h'`. */
  window?: string;
}

/** `suppression`: whose list an address lands on, and how long a list may grow. */
export interface SuppressionOptions {
  /** `'principal'` (default): one list per principal; `'account'`: one list every principal shares (and manages). */
  scope?: 'principal' | 'account';
  /** Addresses kept per list; past it the oldest entry is dropped for the new one. Default 100,000. */
  maxAddresses?: number;
}

/** Options shared by `bulkEmail()` and `createWorker()`: the sending side. */
export interface SenderOptions {
  /**
   * SES delivery events. A worker links each sent message to its entry for `events.retention` (give every process
   * the same value); `events.sns` (the SNS route) belongs to `bulkEmail()` only.
   */
  events?: EventsOptions;
  /** The reputation guard (default on); `false` turns it off. A worker counts sends in `guard.window`. */
  guard?: GuardOptions | false;
  /**
   * Signed webhooks out (Standard Webhooks v1) to each principal's endpoint: job.completed, job.failed,
   * job.canceled, job.paused, entry.bounced, entry.complained. Events are queued in the store's durable outbox by
   * whichever process sees them; processes that send (a router with `worker` on, or createWorker) deliver them.
   * Give every process the same option.
   */
  webhooks?: WebhookOptions;
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
  /**
   * OpenTelemetry spans and metrics (needs the optional peer `@opentelemetry/api`). Default: the API's global
   * providers when the package is installed, nothing when it is not; `false` turns it off.
   */
  telemetry?: TelemetryOptions | false;
}

/**
 * Where spans and metrics go. Typed structurally, so that the package's types need no OpenTelemetry install: pass a
 * `TracerProvider` / `MeterProvider` from `@opentelemetry/api` or an SDK. A provider left out is the API's global one.
 */
export interface TelemetryOptions {
  tracerProvider?: { getTracer(name: string, version?: string): unknown };
  meterProvider?: { getMeter(name: string, version?: string): unknown };
}

export interface BulkEmailOptions<P extends Principal = Principal> extends SenderOptions {
  authenticate: AuthenticateHook<P>;
  authorize?: AuthorizeHook<P>;
  senders?: SendersHook<P>;
  /** SES account resources (templates, configuration sets, tenants, endpoints) this principal may name. */
  resources?: ResourcesHook<P>;
  validate?: ValidateHook<P>;
  resolveTemplate?: ResolveTemplateHook<P>;
  suppress?: SuppressHook<P>;
  /**
   * Fair share between principals: while several principals have work waiting, the send rate is shared between them
   * in proportion to their weights (default: equal shares); a principal alone gets the whole rate. Asked once per
   * accepted job (the latest answer for a principal wins, in every worker).
   */
  weight?: WeightHook<P>;
  maxEntries?: number;
  /**
   * Most recipients in one SES call (default: no cap beyond SES's 50 entries). Calls are full by default: SES meters
   * its rate as a budget one call may overdraw, so a 50-recipient call at 14/s is fine; set this for smoother traffic.
   */
  maxRecipientsPerCall?: number;
  bodyLimit?: string | number;
  /** Unfinished jobs one principal may have at once. Default 100. */
  maxActiveJobs?: number;
  /** Recipients in one principal's unfinished jobs. Default 1,000,000. */
  maxQueuedRecipients?: number;
  /**
   * How far ahead `POST /?send_at=` may schedule a job: milliseconds, or a duration such as '30d' or '72h'.
   * Default 30 days. A scheduled job counts against `maxActiveJobs` and `maxQueuedRecipients` until it finishes.
   */
  maxScheduleAhead?: number | string;
  /** Whether this router's process also sends. Default true. */
  worker?: boolean;
  quota?: 'defer' | 'refuse';
  renderCheck?: 'strict' | 'permissive' | 'off';
  /** Merge default `TemplateData` with each entry's data per key (as the emulator does). Default true. */
  mergeTemplateData?: boolean;
  unsubscribe?: UnsubscribeOptions;
  /** The automatic suppression list (fed by hard bounces, complaints and unsubscribes). */
  suppression?: SuppressionOptions;
  /**
   * Event streams (`GET /:id/events`) one principal may hold open at once in this process; one more → 429
   * RATE_LIMITED. Default 10.
   */
  maxStreamsPerPrincipal?: number;
  /**
   * Serve `GET /dashboard`: one self-contained page (no external asset, CSP `default-src 'self'`) behind
   * `authenticate`, showing the caller's jobs live. Default false.
   */
  dashboard?: boolean;
}

/** Where the send rate in force comes from: the `sendRate` option, GetAccount, or the fallback of 1/s (GetAccount failed). */
export type SendRateSource = 'option' | 'account' | 'fallback';
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

/* ------------------------------------------------------------------ delivery feedback in the store */

/** Why an address is on a suppression list: an SES event (hard bounce, complaint), an unsubscribe, or PUT /suppressions. */
export type SuppressionReason = 'BOUNCE' | 'COMPLAINT' | 'UNSUBSCRIBE' | 'MANUAL';

/** One address on a suppression list. */
export interface SuppressedAddress {
  /** Lower-cased bare address (`addressOf`). */
  address: string;
  reason: SuppressionReason;
  /** When it was suppressed (the event's time), ISO 8601 UTC. */
  at: string;
  /** The SES message whose event suppressed it. */
  messageId?: string;
}

/** What a store keeps about one sent message (a SUCCESS entry's SES MessageId) for `events.retention`. */
export interface SentMessage {
  messageId: string;
  jobId: string;
  index: number;
  principalId: string;
  /** The entry's addresses as stored with the job (empty when the job was stored without them). */
  recipients: string[];
}

/** One SES event folded into a sent message's delivery state. */
export interface DeliveryRecord {
  message: SentMessage;
  /** The state before this event (undefined: none yet). */
  previous: DeliveryState | undefined;
  /** The merge as applied: the new state, whether the event was a repeat, whether the shown status changed. */
  outcome: MergeOutcome;
}

/** A principal the reputation guard paused (shared by every process through the store). */
export interface PrincipalPause {
  reason: 'BOUNCE_RATE' | 'COMPLAINT_RATE';
  /** When it was paused, ISO 8601 UTC. */
  at: string;
  bounceRate: number;
  complaintRate: number;
  messages: number;
}

/**
 * The store's part of delivery feedback: sent messages (linked by `recordResults`), their delivery state, suppression
 * lists, the reputation guard's counts and pauses, and the SNS MessageIds seen. Each method is atomic on its own.
 * `list` names a suppression list (the router derives it from the principal, or one shared name).
 */
export interface FeedbackStore {
  /**
   * Folds a normalised SES event into its message's delivery state with `mergeDelivery` (atomically: concurrent
   * events for one message are all applied) and keeps the job's `delivered` / `bounced` / `complained` counts in
   * step. Null when the MessageId is not linked (expired, never sent by this router, or another app's).
   */
  recordDelivery(update: DeliveryUpdate): Promise<DeliveryRecord | null>;
  /** The listed entries among `addresses` (lower-cased bare addresses). */
  findSuppressions(list: string, addresses: readonly string[]): Promise<SuppressedAddress[]>;
  /**
   * Adds addresses not yet listed (a listed address keeps its first reason); past `maxAddresses` the oldest entries
   * are dropped. Returns how many were new.
   */
  addSuppressions(list: string, entries: readonly SuppressedAddress[], maxAddresses: number): Promise<number>;
  /** True when the address was listed. */
  removeSuppression(list: string, address: string): Promise<boolean>;
  /** Entries in address order after `after` (null: from the start), at most `limit`. */
  listSuppressions(list: string, after: string | null, limit: number): Promise<SuppressedAddress[]>;
  /** Adds `counts` at time `at` (epoch ms) to the principal's guard window; returns its buckets (see reputation-guard). */
  addGuardCounts(
    principalId: string,
    at: number,
    counts: Partial<GuardCounts>,
    windowMs: number,
  ): Promise<GuardBucket[]>;
  /** Forgets the principal's guard counts (a resumed principal starts afresh). */
  resetGuard(principalId: string, windowMs: number): Promise<void>;
  getPrincipalPause(principalId: string): Promise<PrincipalPause | null>;
  /** Sets (only if not set) or clears the pause; true when this call changed it, so exactly one caller reports it. */
  setPrincipalPause(principalId: string, pause: PrincipalPause | null): Promise<boolean>;
  /** Ids of the principal's unfinished jobs (scheduled, queued, sending, paused). */
  activeJobIds(principalId: string): Promise<string[]>;
  /** Marks an id (an SNS MessageId) as seen for `ttlMs`; true when it already was. Atomic across processes. */
  markSeen(id: string, ttlMs: number): Promise<boolean>;
  /** Unmarks an id (its processing failed, so a retry must be processed). */
  forgetSeen(id: string): Promise<void>;
}
