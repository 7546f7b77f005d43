// The Redis webhook outbox (redisStore().webhookOutbox()) passes the outbox contract; its keys sit under the store's hash tag.
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { redisStore } from '../../src/redis.js';
import { REDIS_URL, deleteKeys, uniquePrefix } from '../integ/redis-helpers.js';
import * as vitest from 'vitest';
import { describeWebhookOutboxContract } from '../../src/testing/index.js';

const prefixes: string[] = [];
afterAll(async () => {
  for (const prefix of prefixes) await deleteKeys(prefix);
});

describe.skipIf(!REDIS_URL)('redis outbox', () => {
  describeWebhookOutboxContract(vitest, 'redis', () => {
    const prefix = uniquePrefix('outbox');
    prefixes.push(prefix);
    const store = redisStore({ connection: REDIS_URL as string, prefix });
    const outbox = store.webhookOutbox?.();
    if (!outbox) throw new Error('redisStore has no webhook outbox');
    return { ...outbox, close: () => store.close() };
  });

  it('keeps every key under the store’s hash tag and survives a new store object', async () => {
    const prefix = uniquePrefix('outbox-keys');
    prefixes.push(prefix);
    const store = redisStore({ connection: REDIS_URL as string, prefix });
    const outbox = store.webhookOutbox?.();
    expect(store.webhookOutbox?.()).toBe(outbox);
    await outbox?.add({
      id: 'm1',
      principalId: 'p',
      url: 'https://h.example.com/x',
      type: 'job.completed',
      body: '{"a":"é\\n"}',
      createdAt: 1_700_000_000_123,
      attempts: 0,
      nextAt: 1_700_000_000_123,
    });
    await store.close();
    const redis = new Redis(REDIS_URL as string);
    try {
      const keys = await redis.keys(`*${prefix}*`);
      expect(keys.length).toBeGreaterThan(0);
      for (const key of keys) expect(key.startsWith(`{${prefix}}:`)).toBe(true);
    } finally {
      redis.disconnect();
    }
    const again = redisStore({ connection: REDIS_URL as string, prefix });
    try {
      const [m] = (await again.webhookOutbox?.().due(1_800_000_000_000, 10, 1000)) ?? [];
      expect(m).toMatchObject({ id: 'm1', body: '{"a":"é\\n"}', createdAt: 1_700_000_000_123, attempts: 0 });
    } finally {
      await again.close();
    }
  });
});
