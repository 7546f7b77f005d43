// The Redis store against the shared Store contract, plus key expiry, sharing between instances and outages.
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import * as vitest from 'vitest';
import { redisStore } from '../../src/redis.js';
import type { JobRecord } from '../../src/types.js';
import { describeFeedbackContract } from '../../src/testing/index.js';
import { describeStoreContract } from '../../src/testing/index.js';
import { deleteKeys, REDIS_URL, uniquePrefix } from './redis-helpers.js';

const prefix = uniquePrefix('store');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function job(id: string, entries = 2): JobRecord {
  const at = new Date().toISOString();
  const counts = { sent: 0, failed: 0, pending: entries, canceled: 0, suppressed: 0, unknown: 0 };
  return { id, principalId: 'p', status: 'queued', createdAt: at, updatedAt: at, entries, recipients: entries, counts };
}

describe.skipIf(!REDIS_URL)('redisStore', () => {
  afterAll(() => deleteKeys(prefix));

  describeStoreContract(vitest, 'redis', () => redisStore({ connection: REDIS_URL as string, prefix }));
  describeFeedbackContract(vitest, 'redis', () => redisStore({ connection: REDIS_URL as string, prefix }));

  it('accepts an ioredis instance and shares state between store instances', async () => {
    const instance = new Redis(REDIS_URL as string);
    const a = redisStore({ connection: instance, prefix });
    const b = redisStore({ connection: { host: instance.options.host, port: instance.options.port }, prefix });
    try {
      await a.createJob(job('shared'), { content: { DefaultContent: {} } }, []);
      expect(await b.claimEntries('shared', [0, 1], 'lease-b')).toEqual({ claimed: [0, 1], stale: [] });
      expect(await a.claimEntries('shared', [0], 'lease-a')).toEqual({ claimed: [], stale: [0] });
      expect(instance.status).not.toBe('end');
    } finally {
      await Promise.all([a.close(), b.close()]);
      instance.disconnect();
    }
  });

  it('gives a finished job’s keys the retention TTL (its payload goes at once), and none to an unfinished job', async () => {
    const store = redisStore({ connection: REDIS_URL as string, prefix, retentionMs: 60_000 });
    const redis = new Redis(REDIS_URL as string);
    try {
      await store.createJob(job('ttl', 1), { content: { DefaultContent: {} } }, []);
      expect(await redis.pttl(`{${prefix}}:s:job:ttl`)).toBe(-1);
      await store.claimEntries('ttl', [0], 'lease');
      await store.recordResults('ttl', [{ index: 0, status: 'SUCCESS', attempts: 1 }]);
      for (const key of ['', ':results']) {
        const ttl = await redis.pttl(`{${prefix}}:s:job:ttl${key}`);
        expect(ttl).toBeGreaterThan(50_000);
        expect(ttl).toBeLessThanOrEqual(60_000);
      }
      expect(await redis.exists(`{${prefix}}:s:job:ttl:payload`)).toBe(0);
    } finally {
      await store.close();
      redis.disconnect();
    }
  });

  it('keeps the job list under the hash tag; expired jobs leave it (when listed, and two at a time on create)', async () => {
    const store = redisStore({ connection: REDIS_URL as string, prefix, retentionMs: 300 });
    const redis = new Redis(REDIS_URL as string);
    const principalId = `lister-${Date.now()}`;
    const list = `{${prefix}}:s:jobs:${principalId}`;
    const mine = (id: string) => ({ ...job(id, 1), principalId });
    try {
      for (const id of ['l1', 'l2', 'l3', 'l4']) {
        await store.createJob(mine(id), { content: { DefaultContent: {} } }, []);
        await store.finishPending(id, { status: 'CANCELED', cancel: true });
      }
      expect(await redis.zcard(list)).toBe(4);
      await sleep(400); // retention 300 ms: the jobs' keys expire
      // a page looks at limit + 1 members (l4, l3): both gone, so they leave the list
      expect(await store.listJobs(principalId, { limit: 1 })).toEqual({
        jobs: [],
        next: { at: expect.any(Number), id: 'l4' },
      });
      expect(await redis.zrange(list, '0', '-1')).toEqual([
        expect.stringMatching(/:l1$/),
        expect.stringMatching(/:l2$/),
      ]);
      // creating a job drops the two oldest members whose jobs are gone
      await store.createJob(mine('l5'), { content: { DefaultContent: {} } }, []);
      expect(await redis.zrange(list, '0', '-1')).toEqual([expect.stringMatching(/:l5$/)]);
      const page = await store.listJobs(principalId, { limit: 5 });
      expect(page.jobs.map((j) => j.id)).toEqual(['l5']);
    } finally {
      await store.close();
      redis.disconnect();
    }
  });

  it('cancels a 100,000-entry job without touching each entry', async () => {
    const store = redisStore({ connection: REDIS_URL as string, prefix });
    try {
      await store.createJob(job('huge', 100_000), { content: { DefaultContent: {} } }, []);
      await store.claimEntries('huge', [0, 1], 'lease');
      await store.recordResults('huge', [
        { index: 0, status: 'PENDING', error: { code: 'SES_THROTTLED', message: 'throttled' }, attempts: 1 },
      ]);
      const started = Date.now();
      const canceled = { code: 'CANCELED', message: 'canceled' };
      const out = await store.finishPending('huge', { status: 'CANCELED', error: canceled, cancel: true });
      expect(Date.now() - started).toBeLessThan(200);
      expect(out?.job.counts).toMatchObject({ canceled: 99_999, pending: 1 });
      const page = await store.getResults('huge', -1, 3);
      expect(page).toEqual([
        { index: 0, status: 'CANCELED', error: canceled, attempts: 1 },
        { index: 1, status: 'PENDING', attempts: 0 },
        { index: 2, status: 'CANCELED', error: canceled, attempts: 0 },
      ]);
    } finally {
      await store.close();
    }
  });
});

describe('redisStore when Redis is unreachable', () => {
  it('fails fast with SERVICE_UNAVAILABLE and never hangs', async () => {
    const store = redisStore({ connection: { host: '127.0.0.1', port: 1 }, prefix: 'ebe-unreachable' });
    try {
      for (let i = 0; i < 2; i++) {
        const started = Date.now();
        await expect(store.getJob('x')).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503 });
        expect(Date.now() - started).toBeLessThan(3000);
      }
    } finally {
      await store.close();
    }
  });
});
