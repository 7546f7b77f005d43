// GET / cost in the stores: one page of a principal's 10,000 jobs (first page, deep page, filtered page), memory and
// Redis. Standalone: `REDIS_URL=redis://127.0.0.1:6379 npx tsx test/bench/list-jobs.ts` (Redis part skipped without it).
import { randomUUID } from 'node:crypto';
import { redisStore } from '../../src/redis.js';
import { memoryStore } from '../../src/stores/memory-store.js';
import type { JobRecord, Store } from '../../src/types.js';
import { deleteKeysAt } from '../helpers/redis-keys.js';

const N = 10_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');
const counts = { sent: 0, failed: 0, pending: 1, canceled: 0, suppressed: 0, unknown: 0 };

/** N one-entry jobs one second apart; every 100th paused. */
async function fill(store: Store, principalId: string): Promise<void> {
  for (let i = 0; i < N; i++) {
    const at = new Date(T0 + i * 1000).toISOString();
    const id = `${principalId}-${i}`;
    const job: JobRecord = {
      id,
      principalId,
      status: 'queued',
      createdAt: at,
      updatedAt: at,
      entries: 1,
      recipients: 1,
      counts,
    };
    await store.createJob(job, { content: { DefaultContent: {} } }, []);
    if (i % 100 === 0) await store.setPaused(id, true);
  }
}

async function time(label: string, page: () => Promise<unknown>, n = 50): Promise<void> {
  await page();
  const t = performance.now();
  for (let i = 0; i < n; i++) await page();
  console.log(`| ${label} | ${((performance.now() - t) / n).toFixed(2)} ms |`);
}

const prefix = `ebe-bench-list-${randomUUID().slice(0, 8)}`;
const stores: [string, Store][] = [['memory', memoryStore({ maxJobs: 2 * N })]];
if (process.env.REDIS_URL) stores.push(['redis', redisStore({ connection: process.env.REDIS_URL, prefix })]);
console.log('| store, page | time per page |\n| --- | --- |');
for (const [name, store] of stores) {
  const p = `bench-${randomUUID().slice(0, 8)}`;
  await fill(store, p);
  await time(`${name}: first page, limit 20`, () => store.listJobs(p, { limit: 20 }));
  const middle = { at: T0 + (N / 2) * 1000, id: `${p}-${N / 2}` };
  await time(`${name}: a page in the middle, limit 100`, () => store.listJobs(p, { after: middle, limit: 100 }));
  await time(`${name}: ?status=paused (1 job in 100), limit 20, scan ≤ 1,000`, () =>
    store.listJobs(p, { limit: 20, statuses: ['paused'], scanLimit: 1000 }),
  );
  await store.close();
}
if (process.env.REDIS_URL) await deleteKeysAt(process.env.REDIS_URL, prefix);
