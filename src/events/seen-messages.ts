// SeenMessages: remembers SNS MessageIds for a while, so a repeated delivery is acknowledged and not processed twice.

/**
 * The small store the SNS route dedupes through. A shared implementation (Redis: `SET key 1 NX PX ttl`) makes
 * every web instance see every other's messages; `memorySeenMessages()` serves one process.
 */
export interface SeenMessages {
  /** Marks `id` as seen for `ttlMs`; resolves `true` when it already was (a repeat). Must be atomic. */
  seen(id: string, ttlMs: number): Promise<boolean>;
  /** Unmarks `id`: its processing failed, so SNS's retry must be processed. */
  forget(id: string): Promise<void>;
}

export interface MemorySeenMessagesOptions {
  /** Ids kept at most; the oldest are dropped first (default 100,000 — about 10 MB). */
  maxEntries?: number;
  now?: () => number;
}

/**
 * In-process `SeenMessages`: a Map in insertion order, expired ids dropped as new ones come in, and the oldest
 * dropped beyond `maxEntries`. An id dropped early can be processed again if SNS repeats it after that; the
 * merge of delivery events is idempotent, so that costs a second write, not a second count.
 */
export function memorySeenMessages(options: MemorySeenMessagesOptions = {}): SeenMessages {
  const maxEntries = options.maxEntries ?? 100_000;
  const now = options.now ?? Date.now;
  const until = new Map<string, number>();

  function sweep(at: number): void {
    for (const [id, expiry] of until) {
      if (expiry > at && until.size <= maxEntries) break;
      until.delete(id);
    }
  }

  return {
    async seen(id, ttlMs) {
      const at = now();
      const expiry = until.get(id);
      if (expiry !== undefined && expiry > at) return true;
      until.delete(id);
      until.set(id, at + ttlMs);
      sweep(at);
      return false;
    },
    async forget(id) {
      until.delete(id);
    },
  };
}
