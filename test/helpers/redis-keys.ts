// Deleting only the keys one suite or benchmark made: SCAN under its prefix, never FLUSHDB.
import { Redis } from 'ioredis';

/** Deletes every key under `{prefix}:` (the store's and the Redis queue's) and `prefix:` through an open client. */
export async function deleteKeysWith(redis: Redis, prefix: string): Promise<void> {
  for (const pattern of [`${prefix}:*`, `{${prefix}}:*`]) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  }
}

/** Deletes every key under `prefix:` on the Redis at `url`, with a client of its own. */
export async function deleteKeysAt(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url);
  try {
    await deleteKeysWith(redis, prefix);
  } finally {
    redis.disconnect();
  }
}
