// memoryStore(): the embedded Store — jobs, per-entry results (typed arrays) and idempotency keys in this process.
import { BulkEmailError } from '../errors.js';
import type {
  Clock,
  EntryClaim,
  EntryResult,
  EntryStatus,
  IdempotencyClaim,
  JobPayload,
  JobRecord,
  RecordOutcome,
  Store,
  StoredResponse,
} from '../types.js';
import { addCount, CANCELED, IN_FLIGHT, PENDING, STATUS_NAMES, emptyCounts, statusCode } from './entry-codes.js';
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
  errors?: Map<number, string>;
  inFlight: number;
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
  const isActive = (r: JobRecord) => r.status === 'queued' || r.status === 'sending';
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
    if (old === IN_FLIGHT) job.inFlight--;
    if (code === IN_FLIGHT) job.inFlight++;
    job.codes[index] = code;
  }

  /** Leaves queued once work started; finishes the job when nothing is pending. True when this call finished it. */
  /** Keeps `error` as entry `index`'s error text, or forgets it when undefined. */
  function setError(job: StoredJob, index: number, error: string | undefined): void {
    if (error !== undefined) {
      job.errors ??= new Map();
      job.errors.set(index, error);
    } else job.errors?.delete(index);
  }

  function settle(job: StoredJob, now: number, started: boolean): boolean {
    const r = job.record;
    r.updatedAt = iso(now);
    if (started && r.status === 'queued') r.status = 'sending';
    if (r.counts.pending > 0 || r.completedAt !== undefined) return false;
    if (r.status !== 'canceled') {
      addActive(r.principalId, -1);
      r.status = 'completed';
    }
    markFinished(job, now);
    return true;
  }

  function markFinished(job: StoredJob, now: number): void {
    job.record.completedAt ??= iso(now);
    job.messageIds?.trim();
    finished.set(job.record.id, now + retentionMs);
  }

  function view(job: StoredJob): JobRecord {
    return { ...job.record, counts: { ...job.record.counts } };
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
    if (code === PENDING && job.record.status === 'canceled') code = CANCELED;
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
    setError(job, index, code === CANCELED ? undefined : result.error);
    return true;
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
        inFlight: 0,
      };
      stored.record.counts.pending = n;
      for (const result of initial) apply(stored, result);
      jobs.set(job.id, stored);
      if (isActive(stored.record)) addActive(job.principalId, 1);
      if (stored.record.counts.pending === 0 && stored.record.completedAt === undefined) {
        if (isActive(stored.record)) addActive(job.principalId, -1);
        if (stored.record.status !== 'canceled') stored.record.status = 'completed';
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
        if (error !== undefined) result.error = error;
        out.push(result);
      }
      return out;
    },

    async claimEntries(id, indexes) {
      const claim: EntryClaim = { claimed: [], stale: [] };
      const job = find(id);
      if (!job) return claim;
      const canceled = job.record.status === 'canceled';
      const seen = new Set<number>();
      for (const index of indexes) {
        if (seen.has(index) || !(index >= 0 && index < job.codes.length)) continue;
        seen.add(index);
        const code = job.codes[index];
        if (code === IN_FLIGHT) claim.stale.push(index);
        else if (code === PENDING && !canceled) {
          setCode(job, index, IN_FLIGHT);
          claim.claimed.push(index);
        }
      }
      if (claim.claimed.length > 0) settle(job, clock.now(), true);
      return claim;
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
      const now = clock.now();
      if (r.completedAt !== undefined) return { job: view(job), finished: false };
      const code = statusCode(status as EntryStatus);
      if (code > IN_FLIGHT && r.counts.pending > job.inFlight) {
        for (let index = 0; index < job.codes.length; index++) {
          if (job.codes[index] !== PENDING) continue;
          setCode(job, index, code);
          setError(job, index, error);
        }
      }
      if (cancel && r.status !== 'canceled') {
        if (isActive(r)) addActive(r.principalId, -1);
        r.status = 'canceled';
      }
      const finishedNow = settle(job, now, false);
      return { job: view(job), finished: finishedNow };
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
