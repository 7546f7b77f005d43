// Memory per sent entry with delivery feedback (results, recipients, the MessageId link): memory store heap, and Redis.
// Run: node --expose-gc --import tsx test/bench/feedback-memory.ts   (REDIS_URL=redis://… adds the Redis figures)
import { Redis } from 'ioredis';
import { redisStore } from '../../src/redis.js';
import { memoryStore } from '../../src/stores/memory-store.js';
import type { Store } from '../../src/types.js';
import { deleteKeysWith } from '../helpers/redis-keys.js';

const N = 20_000;
const messageId = (i: number) =>
  `0100019a${i.toString(16).padStart(8, '0')}-5f6a7b8c-9d0e-4f1a-8b2c-3d4e5f6a7b8c-000000`;

/** One job of N one-recipient entries, every entry SUCCESS and linked for 14 days, counted for a 24 h guard. */
async function fill(store: Store, id: string): Promise<void> {
  const at = new Date().toISOString();
  const counts = { sent: 0, failed: 0, pending: N, canceled: 0, suppressed: 0, unknown: 0 };
  const job = {
    id,
    principalId: 'p',
    status: 'queued' as const,
    createdAt: at,
    updatedAt: at,
    entries: N,
    recipients: N,
  };
  const recipients = Array.from({ length: N }, (_, i) => [`subscriber${i}@example.com`]);
  await store.createJob({ ...job, counts }, { content: { DefaultContent: {} } }, [], { recipients });
  for (let c = 0; c < N; c += 50) {
    const indexes = Array.from({ length: 50 }, (_, k) => c + k);
    await store.claimEntries(id, indexes, 't');
    const results = indexes.map((i) => ({
      index: i,
      status: 'SUCCESS' as const,
      attempts: 1,
      messageId: messageId(i),
    }));
    await store.recordResults(id, results, { messageRetentionMs: 14 * 86_400_000, guardWindowMs: 86_400_000 });
  }
}

const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const heap0 = process.memoryUsage().heapUsed;
const memory = memoryStore({ maxMessages: N });
await fill(memory, 'memory-job');
gc?.();
console.log(`memory store: ${((process.memoryUsage().heapUsed - heap0) / N).toFixed(0)} heap bytes per sent entry`);
await memory.close();

if (process.env.REDIS_URL) {
  const redis = new Redis(process.env.REDIS_URL);
  const prefix = `ebe-bench-feedback-${process.pid}`;
  const used = async () => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
  const before = await used();
  const store = redisStore({ connection: process.env.REDIS_URL, prefix });
  await fill(store, 'redis-job');
  const perEntry = (await used()) - before;
  const link = await redis.memory('USAGE', `{${prefix}}:s:m:${messageId(1)}`);
  console.log(
    `redis: ${(perEntry / N).toFixed(0)} bytes per sent entry (job, results, recipients, link); ${link} per link key`,
  );
  await store.close();
  await deleteKeysWith(redis, prefix);
  redis.disconnect();
}
