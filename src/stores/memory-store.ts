// memoryStore(): the embedded Store — jobs, per-entry results (typed arrays) and idempotency keys in this process.
import { BulkEmailError } from '../errors.js';
import { entryError } from '../sending/entry-errors.js';
import type {
  Clock,
  CreateJobOptions,
  EntryClaim,
  EntryError,
  EntryResult,
  EntryStatus,
  IdempotencyClaim,
  JobPayload,
  JobRecord,
  RecordOutcome,
  RecordResultsOptions,
  Store,
  StoredResponse,
  WebhookOutbox,
} from '../types.js';
import { memoryOutbox } from '../webhooks/memory-outbox.js';
import {
  addCount,
  CANCELED,
  clampAttempts,
  emptyCounts,
  FAILED,
  IN_FLIGHT,
  isFinalStatus,
  PENDING,
  STATUS_NAMES,
  statusCode,
} from './entry-codes.js';
import { keyOfJob, listKey, listScan, pickPage } from './job-list.js';
import { type MemoryFeedback, memoryFeedback } from './memory-feedback.js';
import { type PackedStrings, packedStrings } from './packed-strings.js';
import { LIMIT_RETRY_AFTER_SECONDS, type PrincipalUsage, principalLimitError } from './principal-limits.js';

export interface MemoryStoreOptions {
  /** Time source for `updatedAt`/`completedAt`, retention and idempotency TTLs. Default `Date.now`. */
  clock?: Pick<Clock, 'now'>;
  /**
   * Most jobs kept at once. When full, the oldest finished jobs are dropped early; when every stored job is still
   * unfinished, `createJob` fails with 503 `SERVICE_UNAVAILABLE` (`Retry-After` set). Default 10,000.
   */
  maxJobs?: number;
  /**
   * Most bytes kept at once: every unfinished job's request (its size as received, attachments included) plus
   * ~72 bytes per entry for results. Finished jobs are dropped early (oldest first) to make room; when unfinished
   * work alone fills it, `createJob` fails with 503 `SERVICE_UNAVAILABLE`. The heap holds 1.2 to 2.4 times these
   * bytes (parsed objects, the request text parsed strings point into, attachments decoded for sending; measured by
   * test/load/memory-flood.test.ts). Default 128 MiB.
   */
  maxBytes?: number;
  /**
   * Most of `maxBytes` one principal's unfinished jobs may hold; over it, that principal gets 429 `RATE_LIMITED`
   * while others are still served (a single job larger than this gets 413). Default a quarter of `maxBytes`.
   */
  maxBytesPerPrincipal?: number;
  /** Most idempotency records kept (unexpired); when full, the oldest answered ones go first. Default 100,000. */
  maxIdempotencyKeys?: number;
  /** Most idempotency records of one principal, so one cannot push out another's. Default 10,000. */
  maxIdempotencyKeysPerPrincipal?: number;
  /** How long a finished (completed or canceled) job stays readable after `completedAt`. Default 24 h. */
  retentionMs?: number;
  /**
   * Sent messages (SES MessageIds linked to their entries for delivery events) kept at most, each for the
   * `events.retention` the engine gives; the oldest go first. About 250 bytes each. Default 100,000.
   */
  maxMessages?: number;
}

interface StoredJob {
  record: JobRecord;
  /** Dropped (undefined) once the job has finished: only results are kept after that. */
  payload?: JobPayload;
  /** What the job counts against `maxBytes`: payload bytes while unfinished, plus its results. */
  bytes: number;
  /** Entry status codes (see entry-codes.ts). */
  codes: Uint8Array;
  /** Attempts per entry (clampAttempts: at most MAX_ATTEMPTS = 255, one byte); created with the first non-zero count (a waiting job has none). */
  attempts?: Uint8Array;
  /** Created with the first message id: a job still waiting holds none. */
  messageIds?: PackedStrings;
  /** Sparse: only entries that have an error; created with the first one. */
  errors?: Map<number, EntryError>;
  /** Each entry's addresses as a JSON array (`CreateJobOptions.recipients`), and the bytes they take. */
  recipients?: PackedStrings;
  recipientBytes: number;
  /** Entries in flight → the token of the claim that took them. */
  flight: Map<number, string>;
  /** Some entry was claimed once: resuming goes back to `sending`. */
  started: boolean;
}

interface IdempotencyRecord {
  fingerprint: string;
  response?: StoredResponse;
  expiresAt: number;
  scope: string;
  jobId?: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const IDEMPOTENCY_SWEEP_MS = 60_000;
/** What a finished entry keeps: status and attempts, a packed SES message id (~60 bytes) and its offsets. */
const RESULT_BYTES_PER_ENTRY = 72;
const FULL_RETRY_AFTER_SECONDS = 5;

/** A rough size of a value as JSON (strings by length): for a job whose request size was not given. */
function approximateBytes(value: unknown, depth = 0): number {
  if (typeof value === 'string') return value.length + 2;
  if (typeof value !== 'object' || value === null || depth > 32) return 8;
  let n = 2;
  for (const [key, item] of Object.entries(value)) n += key.length + 4 + approximateBytes(item, depth + 1);
  return n;
}

/**
 * A Store for one process, bounded: at most `maxJobs` jobs and `maxBytes` bytes (503 past them, `maxBytesPerPrincipal`
 * → 429 for one principal), and capped idempotency records. Memory per entry: 2 bytes (status, attempts) plus the
 * message id packed as UTF-8 bytes (~65 bytes for an SES id) and errors only where there is one. A finished job drops
 * its payload at once and its results `retentionMs` later (earlier when room is needed); expired idempotency keys
 * are swept.
 */
export function memoryStore(options: MemoryStoreOptions = {}): Store {
  const clock = options.clock ?? { now: () => Date.now() };
  const maxJobs = options.maxJobs ?? 10_000;
  const maxBytes = options.maxBytes ?? 128 * 1024 ** 2;
  const maxBytesPerPrincipal = options.maxBytesPerPrincipal ?? Math.floor(maxBytes / 4);
  const maxKeys = options.maxIdempotencyKeys ?? 100_000;
  const maxKeysPerScope = options.maxIdempotencyKeysPerPrincipal ?? 10_000;
  const retentionMs = options.retentionMs ?? DAY_MS;
  for (const [name, value] of Object.entries({
    maxJobs,
    maxBytes,
    maxBytesPerPrincipal,
    maxIdempotencyKeys: maxKeys,
    maxIdempotencyKeysPerPrincipal: maxKeysPerScope,
  })) {
    if (!(value >= 1)) throw new TypeError(`memoryStore: ${name} must be at least 1, got ${String(value)}`);
  }
  if (!(retentionMs >= 0)) throw new TypeError('memoryStore: retentionMs must be >= 0');

  const jobs = new Map<string, StoredJob>();
  /** Finished job id → when it expires, in the order the jobs finished. */
  const finished = new Map<string, number>();
  /** Bytes every kept job counts (see `StoredJob.bytes`). */
  let storedBytes = 0;
  /** Per principal: unfinished jobs, their recipients and their bytes. */
  const usageByPrincipal = new Map<string, PrincipalUsage & { bytes: number }>();
  const idempotency = new Map<string, IdempotencyRecord>();
  /** Per scope (principal): its idempotency keys, oldest first. */
  const keysByScope = new Map<string, Set<string>>();
  /** Per principal: the list keys (job-list.ts) of its kept jobs, ascending. */
  const listByPrincipal = new Map<string, string[]>();
  let nextIdempotencySweep = 0;
  const feedback: MemoryFeedback = memoryFeedback(
    {
      countsOf: (id) => jobs.get(id)?.record.counts,
      activeJobIds: (principalId) =>
        [...jobs.values()]
          .filter((j) => j.record.principalId === principalId && isActive(j.record))
          .map((j) => j.record.id),
    },
    { clock, maxMessages: options.maxMessages },
  );

  const iso = (ms: number) => new Date(ms).toISOString();
  const isActive = (r: JobRecord) => r.completedAt === undefined && !isFinalStatus(r.status);
  /** Counts a job in (+1) or out of (-1) its principal's unfinished work. */
  const addActive = (job: StoredJob, sign: 1 | -1) => {
    const { principalId, recipients } = job.record;
    const u = usageByPrincipal.get(principalId) ?? { jobs: 0, recipients: 0, bytes: 0 };
    u.jobs += sign;
    u.recipients += sign * recipients;
    u.bytes += sign * job.bytes;
    if (u.jobs > 0) usageByPrincipal.set(principalId, u);
    else usageByPrincipal.delete(principalId);
  };

  /** Where `key` is, or would go, in the ascending `keys`. */
  function place(keys: readonly string[], key: string): number {
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid] < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  function listJob(record: JobRecord): void {
    const keys = listByPrincipal.get(record.principalId) ?? [];
    const key = keyOfJob(record);
    if (keys.length === 0 || keys[keys.length - 1] < key) keys.push(key);
    else keys.splice(place(keys, key), 0, key);
    listByPrincipal.set(record.principalId, keys);
  }

  function unlistJob(record: JobRecord): void {
    const keys = listByPrincipal.get(record.principalId);
    if (!keys) return;
    const key = keyOfJob(record);
    const at = place(keys, key);
    if (keys[at] === key) keys.splice(at, 1);
    if (keys.length === 0) listByPrincipal.delete(record.principalId);
  }

  function drop(id: string): void {
    const job = jobs.get(id);
    if (job) {
      storedBytes -= job.bytes;
      unlistJob(job.record);
    }
    finished.delete(id);
    jobs.delete(id);
  }

  function sweep(now: number): void {
    for (const [id, expiresAt] of finished) {
      if (expiresAt > now) break;
      drop(id);
    }
    if (now >= nextIdempotencySweep) {
      nextIdempotencySweep = now + IDEMPOTENCY_SWEEP_MS;
      for (const [key, rec] of idempotency) if (rec.expiresAt <= now) forgetKey(key, rec);
    }
  }

  function find(id: string): StoredJob | undefined {
    sweep(clock.now());
    return jobs.get(id);
  }

  function setCode(job: StoredJob, index: number, code: number): void {
    const old = job.codes[index];
    if (old === code) return;
    addCount(job.record.counts, old, -1);
    addCount(job.record.counts, code, 1);
    if (old === IN_FLIGHT) job.flight.delete(index);
    job.codes[index] = code;
  }

  /** Keeps `error` as entry `index`'s error, or forgets it when undefined. */
  function setError(job: StoredJob, index: number, error: EntryError | undefined): void {
    if (error !== undefined) {
      job.errors ??= new Map();
      job.errors.set(index, error);
    } else job.errors?.delete(index);
  }

  /** Leaves scheduled/queued once work started; finishes the job when nothing is pending. True when this call finished it. */
  function settle(job: StoredJob, now: number, started: boolean): boolean {
    const r = job.record;
    r.updatedAt = iso(now);
    if (started) {
      job.started = true;
      if (r.status === 'queued' || r.status === 'scheduled') r.status = 'sending';
    }
    if (r.counts.pending > 0 || r.completedAt !== undefined) return false;
    if (!isFinalStatus(r.status)) {
      addActive(job, -1);
      r.status = 'completed';
      delete r.pausedReason;
    }
    markFinished(job, now);
    return true;
  }

  /** What a waiting entry becomes now: PENDING, or CANCELED / FAILED once the job was canceled / failed. */
  function waiting(job: StoredJob): { code: number; error?: EntryError } {
    const r = job.record;
    if (r.status === 'canceled') return { code: CANCELED, error: entryError('CANCELED') };
    if (r.status === 'failed') return { code: FAILED, error: r.error };
    return { code: PENDING };
  }

  /** Entries in flight under `token` go back to waiting; returns how many. */
  function release(job: StoredJob, token: string): number {
    const back = waiting(job);
    let n = 0;
    for (const [index, owner] of [...job.flight]) {
      if (owner !== token) continue;
      setCode(job, index, back.code);
      if (back.code !== PENDING) setError(job, index, back.error);
      n++;
    }
    return n;
  }

  /** A finished job keeps its results for `retentionMs`; its payload (template, attachments) goes at once. */
  function markFinished(job: StoredJob, now: number): void {
    job.record.completedAt ??= iso(now);
    job.messageIds?.trim();
    job.payload = undefined;
    const kept = job.record.entries * RESULT_BYTES_PER_ENTRY + job.recipientBytes;
    storedBytes += kept - job.bytes;
    job.bytes = kept;
    finished.set(job.record.id, now + retentionMs);
  }

  function view(job: StoredJob): JobRecord {
    const out: JobRecord = { ...job.record, counts: { ...job.record.counts } };
    if (out.error) out.error = { ...out.error };
    return out;
  }

  /** Drops the oldest finished jobs until a job of `bytes` fits; 503 when unfinished work alone fills the store. */
  function makeRoom(bytes: number): void {
    const fits = () => jobs.size < maxJobs && storedBytes + bytes <= maxBytes;
    for (const id of finished.keys()) {
      if (fits()) return;
      drop(id);
    }
    if (jobs.size >= maxJobs) {
      throw new BulkEmailError(
        'SERVICE_UNAVAILABLE',
        `The memory store holds ${maxJobs} unfinished jobs (maxJobs); try again later`,
        { retryAfter: FULL_RETRY_AFTER_SECONDS },
      );
    }
    if (!fits()) {
      throw new BulkEmailError(
        'SERVICE_UNAVAILABLE',
        `The memory store's unfinished jobs fill its ${maxBytes} bytes (maxBytes); try again later`,
        { retryAfter: FULL_RETRY_AFTER_SECONDS },
      );
    }
  }

  /** 413 for a job that could never fit its principal's share, 429 when that principal's share is full now. */
  function checkPrincipal(job: JobRecord, bytes: number, options: CreateJobOptions | undefined): void {
    const usage = usageByPrincipal.get(job.principalId) ?? { jobs: 0, recipients: 0, bytes: 0 };
    const limited = options?.limits && principalLimitError(usage, job.recipients, options.limits);
    if (limited) throw limited;
    if (bytes > maxBytesPerPrincipal) {
      throw new BulkEmailError(
        'PAYLOAD_TOO_LARGE',
        `This job needs ${bytes} bytes of the memory store, more than one principal may hold (maxBytesPerPrincipal ${maxBytesPerPrincipal})`,
      );
    }
    if (usage.bytes + bytes > maxBytesPerPrincipal) {
      throw new BulkEmailError(
        'RATE_LIMITED',
        `Your unfinished jobs already hold ${usage.bytes} bytes and this one needs ${bytes} (maxBytesPerPrincipal ${maxBytesPerPrincipal}); try again when some have finished`,
        { retryAfter: LIMIT_RETRY_AFTER_SECONDS },
      );
    }
  }

  function forgetKey(key: string, rec: IdempotencyRecord): void {
    idempotency.delete(key);
    const keys = keysByScope.get(rec.scope);
    keys?.delete(key);
    if (keys?.size === 0) keysByScope.delete(rec.scope);
  }

  /** Drops the oldest answered key among `keys` (in-flight claims are never dropped: their request is running). */
  function evictOldest(keys: Iterable<string>): boolean {
    for (const key of keys) {
      const rec = idempotency.get(key);
      if (rec?.response) {
        forgetKey(key, rec);
        return true;
      }
    }
    return false;
  }

  function rememberKey(key: string, rec: IdempotencyRecord): void {
    let keys = keysByScope.get(rec.scope);
    if (!keys) {
      keys = new Set();
      keysByScope.set(rec.scope, keys);
    }
    if (keys.size >= maxKeysPerScope) evictOldest(keys);
    if (idempotency.size >= maxKeys) evictOldest(idempotency.keys());
    idempotency.set(key, rec);
    keys.add(key);
  }

  function apply(job: StoredJob, result: EntryResult): boolean {
    const { index } = result;
    if (!Number.isInteger(index) || index < 0 || index >= job.codes.length) return false;
    if (job.codes[index] > IN_FLIGHT) return false; // never overwrite a final status
    let code = statusCode(result.status);
    let error = result.error;
    if (code === PENDING) {
      const back = waiting(job);
      if (back.code !== PENDING) ({ code, error } = back);
    }
    setCode(job, index, code);
    const attempts = clampAttempts(result.attempts);
    if (attempts !== 0 || job.attempts) {
      job.attempts ??= new Uint8Array(job.codes.length);
      job.attempts[index] = attempts;
    }
    if (result.messageId !== undefined) {
      job.messageIds ??= packedStrings(job.codes.length);
      job.messageIds.set(index, result.messageId);
    }
    setError(job, index, error && { code: error.code, message: error.message });
    return true;
  }

  /** Gives every waiting entry (PENDING, not in flight) `code` and `error`. */
  function sweepWaiting(job: StoredJob, code: number, error: EntryError | undefined): void {
    if (code <= IN_FLIGHT || job.record.counts.pending <= job.flight.size) return;
    for (let index = 0; index < job.codes.length; index++) {
      if (job.codes[index] !== PENDING) continue;
      setCode(job, index, code);
      setError(job, index, error);
    }
  }

  function refusal(job: StoredJob): EntryClaim['refused'] {
    const r = job.record;
    if (r.status === 'canceled') return 'canceled';
    if (r.completedAt !== undefined || r.status === 'failed' || r.status === 'completed') return 'finished';
    if (r.status === 'paused') return 'paused';
    return undefined;
  }

  /**
   * An entry's addresses as text: the address itself for the usual single recipient (a checked address never starts
   * with '['), else a JSON array. Saves a JSON.stringify per entry of every accepted job (bench 3).
   */
  function recipientsText(list: readonly string[]): string {
    return list.length === 1 && !list[0].startsWith('[') ? list[0] : JSON.stringify(list);
  }

  /** Each entry's addresses packed as text, and the bytes they take. */
  function packRecipients(n: number, lists: CreateJobOptions['recipients']) {
    if (!lists?.length) return { recipients: undefined, recipientBytes: 0 };
    const recipients = packedStrings(n);
    let recipientBytes = 0;
    for (let index = 0; index < Math.min(n, lists.length); index++) {
      const text = recipientsText(lists[index] ?? []);
      recipients.set(index, text);
      recipientBytes += text.length + 5;
    }
    recipients.trim();
    return { recipients, recipientBytes };
  }

  function recipientsOf(job: StoredJob, index: number): string[] {
    const text = job.recipients?.get(index);
    if (text === undefined) return [];
    return text.startsWith('[') ? (JSON.parse(text) as string[]) : [text];
  }

  /** Links each SUCCESS result's MessageId to its entry; counts the newly linked recipients as sent for the guard. */
  async function linkMessages(job: StoredJob, results: EntryResult[], options: RecordResultsOptions | undefined) {
    const retentionMs = options?.messageRetentionMs;
    if (!retentionMs) return;
    let sent = 0;
    for (const r of results) {
      if (r.status !== 'SUCCESS' || r.messageId === undefined || !(r.index >= 0 && r.index < job.codes.length)) {
        continue;
      }
      const recipients = recipientsOf(job, r.index);
      const { id: jobId, principalId } = job.record;
      if (feedback.link({ messageId: r.messageId, jobId, index: r.index, principalId, recipients }, retentionMs)) {
        sent += Math.max(1, recipients.length);
      }
    }
    if (sent > 0 && options?.guardWindowMs) {
      await feedback.methods.addGuardCounts(job.record.principalId, clock.now(), { sent }, options.guardWindowMs);
    }
  }

  let outbox: WebhookOutbox | undefined;
  return {
    ...feedback.methods,

    webhookOutbox: () => {
      outbox ??= memoryOutbox();
      return outbox;
    },

    async createJob(job, payload, initial, options) {
      const now = clock.now();
      sweep(now);
      if (jobs.has(job.id)) throw new Error(`memoryStore: job ${job.id} already exists`);
      const n = job.entries;
      const { recipients, recipientBytes } = packRecipients(n, options?.recipients);
      const bytes =
        (options?.bytes ?? approximateBytes(payload)) + job.entries * RESULT_BYTES_PER_ENTRY + recipientBytes;
      const stored: StoredJob = {
        record: { ...job, counts: emptyCounts() },
        payload,
        bytes,
        codes: new Uint8Array(n),
        flight: new Map(),
        started: false,
        recipients,
        recipientBytes,
      };
      stored.record.counts.pending = n;
      for (const result of initial) apply(stored, result);
      if (isActive(stored.record) && stored.record.counts.pending > 0) checkPrincipal(job, bytes, options);
      makeRoom(bytes);
      jobs.set(job.id, stored);
      listJob(stored.record);
      storedBytes += bytes;
      if (isActive(stored.record)) addActive(stored, 1);
      if (stored.record.counts.pending === 0 && stored.record.completedAt === undefined) {
        if (isActive(stored.record)) addActive(stored, -1);
        if (!isFinalStatus(stored.record.status)) stored.record.status = 'completed';
        stored.record.completedAt = job.updatedAt;
        markFinished(stored, now);
      }
    },

    async getJob(id) {
      const job = find(id);
      return job ? view(job) : null;
    },

    async getPayload(id) {
      return find(id)?.payload ?? null;
    },

    async getResults(id, after, limit) {
      const job = find(id);
      if (!job) return [];
      const start = Math.max(0, Math.floor(after) + 1);
      const end = Math.min(job.codes.length, start + Math.max(0, Math.floor(limit)));
      const out: EntryResult[] = [];
      for (let index = start; index < end; index++) {
        const attempts = job.attempts?.[index] ?? 0;
        const result: EntryResult = { index, status: STATUS_NAMES[job.codes[index]], attempts };
        const messageId = job.messageIds?.get(index);
        if (messageId !== undefined) result.messageId = messageId;
        const error = job.errors?.get(index);
        if (error !== undefined) result.error = { ...error };
        if (job.recipients) result.recipients = recipientsOf(job, index);
        const delivery = messageId === undefined ? undefined : feedback.deliveryOf(messageId);
        if (delivery) result.delivery = delivery;
        out.push(result);
      }
      return out;
    },

    async claimEntries(id, indexes, token) {
      const job = find(id);
      if (!job) return { claimed: [], stale: [], refused: 'gone' };
      const refused = refusal(job);
      const claim: EntryClaim = { claimed: [], stale: [] };
      const seen = new Set<number>();
      for (const index of indexes) {
        if (seen.has(index) || !(index >= 0 && index < job.codes.length)) continue;
        seen.add(index);
        const code = job.codes[index];
        if (code === IN_FLIGHT) {
          if (job.flight.get(index) !== token) claim.stale.push(index);
          else if (!refused) claim.claimed.push(index);
        } else if (code === PENDING && !refused) {
          setCode(job, index, IN_FLIGHT);
          job.flight.set(index, token);
          claim.claimed.push(index);
        }
      }
      if (refused) {
        claim.refused = refused;
        // A refused claim leaves nothing in flight under its token (an earlier, ambiguous try may have taken some).
        if (release(job, token) > 0) settle(job, clock.now(), false);
      } else if (claim.claimed.length > 0) settle(job, clock.now(), true);
      return claim;
    },

    async releaseEntries(id, token) {
      const job = find(id);
      if (!job) return 0;
      const n = release(job, token);
      if (n > 0) settle(job, clock.now(), false);
      return n;
    },

    async recordResults(id, results, options) {
      const job = find(id);
      if (!job) throw new Error(`memoryStore: no job ${id}`);
      let changed = false;
      for (const result of results) changed = apply(job, result) || changed;
      const finishedNow = changed ? settle(job, clock.now(), true) : false;
      const outcome = { job: view(job), finished: finishedNow };
      await linkMessages(job, results, options);
      return outcome;
    },

    async finishPending(id, { status, error, cancel }): Promise<RecordOutcome | null> {
      const job = find(id);
      if (!job) return null;
      const r = job.record;
      if (r.completedAt !== undefined) return { job: view(job), finished: false };
      sweepWaiting(job, statusCode(status as EntryStatus), error);
      if (cancel && !isFinalStatus(r.status)) {
        addActive(job, -1);
        r.status = 'canceled';
        delete r.pausedReason;
      }
      const finishedNow = settle(job, clock.now(), false);
      return { job: view(job), finished: finishedNow };
    },

    async failJob(id, error) {
      const job = find(id);
      if (!job) return null;
      const r = job.record;
      if (r.completedAt !== undefined || isFinalStatus(r.status)) return { job: view(job), finished: false };
      addActive(job, -1);
      r.status = 'failed';
      r.error = { code: error.code, message: error.message };
      delete r.pausedReason;
      sweepWaiting(job, FAILED, r.error);
      const finishedNow = settle(job, clock.now(), false);
      return { job: view(job), finished: finishedNow };
    },

    async setPaused(id, paused, reason = 'USER') {
      const job = find(id);
      if (!job) return null;
      const r = job.record;
      const now = clock.now();
      if (paused && (r.status === 'scheduled' || r.status === 'queued' || r.status === 'sending')) {
        r.status = 'paused';
        r.pausedReason = reason;
        r.updatedAt = iso(now);
      } else if (!paused && r.status === 'paused') {
        const ahead = r.sendAt !== undefined && Date.parse(r.sendAt) > now;
        r.status = ahead ? 'scheduled' : job.started ? 'sending' : 'queued';
        delete r.pausedReason;
        r.updatedAt = iso(now);
      }
      return view(job);
    },

    async listJobs(principalId, query) {
      sweep(clock.now());
      const keys = listByPrincipal.get(principalId) ?? [];
      const start = query.after ? place(keys, listKey(query.after.at, query.after.id)) : keys.length;
      const taken = keys.slice(Math.max(0, start - listScan(query) - 1), start).reverse();
      return pickPage(
        taken,
        taken.map((key) => {
          const job = jobs.get(key.slice(key.indexOf(':') + 1));
          return job ? view(job) : null;
        }),
        query,
      );
    },

    async countActiveJobs(principalId) {
      sweep(clock.now());
      return usageByPrincipal.get(principalId)?.jobs ?? 0;
    },

    async claimIdempotency(key, fingerprint, ttlMs, scope = '', jobId?: string): Promise<IdempotencyClaim> {
      const now = clock.now();
      sweep(now);
      const rec = idempotency.get(key);
      if (rec && rec.expiresAt > now) {
        if (rec.fingerprint !== fingerprint) return { state: 'mismatch' };
        if (rec.response) return { state: 'replay', response: rec.response };
        return rec.jobId === undefined ? { state: 'in_flight' } : { state: 'in_flight', jobId: rec.jobId };
      }
      if (rec) forgetKey(key, rec);
      rememberKey(key, { fingerprint, expiresAt: now + ttlMs, scope, ...(jobId === undefined ? {} : { jobId }) });
      return { state: 'new' };
    },

    async refreshIdempotency(key, fingerprint, ttlMs) {
      const rec = idempotency.get(key);
      if (rec && !rec.response && rec.fingerprint === fingerprint) rec.expiresAt = clock.now() + ttlMs;
    },

    async completeIdempotency(key, fingerprint, response, ttlMs) {
      const rec = idempotency.get(key);
      const scope = rec?.scope ?? '';
      if (rec) forgetKey(key, rec); // re-insert so the maps stay roughly in expiry order
      rememberKey(key, { fingerprint, response, expiresAt: clock.now() + ttlMs, scope });
    },

    async releaseIdempotency(key) {
      const rec = idempotency.get(key);
      if (rec) forgetKey(key, rec);
    },

    async close() {
      jobs.clear();
      finished.clear();
      storedBytes = 0;
      usageByPrincipal.clear();
      idempotency.clear();
      keysByScope.clear();
      listByPrincipal.clear();
      feedback.clear();
    },
  };
}
