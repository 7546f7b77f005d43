// describeStoreContract(): the behaviour every Store must show (memory, Redis, or an app's own).
import { randomUUID } from 'node:crypto';
import type { TestApi } from './test-api.js';
import type { EntryResult, JobPayload, JobRecord, Store } from '../types.js';

const payload: JobPayload = {
  content: {
    FromEmailAddress: 'sender@example.com',
    DefaultContent: { Template: { TemplateName: 'welcome', TemplateData: '{}' } },
  },
};

/** A queued job record of `entries` entries (two recipients each) with a fresh id. */
export function jobRecord(principalId: string, entries: number, overrides: Partial<JobRecord> = {}): JobRecord {
  const at = new Date().toISOString();
  return {
    id: `job-${randomUUID()}`,
    principalId,
    status: 'queued',
    createdAt: at,
    updatedAt: at,
    entries,
    recipients: entries * 2,
    counts: { sent: 0, failed: 0, pending: entries, canceled: 0, suppressed: 0, unknown: 0 },
    ...overrides,
  };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const success = (index: number, attempts = 1): EntryResult => ({
  index,
  status: 'SUCCESS',
  messageId: `msg-${index}`,
  attempts,
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TOKEN = 'lease-1';
const OTHER = 'lease-2';
const err = (code: string, message = code.toLowerCase()) => ({ code, message });

function expectConsistent(expect: TestApi['expect'], job: JobRecord | null): asserts job is JobRecord {
  expect(job).not.toBeNull();
  const c = (job as JobRecord).counts;
  expect(c.sent + c.failed + c.pending + c.canceled).toBe((job as JobRecord).entries);
  expect(c.suppressed + c.unknown).toBeLessThanOrEqual(c.failed);
}

export function describeStoreContract(t: TestApi, name: string, makeStore: () => Store | Promise<Store>): void {
  const { afterEach, beforeEach, describe, expect, it } = t;
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    /** Unique per test: a shared store (Redis) keeps other tests' jobs. */
    let PRINCIPAL: string;
    beforeEach(async () => {
      PRINCIPAL = `principal-${randomUUID()}`;
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
    });

    async function created(entries: number, initial: EntryResult[] = [], overrides: Partial<JobRecord> = {}) {
      const job = jobRecord(PRINCIPAL, entries, overrides);
      await store.createJob(job, payload, initial);
      return job;
    }

    describe('jobs', () => {
      it('stores a job and its payload, and answers null for unknown ids', async () => {
        const job = await created(5, [], { estimatedCompletionAt: '2030-01-01T00:00:00.000Z' });
        const got = await store.getJob(job.id);
        expectConsistent(expect, got);
        expect(got).toMatchObject({
          id: job.id,
          principalId: PRINCIPAL,
          status: 'queued',
          createdAt: job.createdAt,
          entries: 5,
          recipients: 10,
          estimatedCompletionAt: '2030-01-01T00:00:00.000Z',
          counts: { sent: 0, failed: 0, pending: 5, canceled: 0, suppressed: 0, unknown: 0 },
        });
        expect(got.completedAt).toBeUndefined();
        expect(await store.getPayload(job.id)).toEqual(payload);
        expect(await store.getJob('no-such-job')).toBeNull();
        expect(await store.getPayload('no-such-job')).toBeNull();
      });

      it('returns copies: changing a returned job changes nothing stored', async () => {
        const job = await created(2);
        const got = await store.getJob(job.id);
        expectConsistent(expect, got);
        got.status = 'completed';
        got.counts.sent = 99;
        expect(await store.getJob(job.id)).toMatchObject({ status: 'queued', counts: { sent: 0, pending: 2 } });
      });

      it('applies initial results and counts suppressed as failed', async () => {
        const job = await created(4, [
          { index: 1, status: 'SUPPRESSED', attempts: 0 },
          {
            index: 3,
            status: 'INVALID_PARAMETER',
            error: err('INVALID_PARAMETER', 'missing variable name'),
            attempts: 0,
          },
        ]);
        const got = await store.getJob(job.id);
        expectConsistent(expect, got);
        expect(got.counts).toEqual({ sent: 0, failed: 2, pending: 2, canceled: 0, suppressed: 1, unknown: 0 });
        const results = await store.getResults(job.id, -1, 10);
        expect(results.map((r) => r.status)).toEqual(['PENDING', 'SUPPRESSED', 'PENDING', 'INVALID_PARAMETER']);
        expect(results[3].error).toEqual(err('INVALID_PARAMETER', 'missing variable name'));
      });

      it('records attempts up to 255 exactly (the bound retry.attempts keeps to)', async () => {
        const job = await created(3);
        await store.recordResults(job.id, [
          { index: 0, status: 'MESSAGE_REJECTED', attempts: 255 },
          { index: 1, status: 'TRANSIENT_FAILURE', attempts: 254 },
          { index: 2, status: 'PENDING', attempts: 7 },
        ]);
        const results = await store.getResults(job.id, -1, 10);
        expect(results.map((r) => r.attempts)).toEqual([255, 254, 7]);
      });

      it('stores a job whose every entry is final at creation as completed', async () => {
        const job = await created(2, [
          { index: 0, status: 'SUPPRESSED', attempts: 0 },
          { index: 1, status: 'SUPPRESSED', attempts: 0 },
        ]);
        const got = await store.getJob(job.id);
        expectConsistent(expect, got);
        expect(got.status).toBe('completed');
        expect(got.completedAt).toBeDefined();
        expect(await store.countActiveJobs(PRINCIPAL)).toBe(0);
      });
    });

    describe('results pagination', () => {
      it('pages in index order with `after` as the cursor', async () => {
        const job = await created(7);
        const first = await store.getResults(job.id, -1, 3);
        expect(first.map((r) => r.index)).toEqual([0, 1, 2]);
        expect(first[0]).toEqual({ index: 0, status: 'PENDING', attempts: 0 });
        expect((await store.getResults(job.id, 2, 3)).map((r) => r.index)).toEqual([3, 4, 5]);
        expect((await store.getResults(job.id, 5, 3)).map((r) => r.index)).toEqual([6]);
        expect(await store.getResults(job.id, 6, 3)).toEqual([]);
        expect(await store.getResults('no-such-job', -1, 3)).toEqual([]);
      });

      it('visits every index exactly once while results change between pages', async () => {
        const job = await created(25);
        const seen: number[] = [];
        let after = -1;
        for (;;) {
          const page = await store.getResults(job.id, after, 4);
          if (page.length === 0) break;
          seen.push(...page.map((r) => r.index));
          after = page[page.length - 1].index;
          const next = range(after + 1, Math.min(after + 3, 25));
          await store.claimEntries(job.id, next, TOKEN);
          await store.recordResults(
            job.id,
            next.map((i) => success(i)),
          );
        }
        expect(seen).toEqual(range(0, 25));
      });
    });

    describe('claims and results', () => {
      it('claims pending entries, shows them as PENDING and moves the job to sending', async () => {
        const job = await created(5);
        const claim = await store.claimEntries(job.id, [0, 1, 2], TOKEN);
        expect(claim).toEqual({ claimed: [0, 1, 2], stale: [] });
        const got = await store.getJob(job.id);
        expectConsistent(expect, got);
        expect(got.status).toBe('sending');
        expect(got.counts.pending).toBe(5);
        expect((await store.getResults(job.id, -1, 5)).map((r) => r.status)).toEqual(Array(5).fill('PENDING'));
      });

      it('ignores duplicate and out-of-range indexes, and unknown jobs', async () => {
        const job = await created(3);
        expect(await store.claimEntries(job.id, [1, 1, 7, -1], TOKEN)).toEqual({ claimed: [1], stale: [] });
        expect(await store.claimEntries('no-such-job', [0], TOKEN)).toEqual({
          claimed: [],
          stale: [],
          refused: 'gone',
        });
      });

      it('reports entries still in flight as stale to a second claim (a worker died)', async () => {
        const job = await created(4);
        await store.claimEntries(job.id, [0, 1], TOKEN);
        const second = await store.claimEntries(job.id, [0, 1, 2], OTHER);
        expect(second).toEqual({ claimed: [2], stale: [0, 1] });
        const out = await store.recordResults(job.id, [
          { index: 0, status: 'UNKNOWN', error: err('WORKER_STOPPED', 'worker died'), attempts: 1 },
          { index: 1, status: 'UNKNOWN', error: err('WORKER_STOPPED', 'worker died'), attempts: 1 },
        ]);
        expectConsistent(expect, out.job);
        expect(out.job.counts).toMatchObject({ failed: 2, unknown: 2, pending: 2 });
      });

      it('records outcomes with message ids, errors and attempts', async () => {
        const job = await created(3);
        await store.claimEntries(job.id, [0, 1, 2], TOKEN);
        const out = await store.recordResults(job.id, [
          success(0, 2),
          {
            index: 1,
            status: 'MESSAGE_REJECTED',
            error: err('MESSAGE_REJECTED', 'Email address is not verified'),
            attempts: 1,
          },
        ]);
        expect(out.finished).toBe(false);
        expectConsistent(expect, out.job);
        expect(out.job.counts).toMatchObject({ sent: 1, failed: 1, pending: 1 });
        expect(await store.getResults(job.id, -1, 2)).toEqual([
          { index: 0, status: 'SUCCESS', messageId: 'msg-0', attempts: 2 },
          {
            index: 1,
            status: 'MESSAGE_REJECTED',
            error: err('MESSAGE_REJECTED', 'Email address is not verified'),
            attempts: 1,
          },
        ]);
      });

      it('keeps long and non-ASCII message ids and errors intact', async () => {
        const job = await created(3);
        await store.claimEntries(job.id, [0, 1, 2], TOKEN);
        const long = `id-${'x'.repeat(300)}`;
        await store.recordResults(job.id, [
          { index: 0, status: 'SUCCESS', messageId: long, attempts: 1 },
          { index: 1, status: 'SUCCESS', messageId: 'idé-✓-日本', attempts: 1 },
          {
            index: 2,
            status: 'MESSAGE_REJECTED',
            error: err('MESSAGE_REJECTED', 'rejected: «bad» | a:b\nline two'),
            attempts: 3,
          },
        ]);
        expect(await store.getResults(job.id, -1, 3)).toEqual([
          { index: 0, status: 'SUCCESS', messageId: long, attempts: 1 },
          { index: 1, status: 'SUCCESS', messageId: 'idé-✓-日本', attempts: 1 },
          {
            index: 2,
            status: 'MESSAGE_REJECTED',
            error: err('MESSAGE_REJECTED', 'rejected: «bad» | a:b\nline two'),
            attempts: 3,
          },
        ]);
      });

      it('treats the SES doc spellings of two statuses as their SDK twins', async () => {
        const job = await created(2);
        await store.claimEntries(job.id, [0, 1], TOKEN);
        await store.recordResults(job.id, [
          { index: 0, status: 'TEMPLATE_DOES_NOT_EXIST' as never, attempts: 1 },
          { index: 1, status: 'CONFIGURATION_SET_DOES_NOT_EXIST' as never, attempts: 1 },
        ]);
        const statuses = (await store.getResults(job.id, -1, 2)).map((r) => r.status);
        expect(statuses).toEqual(['TEMPLATE_NOT_FOUND', 'CONFIGURATION_SET_NOT_FOUND']);
      });

      it('puts an entry back to wait with a PENDING result, and it can be claimed again', async () => {
        const job = await created(2);
        await store.claimEntries(job.id, [0, 1], TOKEN);
        await store.recordResults(job.id, [
          { index: 0, status: 'PENDING', error: err('ACCOUNT_THROTTLED', 'throttled'), attempts: 1 },
        ]);
        expect((await store.getResults(job.id, -1, 1))[0]).toEqual({
          index: 0,
          status: 'PENDING',
          error: err('ACCOUNT_THROTTLED', 'throttled'),
          attempts: 1,
        });
        expect(await store.claimEntries(job.id, [0, 1], OTHER)).toEqual({ claimed: [0], stale: [1] });
        await store.recordResults(job.id, [success(0, 2)]);
        expect((await store.getResults(job.id, -1, 1))[0]).toEqual({
          index: 0,
          status: 'SUCCESS',
          messageId: 'msg-0',
          attempts: 2,
        });
      });

      it('never overwrites a final status, SUCCESS above all', async () => {
        const job = await created(3);
        await store.claimEntries(job.id, [0, 1, 2], TOKEN);
        await store.recordResults(job.id, [success(0), { index: 1, status: 'MESSAGE_REJECTED', attempts: 1 }]);
        const out = await store.recordResults(job.id, [
          { index: 0, status: 'FAILED', error: err('FAILED', 'late duplicate'), attempts: 5 },
          { index: 0, status: 'PENDING', attempts: 5 },
          { index: 1, status: 'SUCCESS', messageId: 'nope', attempts: 5 },
        ]);
        expect(out.finished).toBe(false);
        expect(await store.claimEntries(job.id, [0, 1], TOKEN)).toEqual({ claimed: [], stale: [] });
        const results = await store.getResults(job.id, -1, 2);
        expect(results).toEqual([
          { index: 0, status: 'SUCCESS', messageId: 'msg-0', attempts: 1 },
          { index: 1, status: 'MESSAGE_REJECTED', attempts: 1 },
        ]);
      });

      it('completes the job when nothing is pending, and says finished exactly once', async () => {
        const job = await created(3);
        await store.claimEntries(job.id, [0, 1, 2], TOKEN);
        const first = await store.recordResults(job.id, [success(0), success(1)]);
        expect(first.finished).toBe(false);
        const last = await store.recordResults(job.id, [{ index: 2, status: 'TRANSIENT_FAILURE', attempts: 6 }]);
        expect(last.finished).toBe(true);
        expectConsistent(expect, last.job);
        expect(last.job.status).toBe('completed');
        expect(last.job.completedAt).toBeDefined();
        expect(last.job.counts).toMatchObject({ sent: 2, failed: 1, pending: 0 });
        const again = await store.recordResults(job.id, [success(2)]);
        expect(again.finished).toBe(false);
        expect(again.job.status).toBe('completed');
      });

      it('says finished exactly once when many writers record at the same time', async () => {
        const job = await created(200);
        for (let c = 0; c < 200; c += 50) await store.claimEntries(job.id, range(c, c + 50), TOKEN);
        const writes = range(0, 20).map((w) =>
          store.recordResults(
            job.id,
            range(w * 10, w * 10 + 10).map((i) => success(i)),
          ),
        );
        const duplicates = range(0, 20).map((w) =>
          store.recordResults(
            job.id,
            range(w * 10, w * 10 + 10).map((i) => success(i)),
          ),
        );
        const outcomes = await Promise.all([...writes, ...duplicates]);
        expect(outcomes.filter((o) => o.finished)).toHaveLength(1);
        const got = await store.getJob(job.id);
        expectConsistent(expect, got);
        expect(got).toMatchObject({ status: 'completed', counts: { sent: 200, pending: 0 } });
      });
    });

    describe('finishPending', () => {
      it('cancels waiting entries only; in-flight ones finish later and then the job is complete', async () => {
        const job = await created(6);
        await store.claimEntries(job.id, [0, 1, 2], TOKEN);
        await store.recordResults(job.id, [success(0)]);
        const canceled = await store.finishPending(job.id, { status: 'CANCELED', cancel: true });
        expect(canceled).not.toBeNull();
        expect(canceled?.finished).toBe(false);
        expectConsistent(expect, canceled?.job ?? null);
        expect(canceled?.job).toMatchObject({ status: 'canceled', counts: { sent: 1, canceled: 3, pending: 2 } });
        expect(canceled?.job.completedAt).toBeUndefined();
        expect((await store.getResults(job.id, -1, 6)).map((r) => r.status)).toEqual([
          'SUCCESS',
          'PENDING',
          'PENDING',
          'CANCELED',
          'CANCELED',
          'CANCELED',
        ]);
        expect(await store.countActiveJobs(PRINCIPAL)).toBe(0);

        const first = await store.recordResults(job.id, [success(1)]);
        expect(first.finished).toBe(false);
        const last = await store.recordResults(job.id, [
          { index: 2, status: 'PENDING', error: err('ACCOUNT_THROTTLED', 'throttled'), attempts: 1 },
        ]);
        expect(last.finished).toBe(true);
        expectConsistent(expect, last.job);
        expect(last.job).toMatchObject({ status: 'canceled', counts: { sent: 2, canceled: 4, pending: 0 } });
        expect(last.job.completedAt).toBeDefined();
        expect((await store.getResults(job.id, 1, 1))[0].status).toBe('CANCELED');
      });

      it('refuses new claims once canceled but still reports stale entries', async () => {
        const job = await created(4);
        await store.claimEntries(job.id, [0], TOKEN);
        await store.finishPending(job.id, { status: 'CANCELED', cancel: true });
        expect(await store.claimEntries(job.id, [0, 1, 2], OTHER)).toEqual({
          claimed: [],
          stale: [0],
          refused: 'canceled',
        });
      });

      it('finishes a cancel at once when nothing is in flight', async () => {
        const job = await created(3);
        const out = await store.finishPending(job.id, { status: 'CANCELED', cancel: true });
        expect(out?.finished).toBe(true);
        expect(out?.job).toMatchObject({ status: 'canceled', counts: { canceled: 3, pending: 0 } });
        expect(out?.job.completedAt).toBeDefined();
      });

      it('fails the waiting entries with a job-fatal status without canceling the job', async () => {
        const job = await created(5);
        await store.claimEntries(job.id, [0, 1], TOKEN);
        await store.recordResults(job.id, [{ index: 0, status: 'MAIL_FROM_DOMAIN_NOT_VERIFIED', attempts: 1 }]);
        const out = await store.finishPending(job.id, {
          status: 'MAIL_FROM_DOMAIN_NOT_VERIFIED',
          error: err('MAIL_FROM_DOMAIN_NOT_VERIFIED', 'MAIL FROM domain is not verified'),
        });
        expect(out?.finished).toBe(false);
        expectConsistent(expect, out?.job ?? null);
        expect(out?.job).toMatchObject({ status: 'sending', counts: { failed: 4, pending: 1 } });
        const results = await store.getResults(job.id, -1, 5);
        expect(results[1].status).toBe('PENDING');
        expect(results[4]).toEqual({
          index: 4,
          status: 'MAIL_FROM_DOMAIN_NOT_VERIFIED',
          error: err('MAIL_FROM_DOMAIN_NOT_VERIFIED', 'MAIL FROM domain is not verified'),
          attempts: 0,
        });
        const last = await store.recordResults(job.id, [success(1)]);
        expect(last.finished).toBe(true);
        expect(last.job.status).toBe('completed');
      });

      it('changes nothing on a finished job and answers null for an unknown one', async () => {
        const job = await created(1);
        await store.claimEntries(job.id, [0], TOKEN);
        await store.recordResults(job.id, [success(0)]);
        const out = await store.finishPending(job.id, { status: 'CANCELED', cancel: true });
        expect(out?.finished).toBe(false);
        expect(out?.job).toMatchObject({ status: 'completed', counts: { sent: 1, canceled: 0 } });
        expect(await store.finishPending('no-such-job', { status: 'CANCELED', cancel: true })).toBeNull();
      });
    });

    describe('claim tokens and release', () => {
      it('a claim again with the same token is harmless; another token sees the entries as stale', async () => {
        const job = await created(3);
        expect(await store.claimEntries(job.id, [0, 1], TOKEN)).toEqual({ claimed: [0, 1], stale: [] });
        expect(await store.claimEntries(job.id, [0, 1, 2], TOKEN)).toEqual({ claimed: [0, 1, 2], stale: [] });
        expect(await store.claimEntries(job.id, [1, 2], OTHER)).toEqual({ claimed: [], stale: [1, 2] });
        const got = await store.getJob(job.id);
        expectConsistent(expect, got);
        expect(got.counts.pending).toBe(3);
      });

      it('releases only the entries in flight under its token, back to PENDING and claimable', async () => {
        const job = await created(4);
        await store.claimEntries(job.id, [0, 1], TOKEN);
        await store.claimEntries(job.id, [2], OTHER);
        await store.recordResults(job.id, [success(1)]);
        expect(await store.releaseEntries(job.id, TOKEN)).toBe(1);
        expect(await store.releaseEntries(job.id, TOKEN)).toBe(0);
        expect(await store.releaseEntries('no-such-job', TOKEN)).toBe(0);
        expect((await store.getResults(job.id, -1, 4)).map((r) => r.status)).toEqual([
          'PENDING',
          'SUCCESS',
          'PENDING',
          'PENDING',
        ]);
        expect(await store.claimEntries(job.id, [0, 2, 3], 'lease-3')).toEqual({ claimed: [0, 3], stale: [2] });
      });

      it('keeps an entry’s attempts and last error through a release', async () => {
        const job = await created(1);
        await store.claimEntries(job.id, [0], TOKEN);
        await store.recordResults(job.id, [{ index: 0, status: 'PENDING', error: err('SES_THROTTLED'), attempts: 2 }]);
        await store.claimEntries(job.id, [0], OTHER);
        await store.releaseEntries(job.id, OTHER);
        expect(await store.getResults(job.id, -1, 1)).toEqual([
          { index: 0, status: 'PENDING', error: err('SES_THROTTLED'), attempts: 2 },
        ]);
      });

      it('entries released after a cancel end CANCELED, and the job finishes', async () => {
        const job = await created(3);
        await store.claimEntries(job.id, [0, 1], TOKEN);
        await store.finishPending(job.id, { status: 'CANCELED', error: err('CANCELED'), cancel: true });
        expect(await store.releaseEntries(job.id, TOKEN)).toBe(2);
        const got = await store.getJob(job.id);
        expectConsistent(expect, got);
        expect(got).toMatchObject({ status: 'canceled', counts: { canceled: 3, pending: 0 } });
        expect(got.completedAt).toBeDefined();
      });

      it('says why it claims nothing: paused, canceled, finished or gone', async () => {
        const paused = await created(2);
        await store.setPaused(paused.id, true);
        expect(await store.claimEntries(paused.id, [0], TOKEN)).toEqual({ claimed: [], stale: [], refused: 'paused' });
        const canceled = await created(1);
        await store.finishPending(canceled.id, { status: 'CANCELED', cancel: true });
        expect(await store.claimEntries(canceled.id, [0], TOKEN)).toMatchObject({ claimed: [], refused: 'canceled' });
        const done = await created(1);
        await store.claimEntries(done.id, [0], TOKEN);
        await store.recordResults(done.id, [success(0)]);
        expect(await store.claimEntries(done.id, [0], OTHER)).toMatchObject({ claimed: [], refused: 'finished' });
        const failed = await created(2);
        await store.failJob(failed.id, err('SES_CREDENTIALS'));
        expect(await store.claimEntries(failed.id, [0], TOKEN)).toMatchObject({ claimed: [], refused: 'finished' });
        expect(await store.claimEntries('no-such-job', [0], TOKEN)).toMatchObject({ claimed: [], refused: 'gone' });
      });

      it('a refused claim leaves nothing in flight under its token (an earlier try was applied)', async () => {
        const job = await created(3);
        await store.claimEntries(job.id, [0, 1], TOKEN); // applied, but its answer never arrived
        await store.setPaused(job.id, true);
        expect(await store.claimEntries(job.id, [0, 1], TOKEN)).toEqual({ claimed: [], stale: [], refused: 'paused' });
        expect((await store.getResults(job.id, -1, 3)).map((r) => r.status)).toEqual(['PENDING', 'PENDING', 'PENDING']);
        await store.setPaused(job.id, false);
        expect(await store.claimEntries(job.id, [0, 1], OTHER)).toEqual({ claimed: [0, 1], stale: [] });
      });
    });

    describe('failJob', () => {
      it('fails the job with its error; waiting entries FAILED with it, in-flight ones finish later', async () => {
        const job = await created(5);
        await store.claimEntries(job.id, [0, 1], TOKEN);
        const error = err('SES_CREDENTIALS', 'SES refused the credentials');
        const out = await store.failJob(job.id, error);
        expect(out?.finished).toBe(false);
        expectConsistent(expect, out?.job ?? null);
        expect(out?.job).toMatchObject({ status: 'failed', error, counts: { failed: 3, pending: 2 } });
        expect(await store.countActiveJobs(PRINCIPAL)).toBe(0);
        const results = await store.getResults(job.id, -1, 5);
        expect(results[4]).toEqual({ index: 4, status: 'FAILED', error, attempts: 0 });
        // A retry put back after the failure ends FAILED too; the last in-flight entry finishes the job.
        const retry = await store.recordResults(job.id, [
          { index: 0, status: 'PENDING', error: err('SES_THROTTLED'), attempts: 1 },
        ]);
        expect(retry.finished).toBe(false);
        expect((await store.getResults(job.id, -1, 1))[0]).toEqual({ index: 0, status: 'FAILED', error, attempts: 1 });
        const last = await store.recordResults(job.id, [success(1)]);
        expect(last.finished).toBe(true);
        expectConsistent(expect, last.job);
        expect(last.job).toMatchObject({ status: 'failed', error, counts: { sent: 1, failed: 4, pending: 0 } });
        expect(last.job.completedAt).toBeDefined();
        expect((await store.getJob(job.id))?.error).toEqual(error);
      });

      it('finishes at once when nothing is in flight, and never changes a final job', async () => {
        const job = await created(2, [{ index: 0, status: 'SUPPRESSED', error: err('SUPPRESSED'), attempts: 0 }]);
        const out = await store.failJob(job.id, err('SES_UNREACHABLE'));
        expect(out?.finished).toBe(true);
        expect(out?.job).toMatchObject({ status: 'failed', counts: { failed: 2, suppressed: 1, pending: 0 } });
        const again = await store.failJob(job.id, err('OTHER'));
        expect(again?.finished).toBe(false);
        expect(again?.job.error).toEqual(err('SES_UNREACHABLE'));
        const done = await created(1);
        await store.claimEntries(done.id, [0], TOKEN);
        await store.recordResults(done.id, [success(0)]);
        expect((await store.failJob(done.id, err('X')))?.job).toMatchObject({ status: 'completed' });
        expect((await store.getJob(done.id))?.error).toBeUndefined();
        expect(await store.failJob('no-such-job', err('X'))).toBeNull();
      });
    });

    describe('pause and schedule', () => {
      it('pauses a queued job and resumes it to queued; a sending one back to sending', async () => {
        const job = await created(3);
        const paused = await store.setPaused(job.id, true);
        expect(paused).toMatchObject({ status: 'paused', pausedReason: 'USER' });
        expect(await store.countActiveJobs(PRINCIPAL)).toBe(1);
        const resumed = await store.setPaused(job.id, false);
        expect(resumed?.status).toBe('queued');
        expect(resumed?.pausedReason).toBeUndefined();
        await store.claimEntries(job.id, [0], TOKEN);
        expect((await store.setPaused(job.id, true, 'REPUTATION'))?.pausedReason).toBe('REPUTATION');
        expect((await store.setPaused(job.id, false))?.status).toBe('sending');
      });

      it('lets calls in flight finish while paused; resume continues with exactly the rest', async () => {
        const job = await created(6);
        await store.claimEntries(job.id, [0, 1, 2], TOKEN);
        await store.setPaused(job.id, true);
        const during = await store.recordResults(job.id, [success(0), success(1), success(2)]);
        expect(during.job.status).toBe('paused');
        expect(await store.claimEntries(job.id, [3, 4, 5], OTHER)).toMatchObject({ claimed: [], refused: 'paused' });
        await store.setPaused(job.id, false);
        expect(await store.claimEntries(job.id, [0, 1, 2, 3, 4, 5], 'lease-3')).toEqual({
          claimed: [3, 4, 5],
          stale: [],
        });
        const last = await store.recordResults(job.id, [success(3), success(4), success(5)]);
        expect(last.finished).toBe(true);
        expect(last.job).toMatchObject({ status: 'completed', counts: { sent: 6, pending: 0 } });
      });

      it('a paused job whose last entries finish in flight completes', async () => {
        const job = await created(2);
        await store.claimEntries(job.id, [0, 1], TOKEN);
        await store.setPaused(job.id, true);
        const out = await store.recordResults(job.id, [success(0), success(1)]);
        expect(out.finished).toBe(true);
        expect(out.job.status).toBe('completed');
        expect(out.job.pausedReason).toBeUndefined();
        expect(await store.countActiveJobs(PRINCIPAL)).toBe(0);
      });

      it('leaves final jobs as they are and answers null for an unknown one', async () => {
        const job = await created(1);
        await store.finishPending(job.id, { status: 'CANCELED', cancel: true });
        expect((await store.setPaused(job.id, true))?.status).toBe('canceled');
        expect((await store.setPaused(job.id, false))?.status).toBe('canceled');
        expect(await store.setPaused('no-such-job', true)).toBeNull();
      });

      it('stores a scheduled job with its send time; resume goes back to scheduled while it is ahead', async () => {
        const ahead = new Date(Date.now() + 3_600_000).toISOString();
        const job = await created(2, [], { status: 'scheduled', sendAt: ahead });
        expect(await store.getJob(job.id)).toMatchObject({ status: 'scheduled', sendAt: ahead });
        expect(await store.countActiveJobs(PRINCIPAL)).toBe(1);
        await store.setPaused(job.id, true);
        expect((await store.setPaused(job.id, false))?.status).toBe('scheduled');
        const past = await created(2, [], { status: 'scheduled', sendAt: new Date(Date.now() - 1000).toISOString() });
        await store.setPaused(past.id, true);
        expect((await store.setPaused(past.id, false))?.status).toBe('queued');
      });

      it('the first claim of a scheduled job makes it sending', async () => {
        const job = await created(2, [], { status: 'scheduled', sendAt: new Date().toISOString() });
        await store.claimEntries(job.id, [0], TOKEN);
        expect((await store.getJob(job.id))?.status).toBe('sending');
      });
    });

    describe('listJobs', () => {
      /** `n` jobs of PRINCIPAL created one second apart (oldest first); `at` ms of the first. */
      async function series(n: number, at = Date.parse('2026-01-01T00:00:00.000Z')) {
        const jobs: JobRecord[] = [];
        for (let i = 0; i < n; i++) {
          const createdAt = new Date(at + i * 1000).toISOString();
          jobs.push(await created(1, [], { createdAt, updatedAt: createdAt }));
        }
        return jobs;
      }
      const ids = (jobs: JobRecord[]) => jobs.map((j) => j.id);

      it("lists only the principal's jobs, newest first, as records", async () => {
        const jobs = await series(3);
        await created(1, [], { principalId: `other-${randomUUID()}` });
        const page = await store.listJobs(PRINCIPAL, { limit: 10 });
        expect(ids(page.jobs)).toEqual(ids(jobs).reverse());
        expect(page.next).toBeNull();
        expect(page.jobs[0]).toMatchObject({ principalId: PRINCIPAL, status: 'queued', entries: 1 });
        expect(await store.listJobs(`nobody-${randomUUID()}`, { limit: 10 })).toEqual({ jobs: [], next: null });
      });

      it('pages with `after`, every job exactly once, and no next position after the last page', async () => {
        const jobs = await series(7);
        // two jobs in the same millisecond are ordered by id
        const at = new Date(Date.parse(jobs[6].createdAt) + 1000).toISOString();
        jobs.push(await created(1, [], { createdAt: at, updatedAt: at }));
        jobs.push(await created(1, [], { createdAt: at, updatedAt: at }));
        const seen: string[] = [];
        let after = null;
        for (let page = 0; page < 10; page++) {
          const got: Awaited<ReturnType<Store['listJobs']>> = await store.listJobs(PRINCIPAL, { after, limit: 3 });
          seen.push(...ids(got.jobs));
          after = got.next;
          if (!after) break;
          expect(got.jobs).toHaveLength(3);
        }
        expect(after).toBeNull();
        expect(seen).toHaveLength(9);
        expect(new Set(seen).size).toBe(9);
        const sameMs = [jobs[7].id, jobs[8].id].sort().reverse();
        expect(seen.slice(0, 2)).toEqual(sameMs);
        expect(seen.slice(2)).toEqual(ids(jobs.slice(0, 7)).reverse());
        // exactly `limit` jobs left: the page ends without a next position
        const last = await store.listJobs(PRINCIPAL, { limit: 9 });
        expect(last.jobs).toHaveLength(9);
        expect(last.next).toBeNull();
      });

      it('filters by status, looking at no more than scanLimit jobs per page', async () => {
        const jobs = await series(6);
        await store.setPaused(jobs[1].id, true);
        await store.setPaused(jobs[4].id, true);
        await store.finishPending(jobs[2].id, { status: 'CANCELED', cancel: true });
        const paused = await store.listJobs(PRINCIPAL, { limit: 10, statuses: ['paused'] });
        expect(ids(paused.jobs)).toEqual([jobs[4].id, jobs[1].id]);
        expect(paused.jobs.every((j) => j.status === 'paused')).toBe(true);
        const two = await store.listJobs(PRINCIPAL, { limit: 10, statuses: ['paused', 'canceled'] });
        expect(ids(two.jobs)).toEqual([jobs[4].id, jobs[2].id, jobs[1].id]);
        // a scan of 3 sees jobs 5, 4, 3: one match, and a position to go on from
        const first = await store.listJobs(PRINCIPAL, { limit: 2, statuses: ['paused'], scanLimit: 3 });
        expect(ids(first.jobs)).toEqual([jobs[4].id]);
        expect(first.next).toEqual({ at: Date.parse(jobs[3].createdAt), id: jobs[3].id });
        const query = { after: first.next, limit: 2, statuses: ['paused' as const], scanLimit: 3 };
        const rest = await store.listJobs(PRINCIPAL, query);
        expect(ids(rest.jobs)).toEqual([jobs[1].id]);
        expect(rest.next).toBeNull();
        const none = await store.listJobs(PRINCIPAL, { limit: 10, statuses: ['failed'] });
        expect(none).toEqual({ jobs: [], next: null });
      });
    });

    describe('countActiveJobs', () => {
      it('counts queued and sending jobs per principal', async () => {
        const principal = `p-${randomUUID()}`;
        const other = `p-${randomUUID()}`;
        const a = await created(1, [], { principalId: principal });
        const b = await created(2, [], { principalId: principal });
        const c = await created(1, [], { principalId: other });
        expect(await store.countActiveJobs(principal)).toBe(2);
        expect(await store.countActiveJobs(other)).toBe(1);
        expect(await store.countActiveJobs(`p-${randomUUID()}`)).toBe(0);
        await store.claimEntries(b.id, [0], TOKEN);
        expect(await store.countActiveJobs(principal)).toBe(2);
        await store.finishPending(a.id, { status: 'CANCELED', cancel: true });
        expect(await store.countActiveJobs(principal)).toBe(1);
        await store.claimEntries(c.id, [0], TOKEN);
        await store.recordResults(c.id, [success(0)]);
        expect(await store.countActiveJobs(other)).toBe(0);
      });
    });

    describe('payload', () => {
      it('drops the payload of a finished job and keeps its results', async () => {
        const job = await created(2);
        await store.claimEntries(job.id, [0, 1], 't');
        await store.recordResults(job.id, [success(0)]);
        expect(await store.getPayload(job.id)).toEqual(payload);
        await store.recordResults(job.id, [success(1)]);
        expect(await store.getPayload(job.id)).toBeNull();
        expect((await store.getJob(job.id))?.status).toBe('completed');
        expect(await store.getResults(job.id, -1, 10)).toEqual([success(0), success(1)]);
      });

      it('drops the payload of a canceled job once nothing is in flight, and of a job final at creation', async () => {
        const job = await created(3);
        await store.claimEntries(job.id, [0], 't');
        await store.finishPending(job.id, { status: 'CANCELED', cancel: true });
        expect(await store.getPayload(job.id)).toEqual(payload); // entry 0 is still being sent
        await store.recordResults(job.id, [success(0)]);
        expect(await store.getPayload(job.id)).toBeNull();
        expect((await store.getResults(job.id, -1, 10)).map((r) => r.status)).toEqual([
          'SUCCESS',
          'CANCELED',
          'CANCELED',
        ]);
        const done = await created(1, [{ index: 0, status: 'SUPPRESSED', attempts: 0 }]);
        expect(await store.getPayload(done.id)).toBeNull();
      });
    });

    describe('per-principal limits (checked and counted as the job is created)', () => {
      const limits = (maxActiveJobs: number, maxQueuedRecipients = Number.POSITIVE_INFINITY) => ({
        limits: { maxActiveJobs, maxQueuedRecipients },
      });
      const createWith = (job: JobRecord, options: object) => store.createJob(job, payload, [], options);

      it('refuses a principal its next unfinished job past maxActiveJobs (429), others still served', async () => {
        await createWith(jobRecord(PRINCIPAL, 1), limits(2));
        await createWith(jobRecord(PRINCIPAL, 1), limits(2));
        const third = jobRecord(PRINCIPAL, 1);
        await expect(createWith(third, limits(2))).rejects.toMatchObject({
          code: 'RATE_LIMITED',
          status: 429,
          retryAfter: expect.any(Number),
        });
        expect(await store.getJob(third.id)).toBeNull();
        await createWith(jobRecord(`other-${randomUUID()}`, 1), limits(2));
        expect(await store.countActiveJobs(PRINCIPAL)).toBe(2);
      });

      it('refuses past maxQueuedRecipients, and frees the room when jobs finish or are canceled', async () => {
        const a = jobRecord(PRINCIPAL, 3); // 6 recipients
        const b = jobRecord(PRINCIPAL, 2); // 4 recipients
        await createWith(a, limits(100, 10));
        await createWith(b, limits(100, 10));
        await expect(createWith(jobRecord(PRINCIPAL, 1), limits(100, 10))).rejects.toMatchObject({
          code: 'RATE_LIMITED',
        });
        await store.finishPending(b.id, { status: 'CANCELED', cancel: true });
        await createWith(jobRecord(PRINCIPAL, 2), limits(100, 10));
        await store.claimEntries(a.id, [0, 1, 2], 't');
        await store.recordResults(a.id, [success(0), success(1), success(2)]);
        await createWith(jobRecord(PRINCIPAL, 3), limits(100, 10));
        await expect(createWith(jobRecord(PRINCIPAL, 1), limits(100, 10))).rejects.toMatchObject({
          code: 'RATE_LIMITED',
        });
      });

      it('lets exactly maxActiveJobs of many simultaneous creations through', async () => {
        const outcomes = await Promise.allSettled(
          range(0, 12).map(() => createWith(jobRecord(PRINCIPAL, 1), limits(5))),
        );
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(5);
        expect(await store.countActiveJobs(PRINCIPAL)).toBe(5);
      });

      it('does not count a job that is final at creation', async () => {
        await createWith(jobRecord(PRINCIPAL, 1), limits(1));
        const done = jobRecord(PRINCIPAL, 1);
        await store.createJob(done, payload, [{ index: 0, status: 'SUPPRESSED', attempts: 0 }], limits(1));
        expect((await store.getJob(done.id))?.status).toBe('completed');
      });
    });

    describe('idempotency', () => {
      const key = () => `idem-${randomUUID()}`;

      it('claims once, then answers in flight, mismatch and replay', async () => {
        const k = key();
        expect(await store.claimIdempotency(k, 'fp-1', 60_000)).toEqual({ state: 'new' });
        expect(await store.claimIdempotency(k, 'fp-1', 60_000)).toEqual({ state: 'in_flight' });
        expect(await store.claimIdempotency(k, 'fp-2', 60_000)).toEqual({ state: 'mismatch' });
        const response = {
          status: 202,
          body: { success: true, data: { id: 'job-1', created_at: '2026-01-01T00:00:00.000Z' } },
        };
        await store.completeIdempotency(k, 'fp-1', response, 60_000);
        expect(await store.claimIdempotency(k, 'fp-1', 60_000)).toEqual({ state: 'replay', response });
        expect(await store.claimIdempotency(k, 'fp-2', 60_000)).toEqual({ state: 'mismatch' });
      });

      it('gives exactly one of many simultaneous claims the key', async () => {
        const k = key();
        const claims = await Promise.all(range(0, 20).map(() => store.claimIdempotency(k, 'fp', 60_000)));
        expect(claims.filter((c) => c.state === 'new')).toHaveLength(1);
        expect(claims.filter((c) => c.state === 'in_flight')).toHaveLength(19);
      });

      it('frees a released key for the next request', async () => {
        const k = key();
        await store.claimIdempotency(k, 'fp-1', 60_000);
        await store.releaseIdempotency(k);
        expect(await store.claimIdempotency(k, 'fp-2', 60_000)).toEqual({ state: 'new' });
      });

      it('forgets claims and responses after their TTL', async () => {
        const inFlight = key();
        const done = key();
        await store.claimIdempotency(inFlight, 'fp', 60);
        await store.claimIdempotency(done, 'fp', 60);
        await store.completeIdempotency(done, 'fp', { status: 202, body: {} }, 60);
        await sleep(150);
        expect(await store.claimIdempotency(inFlight, 'fp', 60_000)).toEqual({ state: 'new' });
        expect(await store.claimIdempotency(done, 'other', 60_000)).toEqual({ state: 'new' });
      });
    });

    it('handles a 10,000-entry job end to end', async () => {
      const n = 10_000;
      const job = await created(n, [{ index: 9_999, status: 'SUPPRESSED', attempts: 0 }]);
      let finished = 0;
      for (let c = 0; c < n; c += 50) {
        const indexes = range(c, Math.min(c + 50, n));
        const { claimed } = await store.claimEntries(job.id, indexes, TOKEN);
        const out = await store.recordResults(
          job.id,
          claimed.map((i) => success(i)),
        );
        if (out.finished) finished++;
      }
      expect(finished).toBe(1);
      const got = await store.getJob(job.id);
      expectConsistent(expect, got);
      expect(got).toMatchObject({ status: 'completed', counts: { sent: 9_999, failed: 1, suppressed: 1, pending: 0 } });
      const all: EntryResult[] = [];
      for (let after = -1; ; ) {
        const page = await store.getResults(job.id, after, 1000);
        if (page.length === 0) break;
        all.push(...page);
        after = page[page.length - 1].index;
      }
      expect(all).toHaveLength(n);
      expect(all[1234]).toEqual(success(1234));
      expect(all[9_999].status).toBe('SUPPRESSED');
    });
  });
}
