// Child process for bench 4 (run with --expose-gc): bytes per stored entry in the memory store and the Redis store.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { deleteKeysWith } from '../../helpers/redis-keys.js';
import { memoryStore } from '../../../src/index.js';
import { redisStore } from '../../../src/redis.js';
import type { EntryResult, JobRecord, Store } from '../../../src/types.js';
import { serve } from './rpc.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('store-memory.ts needs --expose-gc');

/** A message id shaped like SES's (60 characters). */
const messageId = (i: number) =>
  `0100019${i.toString(16).padStart(9, '0')}-5c2b3f6e-7a1d-4e5f-9c8b-1a2b3c4d5e6f-000000`;

function jobRecord(n: number): JobRecord {
  const now = new Date().toISOString();
  return {
    id: randomUUID(),
    principalId: 'bench',
    status: 'queued',
    createdAt: now,
    updatedAt: now,
    entries: n,
    recipients: n,
    counts: { sent: 0, failed: 0, pending: n, canceled: 0, suppressed: 0, unknown: 0 },
  };
}

const content = {
  FromEmailAddress: 'Sender <sender@example.com>',
  DefaultContent: {
    Template: { TemplateContent: { Subject: 'Hello {{name}}', Text: 'Hi {{name}}' }, TemplateData: '{}' },
  },
};

/** Claims and records SUCCESS for every entry, 50 at a time, as the dispatcher does. */
async function sendAll(store: Store, id: string, n: number): Promise<void> {
  for (let start = 0; start < n; start += 50) {
    const indexes = Array.from({ length: Math.min(50, n - start) }, (_, k) => start + k);
    await store.claimEntries(id, indexes, `lease-${start}`);
    const results: EntryResult[] = indexes.map((index) => ({
      index,
      status: 'SUCCESS',
      messageId: messageId(index),
      attempts: 1,
    }));
    await store.recordResults(id, results);
  }
}

const heap = () => {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1]);
}

async function keyBytes(redis: Redis, prefix: string): Promise<{ bytes: number; keys: number }> {
  let cursor = '0';
  let bytes = 0;
  let keys = 0;
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `{${prefix}}:*`, 'COUNT', 1000);
    for (const k of found) {
      bytes += Number((await redis.memory('USAGE', k, 'SAMPLES', 0)) ?? 0);
      keys += 1;
    }
    cursor = next;
  } while (cursor !== '0');
  return { bytes, keys };
}

serve({
  async memory(n: number) {
    const store = memoryStore();
    const before = heap();
    const job = jobRecord(n);
    await store.createJob(job, { content }, []);
    const pending = heap();
    await sendAll(store, job.id, n);
    const done = heap();
    const check = await store.getJob(job.id);
    await store.close();
    return { pendingBytes: (pending - before) / n, finishedBytes: (done - before) / n, status: check?.status };
  },
  async redis(args: { url: string; n: number }) {
    const { url, n } = args;
    const prefix = `ebe-bench-${randomUUID().slice(0, 8)}`;
    const redis = new Redis(url);
    const store = redisStore({ connection: url, prefix });
    try {
      const job = jobRecord(n);
      const before = await usedMemory(redis);
      await store.createJob(job, { content }, []);
      const pendingUsed = await usedMemory(redis);
      const pendingKeys = await keyBytes(redis, prefix);
      await sendAll(store, job.id, n);
      const doneUsed = await usedMemory(redis);
      const doneKeys = await keyBytes(redis, prefix);
      const check = await store.getJob(job.id);
      return {
        status: check?.status,
        pendingUsedBytes: (pendingUsed - before) / n,
        finishedUsedBytes: (doneUsed - before) / n,
        pendingKeyBytes: pendingKeys.bytes / n,
        finishedKeyBytes: doneKeys.bytes / n,
        keys: doneKeys.keys,
      };
    } finally {
      await store.close();
      await deleteKeysWith(redis, prefix);
      redis.disconnect();
    }
  },
});
