// Idempotency claims (issue 16): a claim lasts minutes, the live holder keeps it while it works, a dead holder's
// claim expires, and a retry that finds the holder's job already stored answers that job.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  fingerprint,
  IDEMPOTENCY_CLAIM_TTL_MS,
  IDEMPOTENCY_REFRESH_MS,
  idempotent,
  scopedKey,
} from '../../src/http/idempotency.js';
import { memoryStore } from '../../src/stores/memory-store.js';

const body = { hello: 'world' };
const answer = (id: string) => ({ status: 202, body: { success: true, data: { id } } });

describe('idempotency claims', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('are a few minutes long, refreshed by a live holder however long it takes', async () => {
    expect(IDEMPOTENCY_CLAIM_TTL_MS).toBeLessThanOrEqual(5 * 60_000);
    expect(IDEMPOTENCY_REFRESH_MS).toBeLessThan(IDEMPOTENCY_CLAIM_TTL_MS / 2);
    const store = memoryStore();
    let finish: () => void = () => undefined;
    const running = idempotent(store, 'p', 'k', body, () => new Promise((r) => (finish = () => r(answer('j1')))));
    await vi.advanceTimersByTimeAsync(4 * IDEMPOTENCY_CLAIM_TTL_MS);
    expect(await store.claimIdempotency(scopedKey('p', 'k'), fingerprint(body), 1000)).toEqual({ state: 'in_flight' });
    finish();
    expect(await running).toEqual({ response: answer('j1'), replayed: false });
    await store.close();
  });

  it('left by a dead holder expire after IDEMPOTENCY_CLAIM_TTL_MS; a retry then creates', async () => {
    const store = memoryStore();
    // The "dead holder": a claim nobody refreshes or completes.
    await store.claimIdempotency(scopedKey('p', 'k'), fingerprint(body), IDEMPOTENCY_CLAIM_TTL_MS, 'p', 'j-dead');
    const recover = async () => null;
    await expect(
      idempotent(store, 'p', 'k', body, async () => answer('j2'), { jobId: 'j2', recover }),
    ).rejects.toMatchObject({ code: 'IDEMPOTENCY_IN_FLIGHT' });
    await vi.advanceTimersByTimeAsync(IDEMPOTENCY_CLAIM_TTL_MS + 1);
    const retry = await idempotent(store, 'p', 'k', body, async () => answer('j2'), { jobId: 'j2', recover });
    expect(retry).toEqual({ response: answer('j2'), replayed: false });
    await store.close();
  });

  it('in flight whose job exists: the retry answers that job, replayed, and keeps the answer', async () => {
    const store = memoryStore();
    await store.claimIdempotency(scopedKey('p', 'k'), fingerprint(body), IDEMPOTENCY_CLAIM_TTL_MS, 'p', 'j-stored');
    const asked: string[] = [];
    const recover = async (id: string) => {
      asked.push(id);
      return answer(id);
    };
    const create = async () => answer('never');
    const retry = await idempotent(store, 'p', 'k', body, create, { jobId: 'j3', recover });
    expect(retry).toEqual({ response: answer('j-stored'), replayed: true });
    expect(asked).toEqual(['j-stored']);
    const again = await idempotent(store, 'p', 'k', body, create, { jobId: 'j4', recover });
    expect(again).toEqual({ response: answer('j-stored'), replayed: true });
    await store.close();
  });
});
