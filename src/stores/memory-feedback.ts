// memoryFeedback(): the memory store's delivery feedback — sent messages, suppression lists, guard counts, pauses.
import { type DeliveryState, mergeDelivery } from '../events/delivery-state.js';
import { type GuardBucket, recordGuardCounts } from '../events/reputation-guard.js';
import { memorySeenMessages } from '../events/seen-messages.js';
import type { Clock, FeedbackStore, JobCounts, PrincipalPause, SentMessage, SuppressedAddress } from '../types.js';
import { decodeDelivery, encodeDelivery } from './delivery-codec.js';
import { deliveryCountDeltas } from './delivery-counts.js';

export interface MemoryFeedbackOptions {
  clock: Pick<Clock, 'now'>;
  /** Sent messages kept at most; the oldest go first (default 100,000, about 25 MB). */
  maxMessages?: number;
}

/** What the feedback part needs from the memory store that holds it. */
export interface MemoryFeedbackHost {
  /** The live counts of a kept job (changed in place), or undefined. */
  countsOf(jobId: string): JobCounts | undefined;
  activeJobIds(principalId: string): string[];
}

interface Kept {
  jobId: string;
  index: number;
  principalId: string;
  /** JSON array: one string instead of an array of strings. */
  recipients: string;
  until: number;
  /** `encodeDelivery` of the state, once an event arrived. */
  delivery?: string;
}

interface SuppressionList {
  byAddress: Map<string, SuppressedAddress>;
  /** The addresses in code-unit order, for pages. */
  sorted: string[];
}

export interface MemoryFeedback {
  /** The FeedbackStore methods, for the memory store to expose. */
  methods: FeedbackStore;
  /** Links a SUCCESS entry's MessageId (first link wins); true when it is new. */
  link(message: SentMessage, retentionMs: number): boolean;
  /** The delivery state of a linked message. */
  deliveryOf(messageId: string): DeliveryState | undefined;
  clear(): void;
}

/** First index in `sorted` whose value is greater than `value` (or equal, with `inclusive`). */
function search(sorted: readonly string[], value: string, inclusive: boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < value || (!inclusive && sorted[mid] === value)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const GUARD_SWEEP_AT = 10_000;

export function memoryFeedback(host: MemoryFeedbackHost, options: MemoryFeedbackOptions): MemoryFeedback {
  const { clock } = options;
  const maxMessages = options.maxMessages ?? 100_000;
  if (!(maxMessages >= 1)) throw new TypeError(`memoryStore: maxMessages must be at least 1, got ${maxMessages}`);
  /** In the order they were linked: with one retention, that is expiry order. */
  const messages = new Map<string, Kept>();
  const lists = new Map<string, SuppressionList>();
  const guards = new Map<string, { windowMs: number; buckets: GuardBucket[] }>();
  const pauses = new Map<string, PrincipalPause>();
  const seen = memorySeenMessages({ now: () => clock.now() });

  function sweepMessages(now: number): void {
    for (const [id, kept] of messages) {
      if (kept.until > now && messages.size <= maxMessages) break;
      messages.delete(id);
    }
  }

  function find(messageId: string): Kept | undefined {
    const kept = messages.get(messageId);
    if (!kept) return undefined;
    if (kept.until > clock.now()) return kept;
    messages.delete(messageId);
    return undefined;
  }

  function sentMessage(messageId: string, kept: Kept): SentMessage {
    const { jobId, index, principalId } = kept;
    return { messageId, jobId, index, principalId, recipients: JSON.parse(kept.recipients) as string[] };
  }

  function removeFrom(list: SuppressionList, address: string): void {
    list.byAddress.delete(address);
    const at = search(list.sorted, address, true);
    if (list.sorted[at] === address) list.sorted.splice(at, 1);
  }

  const guardKey = (principalId: string, windowMs: number) => `${windowMs}:${principalId}`;

  function sweepGuards(now: number): void {
    if (guards.size < GUARD_SWEEP_AT) return;
    for (const [key, g] of guards) {
      const newest = g.buckets.at(-1);
      if (!newest || newest.start + 2 * g.windowMs < now) guards.delete(key);
    }
  }

  const methods: FeedbackStore = {
    async recordDelivery(update) {
      const kept = find(update.messageId);
      if (!kept) return null;
      const previous = decodeDelivery(kept.delivery);
      const outcome = mergeDelivery(previous, update);
      if (!outcome.duplicate) {
        kept.delivery = encodeDelivery(outcome.state);
        const counts = host.countsOf(kept.jobId);
        if (counts) {
          for (const [field, delta] of deliveryCountDeltas(previous?.status, outcome.state.status)) {
            counts[field] = (counts[field] ?? 0) + delta;
          }
        }
      }
      return { message: sentMessage(update.messageId, kept), previous, outcome };
    },

    async findSuppressions(list, addresses) {
      const entries = lists.get(list)?.byAddress;
      if (!entries) return [];
      const found: SuppressedAddress[] = [];
      for (const address of new Set(addresses)) {
        const entry = entries.get(address);
        if (entry) found.push({ ...entry });
      }
      return found;
    },

    async addSuppressions(name, entries, maxAddresses) {
      let list = lists.get(name);
      if (!list) {
        list = { byAddress: new Map(), sorted: [] };
        lists.set(name, list);
      }
      let added = 0;
      for (const entry of entries) {
        if (list.byAddress.has(entry.address)) continue;
        while (list.byAddress.size >= Math.max(1, maxAddresses)) {
          removeFrom(list, list.byAddress.keys().next().value as string);
        }
        const kept: SuppressedAddress = { address: entry.address, reason: entry.reason, at: entry.at };
        if (entry.messageId !== undefined) kept.messageId = entry.messageId;
        list.byAddress.set(entry.address, kept);
        list.sorted.splice(search(list.sorted, entry.address, true), 0, entry.address);
        added++;
      }
      return added;
    },

    async removeSuppression(name, address) {
      const list = lists.get(name);
      if (!list?.byAddress.has(address)) return false;
      removeFrom(list, address);
      if (list.byAddress.size === 0) lists.delete(name);
      return true;
    },

    async listSuppressions(name, after, limit) {
      const list = lists.get(name);
      if (!list) return [];
      const start = after === null ? 0 : search(list.sorted, after, false);
      return list.sorted
        .slice(start, start + Math.max(0, limit))
        .map((address) => ({ ...(list.byAddress.get(address) as SuppressedAddress) }));
    },

    async addGuardCounts(principalId, at, counts, windowMs) {
      const key = guardKey(principalId, windowMs);
      const buckets = recordGuardCounts(guards.get(key)?.buckets ?? [], at, counts, { windowMs });
      guards.set(key, { windowMs, buckets });
      sweepGuards(clock.now());
      return buckets.map((b) => ({ ...b }));
    },

    async resetGuard(principalId, windowMs) {
      guards.delete(guardKey(principalId, windowMs));
    },

    async getPrincipalPause(principalId) {
      const pause = pauses.get(principalId);
      return pause ? { ...pause } : null;
    },

    async setPrincipalPause(principalId, pause) {
      if (pause === null) return pauses.delete(principalId);
      if (pauses.has(principalId)) return false;
      pauses.set(principalId, { ...pause });
      return true;
    },

    async activeJobIds(principalId) {
      return host.activeJobIds(principalId);
    },

    markSeen: (id, ttlMs) => seen.seen(id, ttlMs),
    forgetSeen: (id) => seen.forget(id),
  };

  return {
    methods,
    link(message, retentionMs) {
      const now = clock.now();
      if (find(message.messageId)) return false;
      messages.set(message.messageId, {
        jobId: message.jobId,
        index: message.index,
        principalId: message.principalId,
        recipients: JSON.stringify(message.recipients),
        until: now + retentionMs,
      });
      sweepMessages(now);
      return true;
    },
    deliveryOf: (messageId) => decodeDelivery(find(messageId)?.delivery),
    clear() {
      messages.clear();
      lists.clear();
      guards.clear();
      pauses.clear();
    },
  };
}
