// The memory store against the shared Store contract, plus its own retention and capacity rules.
import { describe, expect, it } from 'vitest';
import { memoryStore } from '../../src/stores/memory-store.js';
import type { JobRecord } from '../../src/types.js';
import { describeStoreContract } from './store-contract.js';

describeStoreContract('memory', () => memoryStore());

function job(id: string, entries = 1): JobRecord {
  const at = new Date(0).toISOString();
  const counts = { sent: 0, failed: 0, pending: entries, canceled: 0, suppressed: 0, unknown: 0 };
  return { id, principalId: 'p', status: 'queued', createdAt: at, updatedAt: at, entries, recipients: entries, counts };
}

describe('memoryStore', () => {
  it('uses the injected clock for updatedAt and completedAt', async () => {
    let now = Date.parse('2026-03-01T00:00:00.000Z');
    const store = memoryStore({ clock: { now: () => now } });
    await store.createJob(job('a'), { content: { DefaultContent: {} } }, []);
    now += 1000;
    await store.claimEntries('a', [0], 't');
    now += 1000;
    const out = await store.recordResults('a', [{ index: 0, status: 'SUCCESS', attempts: 1 }]);
    expect(out.job.updatedAt).toBe('2026-03-01T00:00:02.000Z');
    expect(out.job.completedAt).toBe('2026-03-01T00:00:02.000Z');
  });

  it('drops finished jobs after the retention period, never unfinished ones', async () => {
    let now = 0;
    const store = memoryStore({ clock: { now: () => now }, retentionMs: 10_000 });
    await store.createJob(job('done'), { content: { DefaultContent: {} } }, []);
    await store.createJob(job('open'), { content: { DefaultContent: {} } }, []);
    await store.finishPending('done', { status: 'CANCELED', cancel: true });
    now = 9_999;
    expect(await store.getJob('done')).not.toBeNull();
    now = 10_000;
    expect(await store.getJob('done')).toBeNull();
    expect(await store.getPayload('done')).toBeNull();
    now = 10 * 24 * 3600_000;
    expect(await store.getJob('open')).not.toBeNull();
  });

  it('makes room by dropping the oldest finished jobs, and refuses when every job is unfinished', async () => {
    const store = memoryStore({ maxJobs: 2 });
    const content = { content: { DefaultContent: {} } };
    await store.createJob(job('a'), content, []);
    await store.createJob(job('b'), content, []);
    await expect(store.createJob(job('c'), content, [])).rejects.toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      status: 503,
    });
    await store.finishPending('a', { status: 'CANCELED', cancel: true });
    await store.createJob(job('c'), content, []);
    expect(await store.getJob('a')).toBeNull();
    expect(await store.getJob('b')).not.toBeNull();
  });

  it('sweeps expired idempotency keys', async () => {
    let now = 0;
    const store = memoryStore({ clock: { now: () => now } });
    await store.claimIdempotency('k', 'fp', 1000);
    now = 1000;
    expect(await store.claimIdempotency('k', 'other', 1000)).toEqual({ state: 'new' });
  });

  it('keeps a 100,000-entry job with packed message ids readable', async () => {
    const store = memoryStore();
    const n = 100_000;
    await store.createJob(job('big', n), { content: { DefaultContent: {} } }, []);
    const id = (i: number) => `0100018f${i.toString(16).padStart(8, '0')}-3c1b0e2a-4f6e-4c5d-9a7b-0123456789ab-000000`;
    for (let c = 0; c < n; c += 50) {
      const indexes = Array.from({ length: 50 }, (_, k) => c + k);
      await store.claimEntries('big', indexes, 't');
      await store.recordResults(
        'big',
        indexes.map((i) => ({ index: i, status: 'SUCCESS' as const, messageId: id(i), attempts: 1 })),
      );
    }
    const page = await store.getResults('big', 41_999, 1);
    expect(page[0].messageId).toBe(id(42_000));
    expect((await store.getJob('big'))?.status).toBe('completed');
  });
});
