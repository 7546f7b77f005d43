// deliveryFeedback(): SES events through the memory store — correlation, delivery state, suppression, events, the guard.
import { describe, expect, it } from 'vitest';
import { deliveryFeedback } from '../../../src/events/delivery-feedback.js';
import { DEFAULT_GUARD } from '../../../src/events/reputation-guard.js';
import { memoryStore } from '../../../src/stores/memory-store.js';
import type { BulkEmailEvent, Logger, Store } from '../../../src/types.js';
import { jobRecord } from '../../../src/testing/index.js';
import { eventBridge, sesEvent } from '../../helpers/ses-events.js';

const DAY = 86_400_000;
const payload = { content: { FromEmailAddress: 'sender@example.com', DefaultContent: {} } };

function harness(options: { guard?: boolean; scope?: 'principal' | 'account' } = {}) {
  const store = memoryStore();
  const events: BulkEmailEvent[] = [];
  const debug: object[] = [];
  const queue = { paused: [] as string[], resumed: [] as string[] };
  const logger: Logger = { debug: (o) => debug.push(o), info() {}, warn() {}, error() {} };
  const feedback = deliveryFeedback({
    store,
    queue: {
      pause: async (id) => {
        queue.paused.push(id);
      },
      resume: async (id) => {
        queue.resumed.push(id);
      },
    },
    clock: { now: () => Date.now() },
    logger,
    emit: (e) => events.push(e),
    guard: options.guard === false ? undefined : DEFAULT_GUARD,
    suppression: { scope: options.scope ?? 'principal', maxAddresses: 1000 },
  });
  return { store, events, debug, queue, feedback };
}

/** A job of `recipients.length` entries whose every entry SES accepted (message ids `<job>-<index>`). */
async function sentJob(store: Store, principalId: string, recipients: string[][]) {
  const job = jobRecord(principalId, recipients.length);
  await store.createJob(job, payload, [], { recipients });
  const indexes = recipients.map((_, i) => i);
  await store.claimEntries(job.id, indexes, 't');
  await store.recordResults(
    job.id,
    indexes.map((index) => ({ index, status: 'SUCCESS', messageId: `${job.id}-${index}`, attempts: 1 })),
    { messageRetentionMs: DAY, guardWindowMs: DEFAULT_GUARD.windowMs },
  );
  return { job, messageId: (index: number) => `${job.id}-${index}` };
}

async function unfinishedJob(store: Store, principalId: string) {
  const job = jobRecord(principalId, 1);
  await store.createJob(job, payload, [], { recipients: [['x@example.com']] });
  return job;
}

const types = (events: BulkEmailEvent[]) => events.map((e) => e.type);
const listed = async (store: Store, list: string) =>
  (await store.listSuppressions(list, null, 1000)).map((s) => `${s.address}:${s.reason}`);

describe('deliveryFeedback.ingest', () => {
  it('merges a hard bounce into its entry, suppresses only that entry’s recipients, reports it once', async () => {
    const h = harness();
    const { job, messageId } = await sentJob(h.store, 'alice', [['Ada <Ada@Example.org>', 'bob@example.org']]);
    const bounce = sesEvent('bounce-permanent', {
      messageId: messageId(0),
      recipients: ['ada@example.org', 'stranger@example.org'],
    });
    expect(await h.feedback.ingest(bounce)).toEqual({ outcome: 'recorded' });
    expect(await listed(h.store, 'p:alice')).toEqual(['ada@example.org:BOUNCE']);
    expect(types(h.events)).toEqual(['entry.delivery', 'entry.bounced']);
    expect(h.events[1]).toMatchObject({
      type: 'entry.bounced',
      jobId: job.id,
      principalId: 'alice',
      index: 0,
      messageId: messageId(0),
      bounceType: 'Permanent',
      bounceSubType: 'General',
    });

    // the same event again (SES or SNS repeats), and another bounce of the same entry: no second report
    expect(await h.feedback.ingest(bounce)).toEqual({ outcome: 'duplicate' });
    await h.feedback.ingest(sesEvent('bounce-permanent', { messageId: messageId(0), recipients: ['bob@example.org'] }));
    expect(types(h.events)).toEqual(['entry.delivery', 'entry.bounced', 'entry.delivery']);
    expect(await listed(h.store, 'p:alice')).toEqual(['ada@example.org:BOUNCE', 'bob@example.org:BOUNCE']);
    const [result] = await h.store.getResults(job.id, -1, 1);
    expect(result.delivery?.status).toBe('BOUNCED');
    expect((await h.store.getJob(job.id))?.counts).toMatchObject({ sent: 1, bounced: 1 });
    expect((await h.store.getJob(job.id))?.counts.delivered ?? 0).toBe(0);
  });

  it('keeps a bounce when the delivery that happened before it arrives after it', async () => {
    const h = harness();
    const { job, messageId } = await sentJob(h.store, 'alice', [['ada@example.org']]);
    const t = Date.now();
    await h.feedback.ingest(
      sesEvent('bounce-permanent', { messageId: messageId(0), recipients: ['ada@example.org'], at: t }),
    );
    await h.feedback.ingest(
      sesEvent('delivery', { messageId: messageId(0), recipients: ['ada@example.org'], at: t - 1000 }),
    );
    await h.feedback.ingest(sesEvent('delivery', { messageId: messageId(0), recipients: ['ada@example.org'] }));
    const [result] = await h.store.getResults(job.id, -1, 1);
    expect(result.delivery).toMatchObject({ status: 'BOUNCED', at: new Date(t).toISOString() });
    expect((await h.store.getJob(job.id))?.counts).toMatchObject({ bounced: 1 });
    expect((await h.store.getJob(job.id))?.counts.delivered ?? 0).toBe(0);
  });

  it('one notification naming several recipients of one entry suppresses each of them', async () => {
    const h = harness();
    const { messageId } = await sentJob(h.store, 'alice', [['a@example.org', 'b@example.org', 'c@example.org']]);
    await h.feedback.ingest(
      sesEvent('bounce-permanent', { messageId: messageId(0), recipients: ['a@example.org', 'c@example.org'] }),
    );
    expect(await listed(h.store, 'p:alice')).toEqual(['a@example.org:BOUNCE', 'c@example.org:BOUNCE']);
  });

  it('suppresses complaints and unsubscribe-all, not a soft bounce, not-spam or a delay', async () => {
    const h = harness();
    const { messageId } = await sentJob(h.store, 'alice', [
      ['c@example.org'],
      ['u@example.org'],
      ['soft@example.org'],
      ['ns@example.org'],
      ['late@example.org'],
    ]);
    const to = (index: number, address: string) => ({ messageId: messageId(index), recipients: [address] });
    await h.feedback.ingest(sesEvent('complaint', to(0, 'c@example.org')));
    await h.feedback.ingest(sesEvent('subscription-unsubscribe-all', to(1, 'u@example.org')));
    await h.feedback.ingest(sesEvent('bounce-transient', to(2, 'soft@example.org')));
    await h.feedback.ingest(sesEvent('complaint-not-spam', to(3, 'ns@example.org')));
    await h.feedback.ingest(sesEvent('delivery-delay', to(4, 'late@example.org')));
    expect(await listed(h.store, 'p:alice')).toEqual(['c@example.org:COMPLAINT', 'u@example.org:UNSUBSCRIBE']);
    expect(types(h.events).filter((t) => t !== 'entry.delivery')).toEqual(['entry.complained', 'entry.bounced']);
  });

  it('counts opens and clicks per distinct event', async () => {
    const h = harness();
    const { job, messageId } = await sentJob(h.store, 'alice', [['ada@example.org']]);
    const target = { messageId: messageId(0), recipients: ['ada@example.org'] };
    const open = sesEvent('open', target);
    await h.feedback.ingest(open);
    await h.feedback.ingest(open);
    await h.feedback.ingest(sesEvent('open', target));
    await h.feedback.ingest(sesEvent('click', target));
    const [result] = await h.store.getResults(job.id, -1, 1);
    expect(result.delivery).toMatchObject({ opened: 2, clicked: 1 });
    expect(result.delivery?.status).toBeUndefined();
    expect(h.events.filter((e) => e.type === 'entry.delivery')).toHaveLength(3);
  });

  it('takes an EventBridge event, an SQS body string and an SNS envelope', async () => {
    const h = harness();
    const { job, messageId } = await sentJob(h.store, 'alice', [
      ['a@example.org'],
      ['b@example.org'],
      ['c@example.org'],
    ]);
    const delivery = (i: number, address: string) =>
      sesEvent('delivery', { messageId: messageId(i), recipients: [address] });
    await h.feedback.ingest(eventBridge(delivery(0, 'a@example.org')));
    await h.feedback.ingest(JSON.stringify(delivery(1, 'b@example.org')));
    await h.feedback.ingest({ Type: 'Notification', Message: JSON.stringify(delivery(2, 'c@example.org')) });
    expect((await h.store.getJob(job.id))?.counts.delivered).toBe(3);
  });

  it('ignores an event whose message id it does not know, and one it cannot read, with a debug log', async () => {
    const h = harness();
    const unknown = sesEvent('bounce-permanent', { messageId: 'another-apps-message', recipients: ['a@example.org'] });
    expect(await h.feedback.ingest(unknown)).toEqual({ outcome: 'ignored', reason: 'unknown message id' });
    expect(await h.feedback.ingest({ eventType: 'Bounce' })).toMatchObject({ outcome: 'ignored' });
    expect(await h.feedback.ingest('not json')).toMatchObject({ outcome: 'ignored' });
    expect(h.debug).toHaveLength(3);
    expect(h.events).toEqual([]);
    expect(await listed(h.store, 'p:alice')).toEqual([]);
  });

  it('suppresses again on a repeat (a process that stopped after the merge loses nothing)', async () => {
    const h = harness();
    const { messageId } = await sentJob(h.store, 'alice', [['ada@example.org']]);
    const bounce = sesEvent('bounce-permanent', { messageId: messageId(0), recipients: ['ada@example.org'] });
    await h.feedback.ingest(bounce);
    await h.store.removeSuppression('p:alice', 'ada@example.org'); // as if the list write had been lost
    expect(await h.feedback.ingest(bounce)).toEqual({ outcome: 'duplicate' });
    expect(await listed(h.store, 'p:alice')).toEqual(['ada@example.org:BOUNCE']);
  });

  it('puts every principal’s suppressions on one list with scope account', async () => {
    const h = harness({ scope: 'account' });
    const a = await sentJob(h.store, 'alice', [['a@example.org']]);
    const b = await sentJob(h.store, 'bob', [['b@example.org']]);
    await h.feedback.ingest(sesEvent('complaint', { messageId: a.messageId(0), recipients: ['a@example.org'] }));
    await h.feedback.ingest(sesEvent('complaint', { messageId: b.messageId(0), recipients: ['b@example.org'] }));
    expect(await listed(h.store, '*')).toEqual(['a@example.org:COMPLAINT', 'b@example.org:COMPLAINT']);
    expect(h.feedback.listOf('alice')).toBe(h.feedback.listOf('bob'));
  });
});

describe('the reputation guard through ingest', () => {
  /** 500 one-recipient entries sent for `principal`, and helpers to bounce the first n. */
  async function bulk(h: ReturnType<typeof harness>, principal: string) {
    const recipients = Array.from({ length: 500 }, (_, i) => [`r${i}@example.org`]);
    const sent = await sentJob(h.store, principal, recipients);
    const bounce = (i: number) =>
      h.feedback.ingest(
        sesEvent('bounce-permanent', { messageId: sent.messageId(i), recipients: [`r${i}@example.org`] }),
      );
    return { ...sent, bounce };
  }

  it('pauses a principal at 25 hard bounces in 500 (5 %), not at 24, once; other principals are left alone', async () => {
    const h = harness();
    const sent = await bulk(h, 'alice');
    const open = await unfinishedJob(h.store, 'alice');
    const mine = await unfinishedJob(h.store, 'alice');
    await h.store.setPaused(mine.id, true, 'USER');
    const others = await unfinishedJob(h.store, 'bob');

    for (let i = 0; i < 24; i++) await sent.bounce(i);
    expect(await h.feedback.guard.pauseOf('alice')).toBeNull();
    expect(types(h.events)).not.toContain('principal.paused');

    await sent.bounce(24);
    const paused = h.events.filter((e) => e.type === 'principal.paused');
    expect(paused).toHaveLength(1);
    expect(paused[0]).toMatchObject({
      principalId: 'alice',
      reason: 'BOUNCE_RATE',
      bounceRate: 0.05,
      messages: 500,
      jobIds: [open.id],
      jobId: sent.job.id,
      index: 24,
    });
    expect(await h.feedback.guard.pauseOf('alice')).toMatchObject({ reason: 'BOUNCE_RATE', bounceRate: 0.05 });
    expect(await h.store.getJob(open.id)).toMatchObject({ status: 'paused', pausedReason: 'REPUTATION' });
    expect(await h.store.getJob(mine.id)).toMatchObject({ status: 'paused', pausedReason: 'USER' });
    expect(await h.store.getJob(others.id)).toMatchObject({ status: 'queued' });
    expect(h.queue.paused).toEqual([open.id]);

    await sent.bounce(25);
    expect(h.events.filter((e) => e.type === 'principal.paused')).toHaveLength(1);
  });

  it('resume lifts the pause, starts the counts afresh and resumes only the jobs the guard paused', async () => {
    const h = harness();
    const sent = await bulk(h, 'alice');
    const open = await unfinishedJob(h.store, 'alice');
    const mine = await unfinishedJob(h.store, 'alice');
    await h.store.setPaused(mine.id, true, 'USER');
    for (let i = 0; i < 25; i++) await sent.bounce(i);
    expect(await h.feedback.guard.pauseOf('alice')).not.toBeNull();

    expect(await h.feedback.guard.resume('alice')).toEqual({ wasPaused: true, jobIds: [open.id] });
    expect(await h.feedback.guard.pauseOf('alice')).toBeNull();
    expect(await h.store.getJob(open.id)).toMatchObject({ status: 'queued' });
    expect(await h.store.getJob(mine.id)).toMatchObject({ status: 'paused', pausedReason: 'USER' });
    expect(h.queue.resumed).toEqual([open.id]);
    // the window starts afresh: the next bounce alone does not pause again (no 500 messages known)
    await sent.bounce(30);
    expect(await h.feedback.guard.pauseOf('alice')).toBeNull();
    expect(await h.feedback.guard.resume('alice')).toEqual({ wasPaused: false, jobIds: [] });
  });

  it('pauses on complaints at 0.1 %', async () => {
    const h = harness();
    const recipients = Array.from({ length: 1000 }, (_, i) => [`r${i}@example.org`]);
    const sent = await sentJob(h.store, 'alice', recipients);
    await h.feedback.ingest(sesEvent('complaint', { messageId: sent.messageId(7), recipients: ['r7@example.org'] }));
    expect(await h.feedback.guard.pauseOf('alice')).toMatchObject({ reason: 'COMPLAINT_RATE', messages: 1000 });
  });

  it('holds a job stored while its principal was being paused, and counts nothing with the guard off', async () => {
    const h = harness();
    const sent = await bulk(h, 'alice');
    for (let i = 0; i < 25; i++) await sent.bounce(i);
    const late = await unfinishedJob(h.store, 'alice');
    expect(await h.feedback.guard.holdIfPaused(late)).toMatchObject({ status: 'paused', pausedReason: 'REPUTATION' });

    const off = harness({ guard: false });
    const quiet = await bulk(off, 'alice');
    for (let i = 0; i < 100; i++) await quiet.bounce(i);
    expect(await off.feedback.guard.pauseOf('alice')).toBeNull();
    const job = await unfinishedJob(off.store, 'alice');
    expect(await off.feedback.guard.holdIfPaused(job)).toBe(job);
  });
});
