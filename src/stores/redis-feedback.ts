// redisFeedback(): the Redis store's delivery feedback — sent messages, delivery states, suppression lists, guard, pauses.
import type { ChainableCommander, Redis } from 'ioredis';
import { type DeliveryState, mergeDelivery } from '../events/delivery-state.js';
import { type GuardBucket, type GuardCounts, guardBucketStart, guardBucketWidth } from '../events/reputation-guard.js';
import type {
  EntryResult,
  FeedbackStore,
  PrincipalPause,
  RecordResultsOptions,
  SuppressedAddress,
  SuppressionReason,
} from '../types.js';
import { decodeDelivery, encodeDelivery } from './delivery-codec.js';
import { deliveryCountDeltas } from './delivery-counts.js';
import {
  ADD_GUARD_COUNTS,
  ADD_SUPPRESSIONS,
  GET_FEEDBACK,
  LINK_MESSAGES,
  REMOVE_SUPPRESSION,
  SAVE_RECIPIENTS,
  SET_DELIVERY,
} from './redis-feedback-scripts.js';

type Script = (...args: (string | number)[]) => Promise<unknown>;
interface Scripts {
  ebeLinkMessages: Script;
  ebeSetDelivery: Script;
  ebeGetFeedback: Script;
  ebeAddSuppressions: Script;
  ebeRemoveSuppression: Script;
  ebeAddGuardCounts: Script;
  ebeSaveRecipients: Script;
}

export interface RedisFeedback {
  methods: FeedbackStore;
  /**
   * Adds to `multi` the linking of the SUCCESS results' MessageIds (run after the results are recorded, in the same
   * transaction); false when there is nothing to link. `principalId` (the job's) names the guard key the script
   * counts in (declared to Redis, as Cluster wants); without it nothing is counted in the guard.
   */
  queueLinks(
    multi: ChainableCommander,
    keys: { job: string; results: string },
    results: readonly EntryResult[],
    options: RecordResultsOptions | undefined,
    principalId: string | undefined,
  ): boolean;
  /** Each entry's recipients (from `start`, `count` of them) and the delivery state of each message id given. */
  pageFeedback(
    resultsKey: string,
    start: number,
    count: number,
    messageIds: readonly string[],
  ): Promise<{ recipients: (string[] | undefined)[]; delivery: (DeliveryState | undefined)[] }>;
  /**
   * Adds to `multi` (after the job is created) each entry's addresses, as field `r<index>` of the results hash (which
   * expires with the job); written only if the job exists.
   */
  queueRecipients(
    multi: ChainableCommander,
    keys: { job: string; results: string },
    lists: readonly (readonly string[])[] | undefined,
  ): boolean;
}

const SEP = '\x1f';
/**
 * Compare-and-set attempts for one event before giving up. Each round of concurrent writers of one message lets at
 * least one through, so n concurrent events need at most n rounds; a short random wait spreads the losers out.
 */
const CAS_ATTEMPTS = 64;
const casWait = (attempt: number) => new Promise((r) => setTimeout(r, Math.random() * Math.min(20, 2 * attempt)));
const LOOKUPS_PER_CALL = 1000;

const packSuppression = (s: SuppressedAddress) => [s.reason, s.at, s.messageId ?? ''].join(SEP);

function unpackSuppression(address: string, packed: string): SuppressedAddress {
  const [reason, at, messageId] = packed.split(SEP);
  const entry: SuppressedAddress = { address, reason: reason as SuppressionReason, at };
  if (messageId) entry.messageId = messageId;
  return entry;
}

function parseRecipients(text: string): string[] | undefined {
  if (!text) return undefined;
  try {
    const list = JSON.parse(text);
    return Array.isArray(list) ? list.map(String) : undefined;
  } catch {
    return undefined;
  }
}

/** `field → value` pairs of a guard hash (`<start>:<count field>`) as buckets in time order. */
function bucketsOf(flat: string[]): GuardBucket[] {
  const byStart = new Map<number, GuardBucket>();
  for (let i = 0; i < flat.length; i += 2) {
    const match = /^(\d+):(sent|delivered|bounced|complained)$/.exec(flat[i]);
    if (!match) continue;
    const start = Number(match[1]);
    let bucket = byStart.get(start);
    if (!bucket) {
      bucket = { start, sent: 0, delivered: 0, bounced: 0, complained: 0 };
      byStart.set(start, bucket);
    }
    bucket[match[2] as keyof GuardCounts] += Number(flat[i + 1]) || 0;
  }
  return [...byStart.values()].sort((a, b) => a.start - b.start);
}

/** The guard keys of one window: the TTL and the pruning point (buckets wholly before the window). */
function guardWindow(now: number, windowMs: number) {
  const width = guardBucketWidth({ windowMs });
  return { ttlMs: windowMs + 2 * width, pruneBefore: now - windowMs - width };
}

export function redisFeedback(client: Redis, tag: string, now: () => number): RedisFeedback {
  client.defineCommand('ebeLinkMessages', { lua: LINK_MESSAGES });
  client.defineCommand('ebeSetDelivery', { lua: SET_DELIVERY, numberOfKeys: 2 });
  client.defineCommand('ebeGetFeedback', { lua: GET_FEEDBACK });
  client.defineCommand('ebeAddSuppressions', { lua: ADD_SUPPRESSIONS, numberOfKeys: 3 });
  client.defineCommand('ebeRemoveSuppression', { lua: REMOVE_SUPPRESSION, numberOfKeys: 3 });
  client.defineCommand('ebeAddGuardCounts', { lua: ADD_GUARD_COUNTS, numberOfKeys: 1 });
  client.defineCommand('ebeSaveRecipients', { lua: SAVE_RECIPIENTS, numberOfKeys: 2 });
  const scripts = client as unknown as Redis & Scripts;

  const messageKey = (messageId: string) => `${tag}:m:${messageId}`;
  const jobKey = (jobId: string) => `${tag}:job:${jobId}`;
  const listKeys = (list: string) => [`${tag}:sup:${list}`, `${tag}:supa:${list}`, `${tag}:supt:${list}`];
  const guardPrefix = (windowMs: number) => `${tag}:g:${windowMs}:`;
  const pauseKey = (principalId: string) => `${tag}:pause:${principalId}`;

  const methods: FeedbackStore = {
    async recordDelivery(update) {
      const key = messageKey(update.messageId);
      for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
        const h = await client.hgetall(key);
        if (!h.j) return null;
        const read = h.d ?? '';
        const previous = decodeDelivery(read);
        const outcome = mergeDelivery(previous, update);
        const message = {
          messageId: update.messageId,
          jobId: h.j,
          index: Number(h.i),
          principalId: h.p,
          recipients: parseRecipients(h.r ?? '') ?? [],
        };
        if (outcome.duplicate) return { message, previous, outcome };
        const deltas = deliveryCountDeltas(previous?.status, outcome.state.status).flat();
        const written = Number(
          await scripts.ebeSetDelivery(key, jobKey(h.j), read, encodeDelivery(outcome.state), ...deltas),
        );
        if (written === 1) return { message, previous, outcome };
        if (written === -1) return null;
        await casWait(attempt + 1);
      }
      throw new Error(`redisStore: the delivery state of message ${update.messageId} kept changing`);
    },

    async findSuppressions(list, addresses) {
      const [hash] = listKeys(list);
      const unique = [...new Set(addresses)];
      if (unique.length === 0) return []; // HMGET of a missing list answers nils: no EXISTS round trip first
      const pipeline = client.pipeline();
      for (let i = 0; i < unique.length; i += LOOKUPS_PER_CALL) {
        pipeline.hmget(hash, ...unique.slice(i, i + LOOKUPS_PER_CALL));
      }
      const replies = (await pipeline.exec()) ?? [];
      const found: SuppressedAddress[] = [];
      replies.forEach(([err, values], batch) => {
        if (err) throw err;
        (values as (string | null)[]).forEach((packed, i) => {
          if (packed !== null) found.push(unpackSuppression(unique[batch * LOOKUPS_PER_CALL + i], packed));
        });
      });
      return found;
    },

    async addSuppressions(list, entries, maxAddresses) {
      if (entries.length === 0) return 0;
      const pairs = entries.flatMap((e) => [e.address, packSuppression(e)]);
      return Number(await scripts.ebeAddSuppressions(...listKeys(list), Math.max(1, maxAddresses), now(), ...pairs));
    },

    async removeSuppression(list, address) {
      return Number(await scripts.ebeRemoveSuppression(...listKeys(list), address)) === 1;
    },

    async listSuppressions(list, after, limit) {
      const [hash, lex] = listKeys(list);
      const addresses = await client.zrangebylex(lex, after === null ? '-' : `(${after}`, '+', 'LIMIT', 0, limit);
      if (addresses.length === 0) return [];
      const packed = await client.hmget(hash, ...addresses);
      const out: SuppressedAddress[] = [];
      addresses.forEach((address, i) => {
        const value = packed[i];
        if (value !== null) out.push(unpackSuppression(address, value));
      });
      return out;
    },

    async addGuardCounts(principalId, at, counts, windowMs) {
      const { ttlMs, pruneBefore } = guardWindow(now(), windowMs);
      const start = guardBucketStart(at, { windowMs });
      const pairs = Object.entries(counts).filter(([, n]) => typeof n === 'number' && n > 0 && Number.isFinite(n));
      // Counts older than the window are not added (as recordGuardCounts does).
      const add = start > pruneBefore && pairs.length > 0 ? String(start) : '';
      const flat = (await scripts.ebeAddGuardCounts(
        guardPrefix(windowMs) + principalId,
        add,
        ttlMs,
        pruneBefore,
        ...pairs.flat(),
      )) as string[];
      return bucketsOf(flat);
    },

    async resetGuard(principalId, windowMs) {
      await client.del(guardPrefix(windowMs) + principalId);
    },

    async getPrincipalPause(principalId) {
      const json = await client.get(pauseKey(principalId));
      return json === null ? null : (JSON.parse(json) as PrincipalPause);
    },

    async setPrincipalPause(principalId, pause) {
      if (pause === null) return (await client.del(pauseKey(principalId))) === 1;
      return (await client.set(pauseKey(principalId), JSON.stringify(pause), 'NX')) === 'OK';
    },

    async activeJobIds(principalId) {
      return client.smembers(`${tag}:active:${principalId}`);
    },

    async markSeen(id, ttlMs) {
      const set = await client.set(`${tag}:seen:${id}`, '1', 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX');
      return set !== 'OK';
    },

    async forgetSeen(id) {
      await client.del(`${tag}:seen:${id}`);
    },
  };

  return {
    methods,

    queueLinks(multi, keys, results, options, principalId) {
      const retentionMs = options?.messageRetentionMs;
      if (!retentionMs) return false;
      const sent = results.filter((r) => r.status === 'SUCCESS' && r.messageId !== undefined);
      if (sent.length === 0) return false;
      const windowMs = principalId === undefined ? undefined : options?.guardWindowMs;
      const at = now();
      const guard = windowMs ? guardWindow(at, windowMs) : { ttlMs: 0, pruneBefore: 0 };
      (multi as unknown as Scripts).ebeLinkMessages(
        3 + sent.length,
        keys.job,
        keys.results,
        windowMs ? guardPrefix(windowMs) + principalId : `${tag}:g:none`,
        ...sent.map((r) => messageKey(r.messageId as string)),
        Math.ceil(retentionMs),
        windowMs ? '1' : '',
        windowMs ? guardBucketStart(at, { windowMs }) : 0,
        guard.ttlMs,
        guard.pruneBefore,
        ...sent.map((r) => r.index),
      );
      return true;
    },

    async pageFeedback(resultsKey, start, count, messageIds) {
      if (count <= 0) return { recipients: [], delivery: [] };
      const reply = (await scripts.ebeGetFeedback(
        1 + messageIds.length,
        resultsKey,
        ...messageIds.map(messageKey),
        start,
        count,
      )) as string[];
      return {
        recipients: reply.slice(0, count).map(parseRecipients),
        delivery: reply.slice(count).map((d) => decodeDelivery(d)),
      };
    },

    queueRecipients(multi, keys, lists) {
      if (!lists?.length) return false;
      const fields = lists.flatMap((list, index) => [`r${index}`, JSON.stringify(list ?? [])]);
      (multi as unknown as Scripts).ebeSaveRecipients(keys.job, keys.results, ...fields);
      return true;
    },
  };
}
