// ?status= / ?delivery= on results: strict parsing, and pages whose work is bounded however rare the matches.
import { describe, expect, it } from 'vitest';
import { MAX_SCANNED, filteredPage, parseResultsFilter } from '../../src/http/results-filter.js';
import { memoryStore } from '../../src/stores/memory-store.js';
import type { EntryResult, JobRecord, Store } from '../../src/types.js';

async function jobWith(store: Store, n: number, failed: number[]) {
  const at = new Date().toISOString();
  const job: JobRecord = {
    id: 'big',
    principalId: 'p',
    status: 'queued',
    createdAt: at,
    updatedAt: at,
    entries: n,
    recipients: n,
    counts: { sent: 0, failed: 0, pending: n, canceled: 0, suppressed: 0, unknown: 0 },
  };
  const initial: EntryResult[] = failed.map((index) => ({ index, status: 'SUPPRESSED', attempts: 0 }));
  await store.createJob(job, { content: { DefaultContent: {} } }, initial);
  return job;
}

describe('parseResultsFilter', () => {
  it('reads comma lists and repeated parameters case-insensitively; none → no filter', () => {
    expect(parseResultsFilter({})).toBeUndefined();
    const filter = parseResultsFilter({ status: ['success,Suppressed', 'PENDING'], delivery: 'bounced, none' });
    expect([...(filter?.status ?? [])]).toEqual(['SUCCESS', 'SUPPRESSED', 'PENDING']);
    expect([...(filter?.delivery ?? [])]).toEqual(['BOUNCED', 'NONE']);
  });

  it('refuses unknown values, empty items and non-strings with the parameter named', () => {
    for (const [query, path] of [
      [{ status: 'SENT' }, '/status'],
      [{ status: '' }, '/status'],
      [{ delivery: 'OPENED' }, '/delivery'],
      [{ delivery: { a: 'b' } }, '/delivery'],
      [{ status: 'x'.repeat(2000) }, '/status'],
    ] as const) {
      expect(() => parseResultsFilter(query as Record<string, unknown>)).toThrowError(
        expect.objectContaining({ code: 'VALIDATION_ERROR', details: [expect.objectContaining({ path })] }),
      );
    }
  });
});

describe('filteredPage', () => {
  it(`looks at no more than ${MAX_SCANNED} entries per page and continues from where it stopped`, async () => {
    const store = memoryStore();
    const job = await jobWith(store, 12_000, [3, 11_999]);
    const looked: number[] = [];
    const counting: Pick<Store, 'getResults'> = {
      getResults: async (id, after, limit) => {
        const batch = await store.getResults(id, after, limit);
        looked.push(batch.length);
        return batch;
      },
    };
    const filter = parseResultsFilter({ status: 'SUPPRESSED' }) as NonNullable<ReturnType<typeof parseResultsFilter>>;
    const pages: { results: number[]; last: number | null }[] = [];
    let after = -1;
    for (;;) {
      looked.length = 0;
      const page = await filteredPage(counting, job, after, 100, filter);
      expect(looked.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(MAX_SCANNED);
      pages.push({ results: page.results.map((r) => r.index), last: page.lastScanned });
      if (page.lastScanned === null) break;
      after = page.lastScanned;
    }
    expect(pages).toEqual([
      { results: [3], last: MAX_SCANNED - 1 },
      { results: [], last: 2 * MAX_SCANNED - 1 },
      { results: [11_999], last: null },
    ]);
  });

  it('stops at limit matches with the last match as the place to continue', async () => {
    const store = memoryStore();
    const job = await jobWith(store, 50, [1, 2, 3, 40]);
    const filter = parseResultsFilter({ status: 'SUPPRESSED' }) as NonNullable<ReturnType<typeof parseResultsFilter>>;
    const first = await filteredPage(store, job, -1, 2, filter);
    expect(first).toMatchObject({ lastScanned: 2 });
    expect(first.results.map((r) => r.index)).toEqual([1, 2]);
    const rest = await filteredPage(store, job, 2, 10, filter);
    expect(rest.results.map((r) => r.index)).toEqual([3, 40]);
    expect(rest.lastScanned).toBeNull();
  });
});
