// redisStore(): the shared Store — jobs, per-entry results, idempotency keys and active-job counts in Redis, via Lua.
import type { Redis } from 'ioredis';
import type {
  Clock,
  EntryClaim,
  EntryError,
  EntryResult,
  IdempotencyClaim,
  JobCounts,
  JobRecord,
  JobStatus,
  RecordOutcome,
  Store,
  StoredResponse,
} from '../types.js';
import {
  addCount,
  clampAttempts,
  emptyCounts,
  isFinalStatus,
  PENDING,
  STATUS_NAMES,
  statusCode,
} from './entry-codes.js';
import { keyOfJob, listKey, listScan, pickPage, positionOfKey } from './job-list.js';
import { principalLimitError } from './principal-limits.js';
import { redisOutbox } from '../webhooks/redis-outbox.js';
import type { WebhookOutbox } from '../types.js';
import { checkConnection, closeClient, ownClient, type RedisConnection, redisGuard } from './redis-connection.js';
import { redisFeedback } from './redis-feedback.js';
import {
  CLAIM_ENTRIES,
  CLAIM_IDEMPOTENCY,
  CREATE_JOB,
  FAIL_JOB,
  FINISH_PENDING,
  GET_RESULTS,
  RECORD_RESULTS,
  REFRESH_IDEMPOTENCY,
  RELEASE_ENTRIES,
  SET_PAUSED,
} from './redis-scripts.js';

export interface RedisStoreOptions {
  /**
   * A redis:// URL, ioredis options naming a server, an ioredis `Redis` instance, or an ioredis `Cluster`; the store
   * opens its own connection to that server (or cluster). Anything else is a TypeError at build time.
   */
  connection: RedisConnection;
  /** Prefix of every key. Default `ebe`. */
  prefix?: string;
  /** How long a finished job stays readable (its keys get this TTL when it finishes). Default 24 h. */
  retentionMs?: number;
  /**
   * A command that has not answered after this long fails with 503 (so a hung Redis costs a request about this
   * long). Default 1,000 ms.
   */
  commandTimeoutMs?: number;
  /** Time source for `updatedAt`/`completedAt`. Default `Date.now`. */
  clock?: Pick<Clock, 'now'>;
}

type Reply = (string | number | null | Reply)[];
type Script = (...args: (string | number)[]) => Promise<Reply | number | null>;
interface Scripts {
  ebeCreateJob: Script;
  ebeClaimEntries: Script;
  ebeReleaseEntries: Script;
  ebeRecordResults: Script;
  ebeFinishPending: Script;
  ebeFailJob: Script;
  ebeSetPaused: Script;
  ebeGetResults: Script;
  ebeClaimIdempotency: Script;
  ebeRefreshIdempotency: Script;
}

const SEP = '\x1f';
const DAY_MS = 24 * 60 * 60 * 1000;
const COUNT_FIELDS = ['sent', 'failed', 'pending', 'canceled', 'suppressed', 'unknown'] as const;

const clean = (s: string | undefined) => (s === undefined ? '' : s.replaceAll(SEP, ' '));
/** An error as two packed fields ("code\x1fmessage"), or '' for none. */
const packError = (e: EntryError | undefined) => (e ? `${clean(e.code)}${SEP}${clean(e.message)}` : '');

/** The error fields of a packed result (two fields; one in results written before errors had codes). */
function unpackError(fields: string[], status: string): EntryError | undefined {
  if (fields.length >= 2)
    return fields[0] === '' && fields[1] === '' ? undefined : { code: fields[0], message: fields.slice(1).join(' ') };
  return fields.length === 1 && fields[0] !== '' ? { code: status, message: fields[0] } : undefined;
}

function toRecord(flat: Reply): JobRecord {
  const h: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) h[String(flat[i])] = String(flat[i + 1]);
  const counts = emptyCounts();
  for (const field of COUNT_FIELDS) counts[field] = Number(h[field]);
  const record: JobRecord = {
    id: h.id,
    principalId: h.principalId,
    status: h.status as JobStatus,
    createdAt: h.createdAt,
    updatedAt: h.updatedAt,
    entries: Number(h.entries),
    recipients: Number(h.recipients),
    counts,
  };
  if (h.completedAt) record.completedAt = h.completedAt;
  if (h.estimatedCompletionAt) record.estimatedCompletionAt = h.estimatedCompletionAt;
  if (h.errCode) record.error = { code: h.errCode, message: h.errMessage ?? '' };
  if (h.sendAt) record.sendAt = h.sendAt;
  if (h.pausedReason) record.pausedReason = h.pausedReason as JobRecord['pausedReason'];
  for (const field of ['delivered', 'bounced', 'complained'] as const) {
    if (h[field] !== undefined) counts[field] = Number(h[field]);
  }
  return record;
}

/** Queues `add(multi, item)` for each item, runs the transaction and returns the replies (throws the first error). */
async function execAll<T>(
  multi: ReturnType<Redis['multi']>,
  items: readonly T[],
  add: (multi: ReturnType<Redis['multi']>, item: T) => void,
): Promise<unknown[]> {
  if (items.length === 0) return [];
  for (const item of items) add(multi, item);
  const replies = (await multi.exec()) ?? [];
  return replies.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}

function outcome(reply: Reply): RecordOutcome {
  return { finished: reply[0] === 1, job: toRecord(reply[1] as Reply) };
}

/**
 * Keys, all under the hash tag `{<prefix>}` (default `ebe`) followed by `:s` so that they never meet the queue's:
 * `{ebe}:s:job:<id>` hash (the record, counts, inFlight, dflt), `…:results` hash (index → packed result; untouched
 * entries are absent), `…:waiting` set (PENDING entries with history), `…:payload` (JSON), `…:flight` hash (entries
 * in flight → their claim token), `{ebe}:s:active` hash (principal → unfinished jobs, `\0r:principal` → their
 * recipients), `{ebe}:s:active:<principal>` set (its unfinished job ids), `{ebe}:s:jobs:<principal>` sorted set (its job list:
 * members `<creation ms, 15 digits>:<id>`, all scored 0, read by lex range), `{ebe}:s:idem:<key>` hash (fingerprint,
 * response) with a TTL. The results hash also holds each entry's recipients (`r<index>`). Delivery feedback keys
 * (sent messages, suppression lists, guard counts, pauses): see redis-feedback-scripts.ts. A finished job's keys
 * expire `retentionMs` after it finishes; its payload is deleted at once. Standalone Redis, Sentinel or Redis Cluster
 * (every key in the one slot of `{<prefix>}`).
 */
export function redisStore(options: RedisStoreOptions): Store {
  const prefix = options.prefix ?? 'ebe';
  const retentionMs = options.retentionMs ?? DAY_MS;
  const clock = options.clock ?? { now: () => Date.now() };
  const connection = checkConnection(options.connection, 'redisStore');
  // A script whose reply a reconnect lost is not run a second time behind the caller's back (ioredis would resend
  // it): it fails after commandTimeoutMs as ambiguous, and the caller decides (claims are released, records retried).
  const client = ownClient(connection, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    autoResendUnfulfilledCommands: false,
    commandTimeout: options.commandTimeoutMs ?? 1000,
    connectTimeout: 5000,
    lazyConnect: false,
  }) as Redis;
  const guard = redisGuard(client);
  const define = (name: keyof Scripts, lua: string, numberOfKeys: number) =>
    client.defineCommand(name, { lua, numberOfKeys });
  define('ebeCreateJob', CREATE_JOB, 6);
  define('ebeClaimEntries', CLAIM_ENTRIES, 6);
  define('ebeReleaseEntries', RELEASE_ENTRIES, 6);
  define('ebeRecordResults', RECORD_RESULTS, 6);
  define('ebeFinishPending', FINISH_PENDING, 6);
  define('ebeFailJob', FAIL_JOB, 6);
  define('ebeSetPaused', SET_PAUSED, 6);
  define('ebeGetResults', GET_RESULTS, 2);
  define('ebeClaimIdempotency', CLAIM_IDEMPOTENCY, 1);
  define('ebeRefreshIdempotency', REFRESH_IDEMPOTENCY, 1);
  const scripts = client as unknown as Redis & Scripts;

  // Every key under the hash tag `{prefix}` (one Redis Cluster slot for every script's keys), beside the queue's.
  const tag = `{${prefix}}:s`;
  const activeKey = `${tag}:active`;
  const jobKeys = (id: string) => {
    const job = `${tag}:job:${id}`;
    return [job, `${job}:results`, `${job}:waiting`, activeKey, `${job}:payload`, `${job}:flight`];
  };
  const idemKey = (key: string) => `${tag}:idem:${key}`;
  const now = () => new Date(clock.now()).toISOString();
  const feedback = redisFeedback(client, tag, () => clock.now());
  const keysOf = (id: string) => {
    const [job, results] = jobKeys(id);
    return { job, results };
  };
  // A job's principal never changes: remembered (a bounded map) to name its guard key without a read per record.
  const principals = new Map<string, string>();
  const principalOf = async (id: string) => {
    let principal = principals.get(id);
    if (principal !== undefined) return principal;
    principal = (await client.hget(jobKeys(id)[0], 'principalId')) ?? undefined;
    if (principal === undefined) return undefined;
    if (principals.size >= 1000) principals.delete(principals.keys().next().value as string);
    principals.set(id, principal);
    return principal;
  };
  /** Runs `multi`; the first command's reply, or its error. */
  const firstReply = async (multi: ReturnType<Redis['multi']>) => {
    const replies = (await multi.exec()) ?? [];
    const failed = replies.find(([err]) => err);
    if (failed) throw failed[0];
    return replies[0][1];
  };

  let outbox: WebhookOutbox | undefined;
  return {
    ...feedback.methods,

    webhookOutbox: () => {
      outbox ??= redisOutbox(client, tag);
      return outbox;
    },

    createJob: (job, payload, initial, options) =>
      guard(async () => {
        const n = job.entries;
        const first = new Map<number, EntryResult>();
        for (const r of initial) {
          const prev = first.get(r.index);
          if (
            Number.isInteger(r.index) &&
            r.index >= 0 &&
            r.index < n &&
            !(prev && statusCode(prev.status) > PENDING)
          ) {
            first.set(r.index, r);
          }
        }
        const counts: JobCounts = { ...emptyCounts(), pending: n };
        const triples: (string | number)[] = [];
        for (const r of first.values()) {
          const code = statusCode(r.status);
          addCount(counts, PENDING, -1);
          addCount(counts, code, 1);
          const packed = [code, clampAttempts(r.attempts), clean(r.messageId), packError(r.error)].join(SEP);
          triples.push(r.index, code, packed);
        }
        const done = counts.pending === 0;
        const status: JobStatus = done && !isFinalStatus(job.status) ? 'completed' : job.status;
        const completedAt = done ? (job.completedAt ?? job.updatedAt) : job.completedAt;
        const fields: Record<string, string | number | undefined> = {
          id: job.id,
          principalId: job.principalId,
          status,
          createdAt: job.createdAt,
          updatedAt: job.updatedAt,
          completedAt,
          estimatedCompletionAt: job.estimatedCompletionAt,
          sendAt: job.sendAt,
          sendAtMs: job.sendAt === undefined ? undefined : Date.parse(job.sendAt),
          pausedReason: job.pausedReason,
          lk: keyOfJob(job),
          errCode: job.error?.code,
          errMessage: job.error?.message,
          entries: n,
          recipients: job.recipients,
          ...counts,
          inFlight: 0,
          dflt: 0,
        };
        const pairs = Object.entries(fields).filter(([, v]) => v !== undefined) as [string, string | number][];
        const active = done || isFinalStatus(status) ? 0 : 1;
        const limits = options?.limits;
        const limit = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? -1 : n);
        const multi = client.multi();
        (multi as unknown as Scripts).ebeCreateJob(
          ...jobKeys(job.id),
          retentionMs,
          JSON.stringify(payload),
          active,
          limit(limits?.maxActiveJobs),
          limit(limits?.maxQueuedRecipients),
          job.principalId,
          job.recipients,
          pairs.length,
          ...pairs.flat(),
          ...triples,
        );
        feedback.queueRecipients(multi, keysOf(job.id), options?.recipients);
        const created = await firstReply(multi);
        if (Array.isArray(created) && limits) {
          const usage = { jobs: Number(created[1]), recipients: Number(created[2]) };
          throw (
            principalLimitError(usage, job.recipients, limits) ?? new Error('redisStore: limit reply without a limit')
          );
        }
        if (created !== 1) throw new Error(`redisStore: job ${job.id} already exists`);
      }),

    getJob: (id) =>
      guard(async () => {
        const h = await client.hgetall(jobKeys(id)[0]);
        return h.id ? toRecord(Object.entries(h).flat()) : null;
      }),

    getPayload: (id) =>
      guard(async () => {
        const json = await client.get(jobKeys(id)[4]);
        return json === null ? null : JSON.parse(json);
      }),

    getResults: (id, after, limit) =>
      guard(async () => {
        const [job, res] = jobKeys(id);
        const start = Math.max(0, Math.floor(after) + 1);
        const reply = (await scripts.ebeGetResults(job, res, start, Math.max(0, Math.floor(limit)))) as string[] | null;
        if (!reply) return [];
        const dflt = Number(reply[1]);
        const dfltErr = reply[2];
        const messageIds: string[] = [];
        const results = reply.slice(3).map((packed, i): EntryResult => {
          const index = start + i;
          if (packed === '') {
            const result: EntryResult = { index, status: STATUS_NAMES[dflt], attempts: 0 };
            const error = dflt === PENDING ? undefined : unpackError(dfltErr.split(SEP), result.status);
            if (error) result.error = error;
            return result;
          }
          const [code, attempts, messageId, ...rest] = packed.split(SEP);
          const result: EntryResult = { index, status: STATUS_NAMES[Number(code)], attempts: Number(attempts) };
          if (messageId !== '') {
            result.messageId = messageId;
            messageIds.push(messageId);
          }
          const error = unpackError(rest, result.status);
          if (error) result.error = error;
          return result;
        });
        const extra = await feedback.pageFeedback(res, start, results.length, messageIds);
        let m = 0;
        results.forEach((result, i) => {
          const recipients = extra.recipients[i];
          if (recipients) result.recipients = recipients;
          if (result.messageId === undefined) return;
          const delivery = extra.delivery[m++];
          if (delivery) result.delivery = delivery;
        });
        return results;
      }),

    claimEntries: (id, indexes, token) =>
      guard(async () => {
        const [claimed, stale, refused] = (await scripts.ebeClaimEntries(
          ...jobKeys(id),
          now(),
          retentionMs,
          token,
          ...indexes,
        )) as [number[], number[], string];
        const claim: EntryClaim = { claimed, stale };
        if (refused !== '') claim.refused = refused as EntryClaim['refused'];
        return claim;
      }),

    releaseEntries: (id, token) =>
      guard(async () => Number(await scripts.ebeReleaseEntries(...jobKeys(id), now(), retentionMs, token))),

    recordResults: (id, results, options) =>
      guard(async () => {
        const args: (string | number)[] = [];
        for (const r of results) {
          args.push(r.index, statusCode(r.status), clampAttempts(r.attempts), clean(r.messageId), packError(r.error));
        }
        try {
          // SUCCESS results are linked to their MessageIds in the same transaction: never one without the other.
          const guarded = options?.guardWindowMs && results.some((r) => r.status === 'SUCCESS' && r.messageId);
          const principal = guarded ? await principalOf(id) : undefined;
          const multi = client.multi();
          (multi as unknown as Scripts).ebeRecordResults(...jobKeys(id), now(), retentionMs, ...args);
          if (feedback.queueLinks(multi, keysOf(id), results, options, principal))
            return outcome((await firstReply(multi)) as Reply);
          // Nothing to link: the transaction is never sent (ioredis queues a multi until exec).
          return outcome((await scripts.ebeRecordResults(...jobKeys(id), now(), retentionMs, ...args)) as Reply);
        } catch (err) {
          if (/^NOJOB/.test((err as Error).message)) throw new Error(`redisStore: no job ${id}`);
          throw err;
        }
      }),

    finishPending: (id, { status, error, cancel }) =>
      guard(async () => {
        const reply = await scripts.ebeFinishPending(
          ...jobKeys(id),
          now(),
          retentionMs,
          statusCode(status),
          packError(error),
          cancel ? 1 : 0,
        );
        return reply === null ? null : outcome(reply as Reply);
      }),

    failJob: (id, error) =>
      guard(async () => {
        const reply = await scripts.ebeFailJob(
          ...jobKeys(id),
          now(),
          retentionMs,
          clean(error.code),
          clean(error.message),
          packError(error),
        );
        return reply === null ? null : outcome(reply as Reply);
      }),

    setPaused: (id, paused, reason = 'USER') =>
      guard(async () => {
        const at = clock.now();
        const reply = await scripts.ebeSetPaused(
          ...jobKeys(id),
          new Date(at).toISOString(),
          at,
          paused ? 1 : 0,
          reason,
        );
        return reply === null ? null : toRecord(reply as Reply);
      }),

    listJobs: (principalId, query) =>
      guard(async () => {
        const list = `${tag}:jobs:${principalId}`;
        const from = query.after ? `(${listKey(query.after.at, query.after.id)}` : '+';
        const keys = await client.zrevrangebylex(list, from, '-', 'LIMIT', 0, listScan(query) + 1);
        if (keys.length === 0) return { jobs: [], next: null };
        const hashOf = (key: string) => jobKeys(positionOfKey(key).id)[0];
        // Filtered: read each job's status first, then whole records only for the matches a page can hold.
        const statuses = query.statuses
          ? await execAll(client.multi(), keys, (m, key) => m.hget(hashOf(key), 'status'))
          : null;
        const wanted = new Set<string>(query.statuses ?? []);
        const gone = new Set<number>();
        const matched: number[] = [];
        const records: (JobRecord | null)[] = keys.map((_, i) => {
          if (statuses && statuses[i] === null) gone.add(i);
          else if (!statuses || wanted.has(String(statuses[i]))) matched.push(i);
          // A stand-in that only says the status: pickPage skips those that do not match, and stops at `limit`
          // before it reaches a match whose record was not read (enough matches are read below).
          return statuses && statuses[i] !== null ? ({ status: statuses[i] } as JobRecord) : null;
        });
        let alive = 0;
        for (let next = 0; alive <= query.limit && next < matched.length; ) {
          const batch = matched.slice(next, next + query.limit + 1 - alive);
          next += batch.length;
          const hashes = await execAll(client.multi(), batch, (m, i) => m.hgetall(hashOf(keys[i])));
          batch.forEach((i, n) => {
            const hash = hashes[n] as Record<string, string>;
            records[i] = hash.id ? toRecord(Object.entries(hash).flat()) : null;
            if (records[i]) alive++;
            else gone.add(i);
          });
        }
        // Jobs that expired since they were listed leave the list (bounded: only those this page looked at).
        if (gone.size) await client.zrem(list, ...[...gone].map((i) => keys[i]));
        return pickPage(keys, records, query);
      }),

    countActiveJobs: (principalId) => guard(async () => Number((await client.hget(activeKey, principalId)) ?? 0)),

    claimIdempotency: (key, fingerprint, ttlMs, _scope, jobId) =>
      guard(async (): Promise<IdempotencyClaim> => {
        const [state, extra] = (await scripts.ebeClaimIdempotency(
          idemKey(key),
          fingerprint,
          Math.max(1, Math.ceil(ttlMs)),
          jobId ?? '',
        )) as string[];
        if (state === 'replay') return { state, response: JSON.parse(extra) as StoredResponse };
        if (state === 'in_flight') return extra ? { state, jobId: extra } : { state };
        return { state: state as 'new' | 'mismatch' };
      }),

    refreshIdempotency: (key, fingerprint, ttlMs) =>
      guard(async () => {
        await scripts.ebeRefreshIdempotency(idemKey(key), fingerprint, Math.max(1, Math.ceil(ttlMs)));
      }),

    completeIdempotency: (key, fingerprint, response, ttlMs) =>
      guard(async () => {
        const k = idemKey(key);
        await client
          .multi()
          .del(k)
          .hset(k, 'f', fingerprint, 'r', JSON.stringify(response))
          .pexpire(k, Math.max(1, Math.ceil(ttlMs)))
          .exec();
      }),

    releaseIdempotency: (key) =>
      guard(async () => {
        await client.del(idemKey(key));
      }),

    close: () => closeClient(client),
  };
}
