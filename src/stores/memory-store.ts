// memoryStore(): the embedded Store — jobs, per-entry results (typed arrays) and idempotency keys in this process.
import { BulkEmailError } from '../errors.js';
import { entryError } from '../sending/entry-errors.js';
import type {
  Clock,
  EntryClaim,
  EntryError,
  EntryResult,
  EntryStatus,
  IdempotencyClaim,
  JobPayload,
  JobRecord,
  RecordOutcome,
  Store,
  StoredResponse,
} from '../types.js';
import {
  addCount,
  CANCELED,
  FAILED,
  IN_FLIGHT,
  isFinalStatus,
  PENDING,
  STATUS_NAMES,
  emptyCounts,
  statusCode,
} from './entry-codes.js';
import { type PackedStrings, packedStrings } from './packed-strings.js';

export interface MemoryStoreOptions {
  /** Time source for `updatedAt`/`completedAt`, retention and idempotency TTLs. Default `Date.now`. */
  clock?: Pick<Clock, 'now'>;
  /**
   * Most jobs kept at once. When full, the oldest finished jobs are dropped early; when every stored job is still
   * unfinished, `createJob` fails with 503 `SERVICE_UNAVAILABLE`. Default 10,000.
   */
  maxJobs?: number;
  /** How long a finished (completed or canceled) job stays readable after `completedAt`. Default 24 h. */
  retentionMs?: number;
}

interface StoredJob {
  record: JobRecord;
  payload: JobPayload;
  /** Entry status codes (see entry-codes.ts). */
  codes: Uint8Array;
  /** Attempts per entry, saturating at 255; created with the first non-zero count (a waiting job has none). */
  attempts?: Uint8Array;
  /** Created with the first message id: a job still waiting holds none. */
  messageIds?: PackedStrings;
  /** Sparse: only entries that have an error; created with the first one. */
  errors?: Map<number, EntryError>;
  /** Entries in flight → the token of the claim that took them. */
  flight: Map<number, string>;
  /** Some entry was claimed once: resuming goes back to `sending`. */
  started: boolean;
}

interface IdempotencyRecord {
  fingerprint: string;
  response?: StoredResponse;
  expiresAt: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const IDEMPOTENCY_SWEEP_MS = 60_000;

/**
 * A Store for one process. Memory per entry: 2 bytes (status, attempts) plus the message id packed as UTF-8 bytes
 * (~65 bytes for an SES id) and errors only where there is one. Finished jobs are dropped `retentionMs` after they
 * finish and expired idempotency keys are swept, so a long-running process does not grow without bound.
 */
export function memoryStore(options: MemoryStoreOptions = {}): Store {
  const clock = options.clock ?? { now: () => Date.now() };
  const maxJobs = options.maxJobs ?? 10_000;
  const retentionMs = options.retentionMs ?? DAY_MS;
  if (!(maxJobs >= 1)) throw new TypeError('memoryStore: maxJobs must be at least 1');
  if (!(retentionMs >= 0)) throw new TypeError('memoryStore: retentionMs must be >= 0');

  const jobs = new Map<string, StoredJob>();
  /** Finished job id → when it expires, in the order the jobs finished. */
  const finished = new Map<string, number>();
  const activeByPrincipal = new Map<string, number>();
  const idempotency = new Map<string, IdempotencyRecord>();
  let nextIdempotencySweep = 0;

  const iso = (ms: number) => new Date(ms).toISOString();
  const isActive = (r: JobRecord) => r.completedAt === undefined && !isFinalStatus(r.status);
  const addActive = (principalId: string, delta: number) => {
    const n = (activeByPrincipal.get(principalId) ?? 0) + delta;
    if (n > 0) activeByPrincipal.set(principalId, n);
    else activeByPrincipal.delete(principalId);
  };

  function sweep(now: number): void {
    for (const [id, expiresAt] of finished) {
      if (expiresAt > now) break;
      finished.delete(id);
      jobs.delete(id);
    }
    if (now >= nextIdempotencySweep) {
      nextIdempotencySweep = now + IDEMPOTENCY_SWEEP_MS;
      for (const [key, rec] of idempotency) if (rec.expiresAt <= now) idempotency.delete(key);
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
      addActive(r.principalId, -1);
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

  function markFinished(job: StoredJob, now: number): void {
    job.record.completedAt ??= iso(now);
    job.messageIds?.trim();
    finished.set(job.record.id, now + retentionMs);
  }

  function view(job: StoredJob): JobRecord {
    const out: JobRecord = { ...job.record, counts: { ...job.record.counts } };
    if (out.error) out.error = { ...out.error };
    return out;
  }

  function makeRoom(): void {
    for (const id of finished.keys()) {
      if (jobs.size < maxJobs) return;
      finished.delete(id);
      jobs.delete(id);
    }
    if (jobs.size >= maxJobs) {
      throw new BulkEmailError(
        'SERVICE_UNAVAILABLE',
        `The memory store holds ${maxJobs} unfinished jobs (maxJobs); try again later`,
        {
          retryAfter: 5,
        },
      );
    }
  }

  const clampAttempts = (n: number) => Math.max(0, Math.min(255, Math.floor(n) || 0));

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

  return {
    async createJob(job, payload, initial) {
      const now = clock.now();
      sweep(now);
      if (jobs.has(job.id)) throw new Error(`memoryStore: job ${job.id} already exists`);
      makeRoom();
      const n = job.entries;
      const stored: StoredJob = {
        record: { ...job, counts: emptyCounts() },
        payload,
        codes: new Uint8Array(n),
        flight: new Map(),
        started: false,
      };
      stored.record.counts.pending = n;
      for (const result of initial) apply(stored, result);
      jobs.set(job.id, stored);
      if (isActive(stored.record)) addActive(job.principalId, 1);
      if (stored.record.counts.pending === 0 && stored.record.completedAt === undefined) {
        if (isActive(stored.record)) addActive(job.principalId, -1);
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

    async recordResults(id, results) {
      const job = find(id);
      if (!job) throw new Error(`memoryStore: no job ${id}`);
      let changed = false;
      for (const result of results) changed = apply(job, result) || changed;
      const finishedNow = changed ? settle(job, clock.now(), true) : false;
      return { job: view(job), finished: finishedNow };
    },

    async finishPending(id, { status, error, cancel }): Promise<RecordOutcome | null> {
      const job = find(id);
      if (!job) return null;
      const r = job.record;
      if (r.completedAt !== undefined) return { job: view(job), finished: false };
      sweepWaiting(job, statusCode(status as EntryStatus), error);
      if (cancel && !isFinalStatus(r.status)) {
        addActive(r.principalId, -1);
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
      addActive(r.principalId, -1);
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

    async countActiveJobs(principalId) {
      sweep(clock.now());
      return activeByPrincipal.get(principalId) ?? 0;
    },

    async claimIdempotency(key, fingerprint, ttlMs): Promise<IdempotencyClaim> {
      const now = clock.now();
      sweep(now);
      const rec = idempotency.get(key);
      if (rec && rec.expiresAt > now) {
        if (rec.fingerprint !== fingerprint) return { state: 'mismatch' };
        return rec.response ? { state: 'replay', response: rec.response } : { state: 'in_flight' };
      }
      idempotency.set(key, { fingerprint, expiresAt: now + ttlMs });
      return { state: 'new' };
    },

    async completeIdempotency(key, fingerprint, response, ttlMs) {
      idempotency.delete(key); // re-insert so the map stays roughly in expiry order
      idempotency.set(key, { fingerprint, response, expiresAt: clock.now() + ttlMs });
    },

    async releaseIdempotency(key) {
      idempotency.delete(key);
    },

    async close() {
      jobs.clear();
      finished.clear();
      activeByPrincipal.clear();
      idempotency.clear();
    },
  };
}
