// The memory store against the shared Store contract, plus its own retention and capacity rules (jobs, bytes, keys).
import { describe, expect, it } from 'vitest';
import * as vitest from 'vitest';
import { memoryStore } from '../../src/stores/memory-store.js';
import type { JobRecord } from '../../src/types.js';
import { describeFeedbackContract } from '../../src/testing/index.js';
import { describeStoreContract } from '../../src/testing/index.js';

describeStoreContract(vitest, 'memory', () => memoryStore());
describeFeedbackContract(vitest, 'memory', () => memoryStore());

function job(id: string, entries = 1, principalId = 'p'): JobRecord {
  const at = new Date(0).toISOString();
  const counts = { sent: 0, failed: 0, pending: entries, canceled: 0, suppressed: 0, unknown: 0 };
  return { id, principalId, status: 'queued', createdAt: at, updatedAt: at, entries, recipients: entries, counts };
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

  it('a job dropped after its retention leaves the job list', async () => {
    let now = 0;
    const store = memoryStore({ clock: { now: () => now }, retentionMs: 10_000 });
    await store.createJob(job('done'), { content: { DefaultContent: {} } }, []);
    await store.createJob(job('open'), { content: { DefaultContent: {} } }, []);
    await store.finishPending('done', { status: 'CANCELED', cancel: true });
    expect((await store.listJobs('p', { limit: 10 })).jobs.map((j) => j.id).sort()).toEqual(['done', 'open']);
    now = 10_000;
    expect((await store.listJobs('p', { limit: 10 })).jobs.map((j) => j.id)).toEqual(['open']);
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

  describe('bytes (maxBytes, maxBytesPerPrincipal)', () => {
    const content = { content: { DefaultContent: {} } };
    const KB = 1024;
    /** A one-entry job counting `kb` KiB (plus 72 bytes for its result). */
    const create = (store: ReturnType<typeof memoryStore>, id: string, kb: number, principal = 'p') =>
      store.createJob(job(id, 1, principal), content, [], { bytes: kb * KB });
    const finish = async (store: ReturnType<typeof memoryStore>, id: string) => {
      await store.claimEntries(id, [0], 't');
      await store.recordResults(id, [{ index: 0, status: 'SUCCESS', attempts: 1 }]);
    };

    it('503 with Retry-After when unfinished jobs fill maxBytes; a finished job gives its payload bytes back', async () => {
      const store = memoryStore({ maxBytes: 100 * KB, maxBytesPerPrincipal: 100 * KB });
      await create(store, 'a', 60);
      await expect(create(store, 'b', 60, 'other')).rejects.toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
        status: 503,
        retryAfter: expect.any(Number),
      });
      await finish(store, 'a');
      await create(store, 'b', 60, 'other');
      expect(await store.getJob('a')).not.toBeNull(); // its results still fit: only the payload went
    });

    it('drops the oldest finished jobs early when their results are what stands in the way', async () => {
      const store = memoryStore({ maxBytes: 20 * KB, maxBytesPerPrincipal: 20 * KB });
      for (const id of ['a', 'b']) {
        await store.createJob(job(id, 100), content, [], { bytes: 1 });
        await store.finishPending(id, { status: 'CANCELED', cancel: true });
      }
      await create(store, 'c', 10);
      expect(await store.getJob('a')).toBeNull();
      expect(await store.getJob('b')).not.toBeNull();
    });

    it('one principal past its share gets 429 while another is served; a job larger than a share gets 413', async () => {
      const store = memoryStore({ maxBytes: 400 * KB, maxBytesPerPrincipal: 100 * KB });
      await create(store, 'a1', 60, 'a');
      await expect(create(store, 'a2', 60, 'a')).rejects.toMatchObject({ code: 'RATE_LIMITED', status: 429 });
      await create(store, 'b1', 60, 'b');
      await expect(create(store, 'b2', 101, 'b')).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE', status: 413 });
      await finish(store, 'a1');
      await create(store, 'a2', 60, 'a');
    });

    it('estimates the size of a job created without `bytes` from its payload', async () => {
      const store = memoryStore({ maxBytes: 50 * KB, maxBytesPerPrincipal: 50 * KB });
      const big = { content: { DefaultContent: { Template: { TemplateData: 'x'.repeat(60 * KB) } } } };
      await expect(store.createJob(job('a'), big, [])).rejects.toMatchObject({ status: 413 });
    });

    it('refuses nonsense bounds at build time', () => {
      expect(() => memoryStore({ maxBytes: 0 })).toThrow(TypeError);
      expect(() => memoryStore({ maxIdempotencyKeys: -1 })).toThrow(/maxIdempotencyKeys must be at least 1/);
    });
  });

  describe('idempotency keys (maxIdempotencyKeys, maxIdempotencyKeysPerPrincipal)', () => {
    const response = { status: 202, body: {} };
    async function answered(store: ReturnType<typeof memoryStore>, key: string, scope: string) {
      await store.claimIdempotency(key, 'fp', 60_000, scope);
      await store.completeIdempotency(key, 'fp', response, 60_000);
    }
    const replays = async (store: ReturnType<typeof memoryStore>, key: string, scope: string) =>
      (await store.claimIdempotency(key, 'fp', 60_000, scope)).state === 'replay';

    it("a principal's flood of keys pushes out only its own oldest answered keys", async () => {
      const store = memoryStore({ maxIdempotencyKeysPerPrincipal: 3 });
      await answered(store, 'b-1', 'b');
      for (let i = 1; i <= 5; i++) await answered(store, `a-${i}`, 'a');
      expect(await replays(store, 'a-1', 'a')).toBe(false);
      expect(await replays(store, 'a-5', 'a')).toBe(true);
      expect(await replays(store, 'b-1', 'b')).toBe(true);
    });

    it('never drops a key whose first request is still running', async () => {
      const store = memoryStore({ maxIdempotencyKeysPerPrincipal: 2 });
      await store.claimIdempotency('running', 'fp', 60_000, 'a');
      for (let i = 0; i < 4; i++) await answered(store, `k-${i}`, 'a');
      expect(await store.claimIdempotency('running', 'fp', 60_000, 'a')).toEqual({ state: 'in_flight' });
    });

    it('bounds the keys of all principals together as well', async () => {
      const store = memoryStore({ maxIdempotencyKeys: 4, maxIdempotencyKeysPerPrincipal: 4 });
      for (let i = 0; i < 6; i++) await answered(store, `k-${i}`, `p-${i}`);
      const kept = [];
      // newest first: a claim of a forgotten key is a new claim, which would push out another
      for (let i = 5; i >= 0; i--) if (await replays(store, `k-${i}`, `p-${i}`)) kept.push(i);
      expect(kept).toEqual([5, 4, 3, 2]);
    });
  });
});
