// describeFeedbackContract(): the delivery-feedback part every Store must show (sent messages, suppression, guard, pauses).
import { randomUUID } from 'node:crypto';
import type { TestApi } from './test-api.js';
import type { DeliveryUpdate } from '../events/ses-event.js';
import type { EntryResult, Store, SuppressedAddress } from '../types.js';
import { jobRecord } from './store-contract.js';

const DAY = 86_400_000;
const payload = { content: { FromEmailAddress: 'sender@example.com', DefaultContent: {} } };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let keyCounter = 0;
/** A normalised SES event (as normaliseSesEvent makes them) for `messageId`. */
function update(messageId: string, over: Partial<DeliveryUpdate> = {}): DeliveryUpdate {
  keyCounter++;
  return {
    key: `k${keyCounter}-${randomUUID().slice(0, 8)}`,
    messageId,
    type: 'Delivery',
    at: '2026-12-01T12:00:00.000Z',
    recipients: ['a0@example.com'],
    status: 'DELIVERED',
    detail: { smtpResponse: '250 ok' },
    ...over,
  };
}

const suppression = (address: string, at = '2026-12-01T12:00:00.000Z'): SuppressedAddress => ({
  address,
  reason: 'BOUNCE',
  at,
  messageId: `m-${address}`,
});

export function describeFeedbackContract(t: TestApi, name: string, makeStore: () => Store | Promise<Store>): void {
  const { afterEach, beforeEach, describe, expect, it } = t;
  describe(`Store contract, delivery feedback: ${name}`, () => {
    let store: Store;
    let principal: string;
    let list: string;
    beforeEach(async () => {
      principal = `principal-${randomUUID()}`;
      list = `p:${principal}`;
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
    });

    /** A job of `n` entries (two addresses each) whose entries all went out: message ids `<job>-<index>`. */
    async function sentJob(n: number, retentionMs = DAY, guardWindowMs?: number) {
      const job = jobRecord(principal, n);
      const recipients = Array.from({ length: n }, (_, i) => [`a${i}@example.com`, `Name <B${i}@Example.com>`]);
      await store.createJob(job, payload, [], { recipients });
      const indexes = Array.from({ length: n }, (_, i) => i);
      await store.claimEntries(job.id, indexes, 't');
      const results: EntryResult[] = indexes.map((index) => ({
        index,
        status: 'SUCCESS',
        messageId: `${job.id}-${index}`,
        attempts: 1,
      }));
      await store.recordResults(job.id, results, { messageRetentionMs: retentionMs, guardWindowMs });
      return { job, results, recipients };
    }

    describe('recipients and sent messages', () => {
      it('keeps each entry’s recipients with the job and shows them in results', async () => {
        const job = jobRecord(principal, 3);
        const recipients = [['a@example.com'], ['b@example.com', 'C <c@example.com>'], []];
        await store.createJob(job, payload, [{ index: 2, status: 'SUPPRESSED', attempts: 0 }], { recipients });
        const results = await store.getResults(job.id, -1, 10);
        expect(results.map((r) => r.recipients)).toEqual(recipients);
      });

      it('leaves nothing behind for a job the limits refuse', async () => {
        const job = jobRecord(principal, 1);
        await expect(
          store.createJob(job, payload, [], {
            recipients: [['a@example.com']],
            limits: { maxActiveJobs: 0, maxQueuedRecipients: 10 },
          }),
        ).rejects.toMatchObject({ code: 'RATE_LIMITED' });
        expect(await store.getJob(job.id)).toBeNull();
        expect(await store.getResults(job.id, -1, 10)).toEqual([]);
      });

      it('links each SUCCESS MessageId to its job, entry, principal and recipients', async () => {
        const { job, recipients } = await sentJob(3);
        const record = await store.recordDelivery(update(`${job.id}-1`));
        expect(record?.message).toEqual({
          messageId: `${job.id}-1`,
          jobId: job.id,
          index: 1,
          principalId: principal,
          recipients: recipients[1],
        });
        expect(record?.previous).toBeUndefined();
        expect(record?.outcome).toMatchObject({ duplicate: false, statusChanged: true });
      });

      it('knows no MessageId that was not linked: unknown, or recorded without a retention', async () => {
        const job = jobRecord(principal, 1);
        await store.createJob(job, payload, [], { recipients: [['a@example.com']] });
        await store.claimEntries(job.id, [0], 't');
        await store.recordResults(job.id, [{ index: 0, status: 'SUCCESS', messageId: `${job.id}-0`, attempts: 1 }]);
        expect(await store.recordDelivery(update(`${job.id}-0`))).toBeNull();
        expect(await store.recordDelivery(update('never-sent'))).toBeNull();
      });

      it('forgets a link after its retention', async () => {
        const { job } = await sentJob(1, 40);
        await sleep(120);
        expect(await store.recordDelivery(update(`${job.id}-0`))).toBeNull();
      });
    });

    describe('delivery state', () => {
      it('merges events, keeps the job’s delivered / bounced / complained counts, shows the state in results', async () => {
        const { job } = await sentJob(3);
        await store.recordDelivery(update(`${job.id}-0`));
        await store.recordDelivery(update(`${job.id}-1`));
        const bounce = update(`${job.id}-1`, {
          type: 'Bounce',
          status: 'BOUNCED',
          at: '2026-12-01T12:00:01.000Z',
          detail: { bounceType: 'Permanent', bounceSubType: 'General' },
        });
        const bounced = await store.recordDelivery(bounce);
        expect(bounced?.previous?.status).toBe('DELIVERED');
        expect(bounced?.outcome.state.status).toBe('BOUNCED');
        await store.recordDelivery(update(`${job.id}-2`, { type: 'Complaint', status: 'COMPLAINED', detail: {} }));
        expect((await store.getJob(job.id))?.counts).toMatchObject({
          sent: 3,
          delivered: 1,
          bounced: 1,
          complained: 1,
        });

        const again = await store.recordDelivery(bounce);
        expect(again?.outcome.duplicate).toBe(true);
        expect((await store.getJob(job.id))?.counts).toMatchObject({ delivered: 1, bounced: 1, complained: 1 });

        const results = await store.getResults(job.id, -1, 10);
        expect(results.map((r) => r.delivery?.status)).toEqual(['DELIVERED', 'BOUNCED', 'COMPLAINED']);
        expect(results[1].delivery).toMatchObject({
          at: '2026-12-01T12:00:01.000Z',
          detail: { bounceType: 'Permanent', bounceSubType: 'General' },
          opened: 0,
          clicked: 0,
        });
      });

      it('applies every one of many simultaneous events of one message (no lost update)', async () => {
        const { job } = await sentJob(1);
        const opens = Array.from({ length: 25 }, () =>
          update(`${job.id}-0`, { type: 'Open', status: undefined, detail: undefined, opened: true }),
        );
        await Promise.all(opens.map((u) => store.recordDelivery(u)));
        await Promise.all([
          store.recordDelivery(update(`${job.id}-0`)),
          store.recordDelivery(update(`${job.id}-0`, { type: 'Click', status: undefined, clicked: true })),
        ]);
        const [result] = await store.getResults(job.id, -1, 1);
        expect(result.delivery).toMatchObject({ status: 'DELIVERED', opened: 25, clicked: 1 });
        expect((await store.getJob(job.id))?.counts.delivered).toBe(1);
      });

      it('keeps a long delivery detail and non-ASCII text intact', async () => {
        const { job } = await sentJob(1);
        const diagnosticCode = `smtp; 550 5.1.1 ${'ü'.repeat(900)}`;
        await store.recordDelivery(
          update(`${job.id}-0`, { type: 'Bounce', status: 'BOUNCED', detail: { diagnosticCode } }),
        );
        const [result] = await store.getResults(job.id, -1, 1);
        expect(result.delivery?.detail?.diagnosticCode).toBe(diagnosticCode);
      });
    });

    describe('suppression lists', () => {
      it('adds new addresses only (the first reason stays), finds them, and lists them in address order', async () => {
        const added = await store.addSuppressions(
          list,
          [suppression('c@example.com'), suppression('a@example.com'), suppression('b@example.com')],
          100,
        );
        expect(added).toBe(3);
        expect(await store.addSuppressions(list, [{ address: 'a@example.com', reason: 'MANUAL', at: 'x' }], 100)).toBe(
          0,
        );
        const found = await store.findSuppressions(list, ['a@example.com', 'z@example.com', 'a@example.com']);
        expect(found).toEqual([suppression('a@example.com')]);
        const first = await store.listSuppressions(list, null, 2);
        expect(first.map((s) => s.address)).toEqual(['a@example.com', 'b@example.com']);
        const rest = await store.listSuppressions(list, 'b@example.com', 2);
        expect(rest).toEqual([suppression('c@example.com')]);
        expect(await store.listSuppressions(`p:other-${principal}`, null, 10)).toEqual([]);
        expect(await store.findSuppressions(`p:other-${principal}`, ['a@example.com'])).toEqual([]);
      });

      it('keeps an entry without a message id as it is', async () => {
        await store.addSuppressions(list, [{ address: 'm@example.com', reason: 'MANUAL', at: 'now' }], 10);
        expect(await store.listSuppressions(list, null, 10)).toEqual([
          { address: 'm@example.com', reason: 'MANUAL', at: 'now' },
        ]);
      });

      it('removes an address (true once, then false)', async () => {
        await store.addSuppressions(list, [suppression('a@example.com'), suppression('b@example.com')], 10);
        expect(await store.removeSuppression(list, 'a@example.com')).toBe(true);
        expect(await store.removeSuppression(list, 'a@example.com')).toBe(false);
        expect((await store.listSuppressions(list, null, 10)).map((s) => s.address)).toEqual(['b@example.com']);
      });

      it('drops the oldest addresses past the maximum', async () => {
        for (const address of ['q@example.com', 'a@example.com', 'm@example.com']) {
          await store.addSuppressions(list, [suppression(address)], 2);
          await sleep(3);
        }
        expect((await store.listSuppressions(list, null, 10)).map((s) => s.address)).toEqual([
          'a@example.com',
          'm@example.com',
        ]);
      });
    });

    describe('reputation guard counts and pauses', () => {
      const WINDOW = 3_600_000;

      it('counts the recipients of newly linked messages as sent, once', async () => {
        const { job, results } = await sentJob(3, DAY, WINDOW);
        // recorded again (a retried write): nothing more is counted
        await store.recordResults(job.id, results, { messageRetentionMs: DAY, guardWindowMs: WINDOW });
        const buckets = await store.addGuardCounts(principal, Date.now(), { bounced: 1 }, WINDOW);
        const total = (field: 'sent' | 'bounced') => buckets.reduce((n, b) => n + b[field], 0);
        expect(total('sent')).toBe(6);
        expect(total('bounced')).toBe(1);
        await store.resetGuard(principal, WINDOW);
        const after = await store.addGuardCounts(principal, Date.now(), {}, WINDOW);
        expect(after.reduce((n, b) => n + b.sent + b.bounced, 0)).toBe(0);
      });

      it('keeps buckets by time and adds nothing older than the window', async () => {
        const now = Date.now();
        await store.addGuardCounts(principal, now - 2 * WINDOW, { bounced: 5 }, WINDOW);
        await store.addGuardCounts(principal, now - WINDOW / 2, { delivered: 3 }, WINDOW);
        const buckets = await store.addGuardCounts(principal, now, { delivered: 2, complained: 1 }, WINDOW);
        expect(buckets.reduce((n, b) => n + b.bounced, 0)).toBe(0);
        expect(buckets.reduce((n, b) => n + b.delivered, 0)).toBe(5);
        expect(buckets.map((b) => b.start)).toEqual([...buckets.map((b) => b.start)].sort((a, b) => a - b));
        expect(buckets.length).toBe(2);
      });

      it('sets a pause once (true for exactly one caller) and clears it', async () => {
        const pause = {
          reason: 'BOUNCE_RATE' as const,
          at: '2026-12-01T12:00:00.000Z',
          bounceRate: 0.06,
          complaintRate: 0,
          messages: 500,
        };
        expect(await store.getPrincipalPause(principal)).toBeNull();
        const set = await Promise.all([1, 2, 3].map(() => store.setPrincipalPause(principal, pause)));
        expect(set.filter(Boolean)).toHaveLength(1);
        expect(await store.getPrincipalPause(principal)).toEqual(pause);
        expect(await store.setPrincipalPause(principal, null)).toBe(true);
        expect(await store.setPrincipalPause(principal, null)).toBe(false);
        expect(await store.getPrincipalPause(principal)).toBeNull();
      });

      it('lists the principal’s unfinished jobs only', async () => {
        const open = jobRecord(principal, 1);
        const paused = jobRecord(principal, 1);
        const done = jobRecord(principal, 1);
        const other = jobRecord(`other-${principal}`, 1);
        for (const j of [open, paused, done, other]) await store.createJob(j, payload, []);
        await store.setPaused(paused.id, true, 'REPUTATION');
        await store.finishPending(done.id, { status: 'CANCELED', cancel: true });
        expect((await store.activeJobIds(principal)).sort()).toEqual([open.id, paused.id].sort());
      });
    });

    it('marks ids seen once, for a while, and forgets them on request', async () => {
      const id = `sns-${randomUUID()}`;
      expect(await store.markSeen(id, 60_000)).toBe(false);
      expect(await store.markSeen(id, 60_000)).toBe(true);
      await store.forgetSeen(id);
      expect(await store.markSeen(id, 30)).toBe(false);
      await sleep(80);
      expect(await store.markSeen(id, 60_000)).toBe(false);
    });
  });
}
